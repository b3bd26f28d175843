import { type RunnerLogsReply, type RunnerLogsRequest } from '@stratavore/contracts';
import { isTerminal, RunnerException } from '@stratavore/runner-manager-domain';

import { type RunnerManagerDeps } from './runner-lifecycle';

/**
 * Serves a window of a runner's log through the launcher that started it (docs/runners.md#logs).
 * The state is read before the log: a runner seen terminal has written all it will, so
 * `ended` (terminal and read to the end) tells a follower it may stop without losing a line.
 */
export class ReadRunnerLogs {
  constructor(private readonly deps: Pick<RunnerManagerDeps, 'store' | 'launcher'>) {}

  async execute(request: RunnerLogsRequest): Promise<RunnerLogsReply> {
    const runner = await this.deps.store.read((reads) => reads.runners.findById(request.runner));
    if (!runner) throw RunnerException.runnerNotFound(request.runner);
    const complete = isTerminal(runner.state);
    const window = await this.deps.launcher.readLog(runner, {
      offset: request.offset,
      limitBytes: request.limitBytes,
      ...(request.tail === undefined ? {} : { tail: request.tail }),
      complete,
    });
    if (window === null) throw RunnerException.runnerLogUnavailable(runner.id, runner.host);
    return {
      ...window,
      runnerState: runner.state,
      ended: complete && window.nextOffset >= window.size,
    };
  }
}
