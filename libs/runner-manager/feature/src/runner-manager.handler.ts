import { Logger } from '@nestjs/common';
import {
  RUNNER_MANAGER_SERVICE,
  type RunnerManagerPattern,
  runnerManagerPatternSchema,
  runnerManagerReplySchemas,
  runnerManagerRequestSchemas,
} from '@stratavore/contracts';
import { type RequestMeta } from '@stratavore/messaging';
import { parsePayload, RunnerErrorCode, RunnerException } from '@stratavore/runner-manager-domain';

import { AttachRunner } from './attach-runner.use-case';
import {
  ArchiveProject,
  CreateProject,
  GetProject,
  ListProjects,
  UpdateProject,
} from './project.use-cases';
import { ResumeSession } from './resume-session.use-case';
import {
  CancelQueued,
  LaunchRunner,
  RunnerQueries,
  StopRunner,
  TransitionRunner,
} from './runner.use-cases';
import { type RunnerManagerDeps } from './runner-lifecycle';
import { ReadRunnerLogs } from './runner-logs.use-case';
import { ListWorktrees, RemoveWorktree } from './worktree.use-cases';

/**
 * Replies sent without checking them here: the API's frequent reads, whose replies are built by
 * `toRunnerReply` from typed rows, and which the gateway validates on receipt anyway. Checking a
 * page of 100 runners on both sides of the bus cost ~0.6 ms of CPU per list (docs/benchmarks.md,
 * "api-read").
 */
const UNCHECKED_REPLIES: ReadonlySet<RunnerManagerPattern> = new Set([
  'runners.get',
  'runners.list',
]);

/**
 * The transport edge of runner-manager: validates each payload with its contracts schema
 * (ValidationFailed naming the fields), runs the use case, and checks the reply against its
 * schema (except {@link UNCHECKED_REPLIES}). Anything that is not a RunnerException leaves as
 * `INTERNAL` without internals.
 */
export class RunnerManagerRequestHandler {
  readonly service = RUNNER_MANAGER_SERVICE;
  readonly transitionRunner: TransitionRunner;
  private readonly createProject: CreateProject;
  private readonly updateProject: UpdateProject;
  private readonly archiveProject: ArchiveProject;
  private readonly listProjects: ListProjects;
  private readonly getProject: GetProject;
  private readonly launchRunner: LaunchRunner;
  private readonly stopRunner: StopRunner;
  private readonly cancelQueued: CancelQueued;
  private readonly queries: RunnerQueries;
  private readonly readLogs: ReadRunnerLogs;
  private readonly resumeSession: ResumeSession;
  private readonly attachRunner: AttachRunner;
  private readonly listWorktrees: ListWorktrees;
  private readonly removeWorktree: RemoveWorktree;
  private readonly logger = new Logger('RunnerManagerRequestHandler');

  constructor(deps: RunnerManagerDeps) {
    this.createProject = new CreateProject(deps);
    this.updateProject = new UpdateProject(deps);
    this.archiveProject = new ArchiveProject(deps);
    this.listProjects = new ListProjects(deps);
    this.getProject = new GetProject(deps);
    this.launchRunner = new LaunchRunner(deps);
    this.transitionRunner = new TransitionRunner(deps);
    this.stopRunner = new StopRunner(deps);
    this.cancelQueued = new CancelQueued(deps);
    this.queries = new RunnerQueries(deps);
    this.readLogs = new ReadRunnerLogs(deps);
    this.resumeSession = new ResumeSession(deps);
    this.attachRunner = new AttachRunner(deps);
    this.listWorktrees = new ListWorktrees(deps);
    this.removeWorktree = new RemoveWorktree(deps);
  }

  /** The bus handler: `bus.respond('runner-manager', handler.handle)`. */
  readonly handle = async (pattern: string, payload: unknown, meta: RequestMeta) => {
    try {
      const known = runnerManagerPatternSchema.safeParse(pattern);
      if (!known.success) {
        throw RunnerException.validationFailed(
          [
            {
              field: 'pattern',
              message: `expected one of ${runnerManagerPatternSchema.options.join(', ')}; got "${pattern}"`,
            },
          ],
          'request',
        );
      }
      const reply = await this.dispatch(known.data, payload, meta);
      if (UNCHECKED_REPLIES.has(known.data)) return reply;
      return runnerManagerReplySchemas[known.data].parse(reply);
    } catch (error) {
      if (error instanceof RunnerException) throw error;
      this.logger.error(
        `${pattern} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      throw new RunnerException(RunnerErrorCode.Internal, `${pattern} failed: internal error`);
    }
  };

  private async dispatch(
    pattern: keyof typeof runnerManagerRequestSchemas,
    payload: unknown,
    meta: RequestMeta,
  ): Promise<unknown> {
    const ctx = { correlationId: meta.correlationId };
    switch (pattern) {
      case 'projects.create':
        return this.createProject.execute(
          parsePayload(runnerManagerRequestSchemas[pattern], payload),
        );
      case 'projects.list':
        return this.listProjects.execute(
          parsePayload(runnerManagerRequestSchemas[pattern], payload ?? {}),
        );
      case 'projects.get':
        return this.getProject.execute(parsePayload(runnerManagerRequestSchemas[pattern], payload));
      case 'projects.update':
        return this.updateProject.execute(
          parsePayload(runnerManagerRequestSchemas[pattern], payload),
          ctx,
        );
      case 'projects.archive':
        return this.archiveProject.execute(
          parsePayload(runnerManagerRequestSchemas[pattern], payload),
        );
      case 'runners.launch':
        return this.launchRunner.execute(
          parsePayload(runnerManagerRequestSchemas[pattern], payload),
          ctx,
        );
      case 'runners.list':
        return this.queries.list(parsePayload(runnerManagerRequestSchemas[pattern], payload ?? {}));
      case 'runners.get':
        return this.queries.get(parsePayload(runnerManagerRequestSchemas[pattern], payload));
      case 'runners.stop':
        return this.stopRunner.execute(
          parsePayload(runnerManagerRequestSchemas[pattern], payload),
          ctx,
        );
      case 'runners.cancel-queued':
        return this.cancelQueued.execute(
          parsePayload(runnerManagerRequestSchemas[pattern], payload),
        );
      case 'runners.status':
        return this.queries.status(
          parsePayload(runnerManagerRequestSchemas[pattern], payload ?? {}),
        );
      case 'runners.logs':
        return this.readLogs.execute(parsePayload(runnerManagerRequestSchemas[pattern], payload));
      case 'runners.resume':
        return this.resumeSession.execute(
          parsePayload(runnerManagerRequestSchemas[pattern], payload),
          ctx,
        );
      case 'runners.attach':
        return this.attachRunner.execute(
          parsePayload(runnerManagerRequestSchemas[pattern], payload),
          ctx,
        );
      case 'worktrees.list':
        return this.listWorktrees.execute(
          parsePayload(runnerManagerRequestSchemas[pattern], payload ?? {}),
        );
      case 'worktrees.remove':
        return this.removeWorktree.execute(
          parsePayload(runnerManagerRequestSchemas[pattern], payload),
        );
    }
  }
}
