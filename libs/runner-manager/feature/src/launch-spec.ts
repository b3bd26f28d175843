import { type LaunchRunnerRequest } from '@stratavore/contracts';
import { type RunnerManagerTransaction } from '@stratavore/runner-manager-data-access';
import {
  type Project,
  resolveLaunch,
  type RunnerMode,
  type RunnerOrigin,
} from '@stratavore/runner-manager-domain';

/** How a launch was decided, for {@link LaunchInternals.inTransaction}. */
export type DecidedLaunch =
  | { readonly kind: 'launched'; readonly runnerId: string }
  | { readonly kind: 'queued'; readonly queuedLaunchId: string };

/**
 * What runner-manager adds to a launch of its own (a resume, a restart): fields no client sets.
 */
export interface LaunchInternals {
  /** `runners.resume`: the Claude session to go on with (`--resume <id>`). */
  readonly resume?: string;
  /** Where it runs (default the project's path), and what it continues or replaces. */
  readonly origin?: Partial<Pick<RunnerOrigin, 'cwd' | 'resumedFrom' | 'restartOf' | 'restarts'>>;
  /**
   * An existing git worktree to work in, by the runner it was made for: the restart of a runner
   * that worked in one, the resume of a session that ran in one. Refused when it was removed.
   */
  readonly worktree?: string;
  /**
   * Runs in the launch's transaction (under the project lock) once the launch is decided, e.g. a
   * restart marks its plan; throwing rolls the whole launch back.
   */
  readonly inTransaction?: (tx: RunnerManagerTransaction, decided: DecidedLaunch) => Promise<void>;
}

/** A launch's runner fields: command, prompt, mode and origin. */
export interface LaunchRunnerSpec extends RunnerOrigin {
  readonly command: readonly string[];
  readonly prompt: string | null;
  readonly mode: RunnerMode;
}

/**
 * The runner fields of a launch in `project`: the command built by `resolveLaunch` (Claude Code
 * headless form, options and resume; ValidationFailed naming the fields it refuses) and the
 * origin (the project's path unless told otherwise).
 */
export function launchSpecOf(
  request: LaunchRunnerRequest,
  project: Project,
  internals: LaunchInternals = {},
): LaunchRunnerSpec {
  const resolved = resolveLaunch(request.command ?? project.command, request, internals.resume);
  const origin = internals.origin ?? {};
  return {
    command: resolved.command,
    prompt: resolved.prompt,
    mode: request.mode,
    cwd: origin.cwd ?? project.path,
    resumedFrom: origin.resumedFrom ?? internals.resume ?? null,
    restartPolicy: resolved.restartPolicy,
    maxRestarts: resolved.maxRestarts,
    restartOf: origin.restartOf ?? null,
    restarts: origin.restarts ?? 0,
  };
}
