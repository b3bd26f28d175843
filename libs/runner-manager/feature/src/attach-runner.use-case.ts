import { type AttachRunnerReply, type AttachRunnerRequest } from '@stratavore/contracts';
import { quotaExceeded, RunnerException, toRunnerReply } from '@stratavore/runner-manager-domain';

import { reserveLaunchBudget } from './launch-reservation';
import { requireProject } from './project.use-cases';
import { type RequestContext, RunnerLifecycle, type RunnerManagerDeps } from './runner-lifecycle';

const DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000;

/**
 * `runners.attach` (`stratavore run`): registers a runner whose agent the caller starts itself,
 * in the user's terminal. It is admitted like a launch (the estimate reserved in the budgets
 * first, then the quota counted under the project's lock), but never queued: a full project
 * refuses with QuotaExceeded. The runner is inserted (`runner.launched`, launcher `attached`,
 * mode `interactive`) and moved to `starting` in the same transaction, on the caller's host;
 * runner-manager starts, signals and reaps nothing for it. The reply carries the runner token
 * in clear (stored as its hash only) and where the agent reports.
 */
export class AttachRunner {
  private readonly lifecycle: RunnerLifecycle;

  constructor(private readonly deps: RunnerManagerDeps) {
    this.lifecycle = new RunnerLifecycle(deps);
  }

  async execute(request: AttachRunnerRequest, ctx: RequestContext): Promise<AttachRunnerReply> {
    const reservation = await reserveLaunchBudget(this.deps, request, ctx);
    try {
      const { reply, token } = await this.deps.store.transaction(async (tx) => {
        const found = await requireProject(tx, reservation?.projectId ?? request.project);
        await tx.lockProject(found.id);
        const project = (await tx.projects.findById(found.id)) ?? found;
        if (project.archivedAt !== null) throw RunnerException.projectArchived(project.name);
        const holders = await tx.runners.activeOf(project.id);
        if (holders.length >= project.maxRunners) throw quotaExceeded(project, holders);
        const pending = await this.lifecycle.insertPending(
          tx,
          project,
          {
            command: request.command ?? project.command,
            prompt: null,
            mode: 'interactive',
            cwd: request.cwd ?? project.path,
            attached: true,
          },
          ctx,
          reservation ?? undefined,
        );
        const moved = await this.lifecycle.transition(
          tx,
          pending.runner,
          'starting',
          { host: request.host },
          ctx,
        );
        return { reply: toRunnerReply(moved.runner, project), token: pending.token };
      });
      return {
        runner: reply,
        token,
        heartbeatUrl: this.deps.launcher.agentHeartbeatUrl(),
        heartbeatIntervalMs:
          this.deps.launcher.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
      };
    } catch (error) {
      if (reservation) await this.deps.budgets?.release(reservation.reservationId, ctx);
      throw error;
    }
  }
}
