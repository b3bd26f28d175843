import { Args, Flags } from '@oclif/core';
import { type QueuedLaunchReply, type RunnerReply } from '@stratavore/contracts';

import { tokensFlag, usdFlag } from '../support/budget-flags';
import { claudeLaunchFlags, claudeLaunchInput } from '../support/claude-flags';
import { renderRunnersTable } from '../support/runner-views';
import { StratavoreCommand } from '../support/stratavore-command';

type LaunchJson = RunnerReply | (QueuedLaunchReply & { queued: true });

export default class Launch extends StratavoreCommand {
  static override description =
    "Launch a runner in a project. A full project refuses (exit 4) unless --queue puts the launch in the project's queue. The launch first reserves its estimate (--estimate-tokens/--estimate-usd, else the project's default) in the budgets covering the project; a budget that cannot take it refuses (exit 5) with what is left and when the period ends. With a prompt, a Claude Code project runs `claude -p --output-format stream-json --verbose` plus the Claude flags given, the prompt on its stdin; --restart on-failure relaunches it when it fails, resuming its session. --worktree runs it in a git worktree of its own, on branch stratavore/<runner-id> made from the project's HEAD, so parallel runners never write over each other (see `stratavore worktrees`).";

  static override examples = [
    '<%= config.bin %> launch web-app --prompt "fix the flaky test"',
    '<%= config.bin %> launch web-app --queue --json',
    '<%= config.bin %> launch web-app -- claude --model opus',
    '<%= config.bin %> launch web-app --estimate-tokens 200k --estimate-usd 2',
    '<%= config.bin %> launch web-app --prompt "add tests" --model sonnet --max-turns 20 --allowed-tools "Bash,Read,Edit" --permission-mode acceptEdits',
    '<%= config.bin %> launch web-app --prompt "migrate the schema" --restart on-failure --max-restarts 5',
    '<%= config.bin %> launch web-app --worktree --prompt "try the new parser"',
  ];

  static override strict = false;

  static override args = {
    project: Args.string({ description: 'project name', required: true }),
  };

  static override flags = {
    prompt: Flags.string({ description: 'what the agent should do' }),
    queue: Flags.boolean({ description: 'wait in the queue when the project is full' }),
    worktree: Flags.boolean({
      description:
        "run in a git worktree of its own (branch stratavore/<runner-id> from the project's HEAD)",
    }),
    'estimate-tokens': tokensFlag({
      description: "tokens to reserve in the budgets (default: the project's launch estimate)",
    }),
    'estimate-usd': usdFlag({
      description: "USD to reserve in the budgets (default: the project's launch estimate)",
    }),
    ...claudeLaunchFlags,
  };

  static override usage =
    'launch PROJECT [--prompt TEXT] [--queue] [--worktree] [--estimate-tokens N] [--estimate-usd USD] [--model M] [--max-turns N] [--allowed-tools TOOLS] [--permission-mode MODE] [--restart no|on-failure] [--max-restarts N] [-- COMMAND...]';

  async run(): Promise<LaunchJson> {
    const { args, flags, argv } = await this.parse(Launch);
    const separator = this.argv.indexOf('--');
    const command = separator >= 0 ? this.argv.slice(separator + 1) : undefined;
    const extra = argv.slice(1, argv.length - (command?.length ?? 0));
    if (extra.length > 0) {
      this.usageError(
        `Unexpected argument ${String(extra[0])}: put the agent command after --, e.g. launch ${args.project} -- claude`,
      );
    }
    if (command !== undefined && command.length === 0) {
      this.usageError('Expected a command after --');
    }
    if (flags.prompt !== undefined && flags.prompt.trim() === '') {
      this.usageError('--prompt must not be empty');
    }
    const claude = claudeLaunchInput(flags);
    if ('usage' in claude) this.usageError(claude.usage);

    const client = await this.client();
    const reply = await this.callApi(`Launching a runner in ${args.project}`, () =>
      client.launchRunner(args.project, {
        prompt: flags.prompt,
        command,
        queue: flags.queue === true,
        ...(flags.worktree === true ? { worktree: true } : {}),
        estimateTokens: flags['estimate-tokens'],
        estimateUsd: flags['estimate-usd'],
        ...claude.input,
      }),
    );
    if (reply.status === 'queued') {
      const entry = reply.queuedLaunch;
      this.log(
        `Project ${entry.project.name} is full: launch ${entry.id} queued at position ${entry.position}.`,
      );
      return { ...entry, queued: true };
    }
    this.log(renderRunnersTable([reply.runner], this.paint, Date.now()));
    const worktree = reply.runner.worktree;
    if (worktree) this.log(`Worktree ${worktree.path} on branch ${worktree.branch}.`);
    return reply.runner;
  }
}
