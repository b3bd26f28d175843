import { Args, Flags } from '@oclif/core';
import {
  DEFAULT_RESUME_PROMPT,
  type QueuedLaunchReply,
  type RunnerReply,
} from '@stratavore/contracts';

import { tokensFlag, usdFlag } from '../support/budget-flags';
import { claudeLaunchFlags, claudeLaunchInput } from '../support/claude-flags';
import { renderRunnersTable } from '../support/runner-views';
import { StratavoreCommand } from '../support/stratavore-command';

type ResumeJson = RunnerReply | (QueuedLaunchReply & { queued: true });

export default class Resume extends StratavoreCommand {
  static override description = `Resume a Claude Code session: a new runner on \`claude --resume <session> -p\` in the session's project and working directory, so the same session goes on (same session id). The prompt defaults to "${DEFAULT_RESUME_PROMPT}". Refused (exit 4) while a runner is still working in the session; exit 3 when the session is unknown.`;

  static override examples = [
    '<%= config.bin %> resume 7f3c2a10-4b9e-4d5c-8a61-2e0f9d1b7c44',
    '<%= config.bin %> resume 7f3c2a10-4b9e-4d5c-8a61-2e0f9d1b7c44 --prompt "now run the tests"',
    '<%= config.bin %> resume 7f3c2a10-4b9e-4d5c-8a61-2e0f9d1b7c44 --restart on-failure --json',
  ];

  static override args = {
    'session-id': Args.string({ description: "Claude Code's session id", required: true }),
  };

  static override flags = {
    prompt: Flags.string({
      description: `what to tell the session (default "${DEFAULT_RESUME_PROMPT}")`,
    }),
    queue: Flags.boolean({ description: 'wait in the queue when the project is full' }),
    'estimate-tokens': tokensFlag({
      description: "tokens to reserve in the budgets (default: the project's launch estimate)",
    }),
    'estimate-usd': usdFlag({
      description: "USD to reserve in the budgets (default: the project's launch estimate)",
    }),
    ...claudeLaunchFlags,
  };

  async run(): Promise<ResumeJson> {
    const { args, flags } = await this.parse(Resume);
    const session = args['session-id'].trim();
    if (session === '' || session.length > 256) {
      this.usageError(`SESSION-ID must be a session id (1 to 256 characters), got "${session}"`);
    }
    if (flags.prompt !== undefined && flags.prompt.trim() === '') {
      this.usageError('--prompt must not be empty');
    }
    const claude = claudeLaunchInput(flags);
    if ('usage' in claude) this.usageError(claude.usage);

    const client = await this.client();
    const reply = await this.callApi(`Resuming session ${session}`, () =>
      client.resumeSession(session, {
        prompt: flags.prompt,
        queue: flags.queue === true,
        estimateTokens: flags['estimate-tokens'],
        estimateUsd: flags['estimate-usd'],
        ...claude.input,
      }),
    );
    if (reply.status === 'queued') {
      const entry = reply.queuedLaunch;
      this.log(
        `Project ${entry.project.name} is full: resume of session ${session} queued as ${entry.id} at position ${entry.position}.`,
      );
      return { ...entry, queued: true };
    }
    this.log(`Resuming session ${session} in runner ${reply.runner.id}.`);
    this.log(renderRunnersTable([reply.runner], this.paint, Date.now()));
    return reply.runner;
  }
}
