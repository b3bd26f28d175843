import { type EventEnvelope } from '@stratavore/contracts';
import {
  type PlannedRestart,
  type Project,
  type QueuedLaunch,
  type Runner,
  type RunnerReplyFields,
  type RunnerState,
  type SlotHolder,
} from '@stratavore/runner-manager-domain';

import { type PlannedRestartRepository } from './planned-restart.repository';
import { type WorktreeRepository } from './worktree.repository';

/** Projects as the use cases see them (no ORM types). */
export interface ProjectRepository {
  /** Throws `RunnerException(ProjectNameTaken)` when a non-archived project has the name. */
  insert(project: Project): Promise<void>;
  /** Writes every field; same name rule as {@link insert}. */
  save(project: Project): Promise<void>;
  findById(id: string): Promise<Project | null>;
  findActiveByName(name: string): Promise<Project | null>;
  /** By id when `ref` is a uuid, else by name among non-archived projects. */
  resolve(ref: string): Promise<Project | null>;
  /** Ordered by name. */
  list(options: { readonly includeArchived: boolean }): Promise<Project[]>;
}

export interface RunnerListFilter {
  readonly projectId?: string;
  readonly states?: readonly RunnerState[];
  readonly limit: number;
}

export interface ActiveCount {
  readonly projectId: string;
  readonly state: RunnerState;
  readonly count: number;
}

export interface RunnerRepository {
  insert(runner: Runner): Promise<void>;
  save(runner: Runner): Promise<void>;
  /** `lock: true` takes the row lock (`FOR UPDATE`) until the transaction ends. */
  findById(id: string, options?: { readonly lock?: boolean }): Promise<Runner | null>;
  /** Newest first. */
  list(filter: RunnerListFilter): Promise<Runner[]>;
  /** The project's runners holding a quota slot, oldest first. */
  activeOf(projectId: string): Promise<SlotHolder[]>;
  /** Active runners per project and state. */
  activeCounts(projectIds?: readonly string[]): Promise<ActiveCount[]>;
  /** Every active runner (pending, starting, running, stopping), of one project or all; oldest first. */
  listActive(projectId?: string): Promise<Runner[]>;
  /** Active runners working in this Claude session (reported in it, or resuming it). */
  activeInSession(sessionId: string): Promise<Runner[]>;
}

/**
 * A runner with what its reply shows from other tables: its project's name (`null` when the
 * project row is gone) and the restart planned for it.
 */
export interface RunnerView {
  readonly runner: RunnerReplyFields;
  readonly projectName: string | null;
  readonly restart: PlannedRestart | null;
}

/** A page of {@link RunnerViewRepository.list}: a list filter and where the page starts. */
export interface RunnerPageFilter extends RunnerListFilter {
  /** The page starts after this runner in the list's order (newest first). */
  readonly after?: string;
}

/** Runners for replies, each read with its project and planned restart in one query. */
export interface RunnerViewRepository {
  findById(id: string): Promise<RunnerView | null>;
  /**
   * Newest first (`createdAt`, then id, descending), filtered like
   * {@link RunnerRepository.list}; with `after`, the runners that follow that runner in this
   * order (none when no runner has that id).
   */
  list(filter: RunnerPageFilter): Promise<RunnerView[]>;
  /** Whether a runner with this id exists. */
  exists(id: string): Promise<boolean>;
}

export interface QueuedLaunchRepository {
  /** Appends at the end of the project's queue; call under the project lock. */
  enqueue(entry: Omit<QueuedLaunch, 'position'>): Promise<QueuedLaunch>;
  /** The head of the project's queue. */
  oldest(projectId: string): Promise<QueuedLaunch | null>;
  findById(id: string): Promise<QueuedLaunch | null>;
  remove(id: string): Promise<void>;
  removeAllOf(projectId: string): Promise<number>;
  /** Ordered by project, then position. */
  listOf(projectIds?: readonly string[]): Promise<QueuedLaunch[]>;
}

/** What a read-only unit of work sees. */
export interface RunnerManagerReads {
  readonly projects: ProjectRepository;
  readonly runners: RunnerRepository;
  readonly queue: QueuedLaunchRepository;
  readonly restarts: PlannedRestartRepository;
  readonly views: RunnerViewRepository;
  readonly worktrees: WorktreeRepository;
}

/** The transaction handle of runner-manager: its repositories, the project lock and the outbox. */
export interface RunnerManagerTransaction extends RunnerManagerReads {
  /**
   * `pg_advisory_xact_lock` on `runner:project:<id>`: serializes quota decisions of one project
   * across every runner-manager process until this transaction ends.
   */
  lockProject(projectId: string): Promise<void>;
  /** Writes events to `messaging.outbox` in this transaction. */
  appendEvents(envelopes: readonly EventEnvelope[]): Promise<void>;
  /**
   * Records (consumer, event id) in `messaging.inbox` in this transaction; false when it was
   * already there (a redelivery), in which case the caller does nothing.
   */
  claimInbox(consumer: string, eventId: string): Promise<boolean>;
}

/** Runs work in one transaction (commit on resolve, rollback on throw), or reads outside one. */
export interface RunnerManagerUnitOfWork {
  transaction<T>(work: (tx: RunnerManagerTransaction) => Promise<T>): Promise<T>;
  read<T>(work: (reads: RunnerManagerReads) => Promise<T>): Promise<T>;
}

/** The advisory lock key of a project's quota. */
export function projectLockKey(projectId: string): string {
  return `runner:project:${projectId}`;
}
