import { isClaudeCodeCommand } from '@stratavore/claude-code';
import {
  type LaunchRunnerReply,
  type LaunchRunnerRequest,
  type ResumeSessionRequest,
} from '@stratavore/contracts';
import {
  type Runner,
  sessionNotFound,
  sessionNotResumable,
  sessionStoreUnavailable,
} from '@stratavore/runner-manager-domain';

import { requireProject } from './project.use-cases';
import { LaunchRunner } from './runner.use-cases';
import { type RequestContext, type RunnerManagerDeps } from './runner-lifecycle';
import { type SessionToResume } from './session-lookup.port';

function busy(session: string, runners: readonly Runner[]): Error {
  const runner = runners[0] as Runner;
  return sessionNotResumable(
    session,
    `runner ${runner.id} is still working in it (${runner.state}); stop it or wait until it ends`,
  );
}

/**
 * `runners.resume`: asks session-store for the session (its project and working directory),
 * then launches a headless runner on `<project command> -p --output-format stream-json
 * --verbose --resume <session>` in that directory, through the ordinary launch (budget
 * reservation, quota, queue). The session keeps its id. Refused while a runner of the project
 * is still working in the session (checked again under the project lock, so two resumes of
 * one session cannot both start), and when the project no longer runs Claude Code. A session
 * that ran in a runner's git worktree goes on in that worktree, and cannot be resumed once it
 * was removed.
 */
export class ResumeSession {
  private readonly launch: LaunchRunner;

  constructor(private readonly deps: RunnerManagerDeps) {
    this.launch = new LaunchRunner(deps);
  }

  async execute(request: ResumeSessionRequest, ctx: RequestContext): Promise<LaunchRunnerReply> {
    const session = await this.find(request.session, ctx);
    const worktree = await this.deps.store.read(async (reads) => {
      const project = await requireProject(reads, session.projectId);
      if (!isClaudeCodeCommand(project.command)) {
        throw sessionNotResumable(
          session.id,
          `project ${project.name} runs "${project.command.join(' ')}", not Claude Code`,
        );
      }
      const active = await reads.runners.activeInSession(session.id);
      if (active.length > 0) throw busy(session.id, active);
      // A session that ran in a runner's worktree goes on in it (its restarts and removal see it).
      const ranIn =
        session.cwd === null ? null : await reads.worktrees.findContaining(project.id, session.cwd);
      if (ranIn?.removedAt) {
        throw sessionNotResumable(
          session.id,
          `it ran in the worktree of runner ${ranIn.runnerId} (${ranIn.path}, branch ${ranIn.branch}), which was removed at ${ranIn.removedAt.toISOString()}`,
        );
      }
      return ranIn;
    });
    const launch: LaunchRunnerRequest = {
      project: session.projectId,
      mode: 'headless',
      queue: request.queue,
      ...(request.restart === undefined ? {} : { restart: request.restart }),
      ...(request.prompt === undefined ? {} : { prompt: request.prompt }),
      ...(request.estimateTokens === undefined ? {} : { estimateTokens: request.estimateTokens }),
      ...(request.estimateUsd === undefined ? {} : { estimateUsd: request.estimateUsd }),
      ...(request.model === undefined ? {} : { model: request.model }),
      ...(request.maxTurns === undefined ? {} : { maxTurns: request.maxTurns }),
      ...(request.allowedTools === undefined ? {} : { allowedTools: request.allowedTools }),
      ...(request.permissionMode === undefined ? {} : { permissionMode: request.permissionMode }),
      ...(request.maxRestarts === undefined ? {} : { maxRestarts: request.maxRestarts }),
    };
    return this.launch.execute(launch, ctx, {
      resume: session.id,
      ...(worktree === null ? {} : { worktree: worktree.runnerId }),
      origin: { ...(session.cwd === null ? {} : { cwd: session.cwd }), resumedFrom: session.id },
      inTransaction: async (tx, decided) => {
        const active = (await tx.runners.activeInSession(session.id)).filter(
          (runner) => decided.kind !== 'launched' || runner.id !== decided.runnerId,
        );
        if (active.length > 0) throw busy(session.id, active);
      },
    });
  }

  private async find(sessionId: string, ctx: RequestContext): Promise<SessionToResume> {
    const lookup = this.deps.sessions;
    if (lookup === undefined) {
      throw sessionStoreUnavailable(sessionId, 'runner-manager has no session-store to ask');
    }
    const outcome = await lookup.find(sessionId, ctx);
    switch (outcome.status) {
      case 'not-found':
        throw sessionNotFound(sessionId);
      case 'unavailable':
        throw sessionStoreUnavailable(sessionId, outcome.reason);
      case 'found':
        return outcome.session;
    }
  }
}
