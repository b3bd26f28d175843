import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

import { RUNNER_SCHEMA } from './runner-schema';

/** `runner.worktrees`: the git worktree made for a runner. Mirrors migration 1764700000000. */
@Entity({ name: 'worktrees', schema: RUNNER_SCHEMA })
@Index('ix_worktrees_project', ['projectId', 'createdAt'])
export class WorktreeEntity {
  @PrimaryColumn({ name: 'runner_id', type: 'uuid', primaryKeyConstraintName: 'pk_worktrees' })
  runnerId!: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId!: string;

  @Column({ type: 'text' })
  host!: string;

  @Column({ type: 'text' })
  repository!: string;

  @Column({ type: 'text' })
  path!: string;

  @Column({ type: 'text' })
  branch!: string;

  @Column({ name: 'base_commit', type: 'text' })
  baseCommit!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'removed_at', type: 'timestamptz', nullable: true })
  removedAt!: Date | null;
}
