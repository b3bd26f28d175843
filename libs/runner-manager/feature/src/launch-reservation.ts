import {
  budgetExceeded,
  budgetUnavailable,
  launchEstimate,
  RunnerException,
} from '@stratavore/runner-manager-domain';

import { requireProject } from './project.use-cases';
import {
  type GrantedBudget,
  type RequestContext,
  type RunnerManagerDeps,
} from './runner-lifecycle';

/** A launch's estimate granted by every budget covering its project, before any lock. */
export type LaunchReservation = GrantedBudget & {
  readonly reservationId: string;
  readonly projectId: string;
};

/**
 * Reserves a launch's estimate (its own override, else the project's default) for a new runner
 * id, before the project lock is taken; `null` when budgets are off. A refusal is BudgetExceeded
 * with budget-service's full sentence; an unreachable budget-service is BudgetUnavailable.
 */
export async function reserveLaunchBudget(
  deps: RunnerManagerDeps,
  request: {
    readonly project: string;
    readonly estimateTokens?: number | null;
    readonly estimateUsd?: number | null;
  },
  ctx: RequestContext,
): Promise<LaunchReservation | null> {
  const gate = deps.budgets;
  if (gate === undefined) return null;
  const project = await deps.store.read((reads) => requireProject(reads, request.project));
  if (project.archivedAt !== null) throw RunnerException.projectArchived(project.name);
  const estimate = launchEstimate(request, project, deps.defaultEstimate);
  const reservationId = deps.ids.uuid();
  const runnerId = deps.ids.uuid();
  const outcome = await gate.reserve({ reservationId, runnerId, project, estimate }, ctx);
  switch (outcome.status) {
    case 'refused':
      throw budgetExceeded(project, estimate, outcome.refusal);
    case 'unavailable':
      throw budgetUnavailable(project, outcome.reason);
    case 'granted':
      return { reservationId, runnerId, projectId: project.id, estimate, leftUsd: outcome.leftUsd };
  }
}
