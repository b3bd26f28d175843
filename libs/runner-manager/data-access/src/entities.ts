import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

import { PlannedRestartEntity } from './planned-restart.entity';
import { RUNNER_SCHEMA } from './runner-schema';
import { WorktreeEntity } from './worktree.entity';

/** `runner.projects`. Mirrors migrations 1764100000000 and 1764400000000. */
@Entity({ name: 'projects', schema: RUNNER_SCHEMA })
@Index('uq_projects_name_active', ['name'], { unique: true, where: 'archived_at IS NULL' })
export class ProjectEntity {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_projects' })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  path!: string;

  @Column({ type: 'text', default: '' })
  description!: string;

  @Column({ type: 'text', array: true })
  command!: string[];

  @Column({ name: 'max_runners', type: 'integer' })
  maxRunners!: number;

  /** `[{ name, value, secret }]`; secret values are redacted by the API, never here. */
  @Column({ type: 'jsonb', default: () => `'[]'::jsonb` })
  env!: Array<{ name: string; value: string; secret: boolean }>;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'archived_at', type: 'timestamptz', nullable: true })
  archivedAt!: Date | null;

  /** Default launch estimate (bigint, read as a string). */
  @Column({ name: 'estimate_tokens', type: 'bigint', nullable: true })
  estimateTokens!: string | null;

  /** Default launch estimate in USD (numeric(18, 6), read as a string). */
  @Column({ name: 'estimate_usd', type: 'numeric', precision: 18, scale: 6, nullable: true })
  estimateUsd!: string | null;
}

/** `runner.runners`. bigint columns are read as strings and converted by the repository. */
@Entity({ name: 'runners', schema: RUNNER_SCHEMA })
@Index('ix_runners_project_active', ['projectId', 'state'], {
  where: `state IN ('pending', 'starting', 'running', 'waiting', 'idle', 'stopping')`,
})
@Index('ix_runners_created_at', ['createdAt'])
@Index('uq_runners_token_hash', ['tokenHash'], { unique: true })
@Index('ix_runners_worktree', ['worktreeId'], { where: 'worktree_id IS NOT NULL' })
export class RunnerEntity {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_runners' })
  id!: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId!: string;

  @Column({ type: 'text' })
  state!: string;

  @Column({ name: 'desired_state', type: 'text' })
  desiredState!: string;

  @Column({ type: 'text' })
  mode!: string;

  @Column({ type: 'text', array: true })
  command!: string[];

  @Column({ type: 'text', nullable: true })
  prompt!: string | null;

  @Column({ name: 'token_hash', type: 'char', length: 64 })
  tokenHash!: string;

  @Column({ type: 'integer', nullable: true })
  pid!: number | null;

  @Column({ name: 'agent_pid', type: 'integer', nullable: true })
  agentPid!: number | null;

  @Column({ type: 'text', nullable: true })
  host!: string | null;

  @Column({ name: 'exit_code', type: 'integer', nullable: true })
  exitCode!: number | null;

  @Column({ type: 'text', nullable: true })
  signal!: string | null;

  @Column({ name: 'failure_reason', type: 'text', nullable: true })
  failureReason!: string | null;

  @Column({ name: 'session_id', type: 'text', nullable: true })
  sessionId!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'ended_at', type: 'timestamptz', nullable: true })
  endedAt!: Date | null;

  @Column({ name: 'last_heartbeat_at', type: 'timestamptz', nullable: true })
  lastHeartbeatAt!: Date | null;

  @Column({ name: 'last_heartbeat_seq', type: 'bigint', nullable: true })
  lastHeartbeatSeq!: string | null;

  @Column({ name: 'cpu_percent', type: 'double precision', nullable: true })
  cpuPercent!: number | null;

  @Column({ name: 'memory_bytes', type: 'bigint', nullable: true })
  memoryBytes!: string | null;

  @Column({ name: 'input_tokens', type: 'bigint', default: 0 })
  inputTokens!: string;

  @Column({ name: 'output_tokens', type: 'bigint', default: 0 })
  outputTokens!: string;

  @Column({ name: 'cache_creation_tokens', type: 'bigint', default: 0 })
  cacheCreationTokens!: string;

  @Column({ name: 'cache_read_tokens', type: 'bigint', default: 0 })
  cacheReadTokens!: string;

  /** Origin and restart policy (migration 1764610000000). */
  @Column({ type: 'text', nullable: true })
  cwd!: string | null;

  @Column({ name: 'resumed_from', type: 'text', nullable: true })
  resumedFrom!: string | null;

  @Column({ name: 'restart_policy', type: 'text', default: 'no' })
  restartPolicy!: string;

  @Column({ name: 'max_restarts', type: 'integer', default: 0 })
  maxRestarts!: number;

  @Column({ name: 'restart_of', type: 'uuid', nullable: true })
  restartOf!: string | null;

  @Column({ type: 'integer', default: 0 })
  restarts!: number;

  /** The Claude session's result (`{ subtype, isError, resumable, resumeAt }`). */
  @Column({ name: 'session_result', type: 'jsonb', nullable: true })
  sessionResult!: {
    subtype: string;
    isError: boolean;
    resumable: boolean;
    resumeAt: string | null;
  } | null;

  /** The worktree it works in: all four set or none (migration 1764700000000). */
  @Column({ name: 'worktree_id', type: 'uuid', nullable: true })
  worktreeId!: string | null;

  @Column({ name: 'worktree_path', type: 'text', nullable: true })
  worktreePath!: string | null;

  @Column({ name: 'worktree_branch', type: 'text', nullable: true })
  worktreeBranch!: string | null;

  @Column({ name: 'worktree_base_commit', type: 'text', nullable: true })
  worktreeBaseCommit!: string | null;

  /** The session activity last applied, from Claude Code hooks (migration 1764710000000). */
  @Column({ type: 'jsonb', nullable: true })
  activity!: {
    state: 'working' | 'waiting' | 'idle';
    reason: string;
    message: string | null;
    since: string;
  } | null;

  /** Started by the user's CLI in a terminal (`stratavore run`). */
  @Column({ type: 'boolean', default: false })
  attached!: boolean;
}

/** `runner.queued_launches`: FIFO per project by `position`. */
@Entity({ name: 'queued_launches', schema: RUNNER_SCHEMA })
@Index('uq_queued_launches_project_position', ['projectId', 'position'], { unique: true })
export class QueuedLaunchEntity {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_queued_launches' })
  id!: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId!: string;

  @Column({ type: 'bigint' })
  position!: string;

  @Column({ type: 'text' })
  mode!: string;

  @Column({ type: 'text', array: true })
  command!: string[];

  @Column({ type: 'text', nullable: true })
  prompt!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'estimate_tokens', type: 'bigint', nullable: true })
  estimateTokens!: string | null;

  @Column({ name: 'estimate_usd', type: 'numeric', precision: 18, scale: 6, nullable: true })
  estimateUsd!: string | null;

  /** Origin and restart policy, as on `runners` (migration 1764610000000). */
  @Column({ type: 'text', nullable: true })
  cwd!: string | null;

  @Column({ name: 'resumed_from', type: 'text', nullable: true })
  resumedFrom!: string | null;

  @Column({ name: 'restart_policy', type: 'text', default: 'no' })
  restartPolicy!: string;

  @Column({ name: 'max_restarts', type: 'integer', default: 0 })
  maxRestarts!: number;

  @Column({ name: 'restart_of', type: 'uuid', nullable: true })
  restartOf!: string | null;

  @Column({ type: 'integer', default: 0 })
  restarts!: number;

  /** A new worktree when admitted, or an existing one (migration 1764700000000). */
  @Column({ name: 'new_worktree', type: 'boolean', default: false })
  newWorktree!: boolean;

  @Column({ name: 'worktree_id', type: 'uuid', nullable: true })
  worktreeId!: string | null;
}

export const runnerManagerEntities = [
  ProjectEntity,
  RunnerEntity,
  QueuedLaunchEntity,
  PlannedRestartEntity,
  WorktreeEntity,
];
