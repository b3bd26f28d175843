import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

import { RUNNER_SCHEMA } from './runner-schema';

/** `runner.planned_restarts`: one relaunch per ended runner. Mirrors migration 1764610000000. */
@Entity({ name: 'planned_restarts', schema: RUNNER_SCHEMA })
@Index('uq_planned_restarts_runner', ['runnerId'], { unique: true })
@Index('ix_planned_restarts_due', ['restartAt'], { where: `state = 'scheduled'` })
export class PlannedRestartEntity {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_planned_restarts' })
  id!: string;

  @Column({ name: 'runner_id', type: 'uuid' })
  runnerId!: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId!: string;

  @Column({ type: 'integer' })
  attempt!: number;

  @Column({ name: 'restart_at', type: 'timestamptz' })
  restartAt!: Date;

  @Column({ type: 'text' })
  reason!: string;

  @Column({ name: 'resume_session_id', type: 'text', nullable: true })
  resumeSessionId!: string | null;

  @Column({ type: 'text' })
  state!: string;

  @Column({ name: 'replacement_id', type: 'uuid', nullable: true })
  replacementId!: string | null;

  @Column({ type: 'text', nullable: true })
  detail!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
