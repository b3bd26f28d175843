import { Args } from '@oclif/core';
import { type RunnerReply } from '@stratavore/contracts';

import { formatRestarts, showsRestarts } from '../../support/restart-views';
import {
  formatAge,
  formatBytes,
  formatCount,
  formatPercent,
  paintState,
  totalTokens,
} from '../../support/runner-views';
import { StratavoreCommand } from '../../support/stratavore-command';
import { describeRunnerWorktree } from '../../support/worktree-views';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export default class RunnersShow extends StratavoreCommand {
  static override description =
    'Show one runner: state, command, where it runs (its git worktree, if any), session, process, resources, tokens and restarts.';

  static override examples = [
    '<%= config.bin %> runners show 0b6c7a44-5d7e-4a54-9a3f-1f0c3a3e2b10',
    '<%= config.bin %> runners show 0b6c7a44-5d7e-4a54-9a3f-1f0c3a3e2b10 --json',
  ];

  static override args = {
    'runner-id': Args.string({ description: 'runner id', required: true }),
  };

  async run(): Promise<RunnerReply> {
    const { args } = await this.parse(RunnersShow);
    const id = args['runner-id'].trim();
    if (!UUID.test(id)) this.usageError(`RUNNER-ID must be a runner id (a uuid), got "${id}"`);
    const client = await this.client();
    const runner = await this.callApi(`Fetching runner ${id}`, () => client.getRunner(id));
    const now = Date.now();
    const rows: Array<[string, string]> = [
      ['Runner', runner.id],
      ['Project', runner.project.name],
      ['State', paintState(runner.state, this.paint)],
      ['Mode', runner.mode],
      ['Command', runner.command.join(' ')],
      ['Prompt', runner.prompt ?? '-'],
      ['Directory', runner.cwd ?? '-'],
      ['Worktree', runner.worktree ? describeRunnerWorktree(runner.worktree) : '-'],
      ['Session', runner.sessionId ?? '-'],
      ['Host', runner.host ?? '-'],
      ['PID', runner.pid === null ? '-' : String(runner.pid)],
      ['CPU / memory', `${formatPercent(runner.cpuPercent)} / ${formatBytes(runner.memoryBytes)}`],
      ['Tokens', formatCount(totalTokens(runner))],
      ['Heartbeat', formatAge(runner.lastHeartbeatAt, now)],
      ['Created', runner.createdAt],
      ['Ended', runner.endedAt ?? '-'],
      ['Exit', runner.exitCode === null ? (runner.signal ?? '-') : String(runner.exitCode)],
      ['Failure', runner.failureReason ?? '-'],
    ];
    if (showsRestarts([runner])) rows.push(['Restarts', formatRestarts(runner, now)]);
    const width = Math.max(...rows.map(([label]) => label.length));
    this.log(
      rows
        .map(([label, value]) => `${this.paint('bold', label.padEnd(width))}  ${value}`)
        .join('\n'),
    );
    return runner;
  }
}
