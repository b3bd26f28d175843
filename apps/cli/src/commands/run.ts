import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

import { Args, Flags } from '@oclif/core';
import { claudeSessionChoice, withClaudeSessionId } from '@stratavore/claude-code';

import {
  attachedAgentLogDir,
  interactiveAgentPath,
  runAttachedAgent,
} from '../support/attached-agent';
import { tokensFlag, usdFlag } from '../support/budget-flags';
import { ExitCode } from '../support/exit-codes';
import { StratavoreCommand } from '../support/stratavore-command';

/** What `run --json` prints when the command has ended. */
export interface RunSummary {
  readonly runnerId: string;
  readonly project: string;
  /** Claude Code's session id when the command line fixed it (`--session-id`, `--resume`). */
  readonly sessionId: string | null;
  readonly cwd: string;
  readonly exitCode: number;
}

export default class Run extends StratavoreCommand {
  static override description =
    "Run an agent command in this terminal as a runner of the project: the runner is admitted like a launch (quota, budgets; a full project refuses with exit 4, a budget with exit 5) but the command runs here, with the terminal untouched (keys, colours, Ctrl-C are the command's). The agent beside it sends heartbeats; for Claude Code it adds --session-id (unless the command picks its session) and follows the session's transcript under the Claude config directory for the session id, tokens and cost, and installs hooks so that `runners` shows when Claude waits for you (waiting) or finished its turn (idle). `stratavore kill` stops it. Exits with the command's exit code.";

  static override examples = [
    '<%= config.bin %> run web-app -- claude',
    '<%= config.bin %> run web-app -- claude --model opus "explain the build"',
    '<%= config.bin %> run web-app -- claude --resume 7d0c2a8e-3b4f-4d6a-9e1c-5f2b8a7c6d40',
    '<%= config.bin %> run web-app --cwd ../web-app-wt -- bash',
    "<%= config.bin %> run web-app   # the project's command",
  ];

  static override strict = false;

  static override args = {
    project: Args.string({ description: 'project name', required: true }),
  };

  static override flags = {
    cwd: Flags.string({
      description: "where the command runs (default: the project's path)",
      helpValue: 'DIR',
    }),
    'estimate-tokens': tokensFlag({
      description: "tokens to reserve in the budgets (default: the project's launch estimate)",
    }),
    'estimate-usd': usdFlag({
      description: "USD to reserve in the budgets (default: the project's launch estimate)",
    }),
    'heartbeat-url': Flags.string({
      description:
        'where the agent sends heartbeats (default: what the API answers; STRATAVORE_HEARTBEAT_URL)',
      helpValue: 'URL',
      env: 'STRATAVORE_HEARTBEAT_URL',
    }),
  };

  static override usage =
    'run PROJECT [--cwd DIR] [--estimate-tokens N] [--estimate-usd USD] [--heartbeat-url URL] [-- COMMAND...]';

  async run(): Promise<RunSummary> {
    const { args, flags, argv } = await this.parse(Run);
    const separator = this.argv.indexOf('--');
    const given = separator >= 0 ? this.argv.slice(separator + 1) : undefined;
    const extra = argv.slice(1, argv.length - (given?.length ?? 0));
    if (extra.length > 0) {
      this.usageError(
        `Unexpected argument ${String(extra[0])}: put the command after --, e.g. run ${args.project} -- claude`,
      );
    }
    if (given !== undefined && given.length === 0) this.usageError('Expected a command after --');
    const cwd = flags.cwd === undefined ? undefined : resolve(flags.cwd);
    if (cwd !== undefined && !existsSync(cwd)) {
      this.usageError(`--cwd: ${cwd} does not exist`);
    }
    if (flags['heartbeat-url'] !== undefined && !/^https?:\/\/\S+$/.test(flags['heartbeat-url'])) {
      this.usageError(`--heartbeat-url: expected an http(s) URL, got "${flags['heartbeat-url']}"`);
    }
    const agentPath = interactiveAgentPath();
    if (!existsSync(agentPath)) {
      this.error(
        `The Stratavore agent is not at ${agentPath}: build it (npx nx build agent) or set STRATAVORE_AGENT_PATH`,
        { exit: ExitCode.Usage },
      );
    }

    const client = await this.client();
    const base =
      given ??
      (await this.callApi(`Reading project ${args.project}`, () => client.getProject(args.project)))
        .command;
    const command = withClaudeSessionId(base, randomUUID());
    const sessionId = claudeSessionChoice(command)?.sessionId ?? null;
    const attached = await this.callApi(`Registering a runner in ${args.project}`, () =>
      client.attachRunner(args.project, {
        command,
        ...(cwd === undefined ? {} : { cwd }),
        host: hostname(),
        ...(flags['estimate-tokens'] === undefined
          ? {}
          : { estimateTokens: flags['estimate-tokens'] }),
        ...(flags['estimate-usd'] === undefined ? {} : { estimateUsd: flags['estimate-usd'] }),
      }),
    );
    const { runner } = attached;
    const workDir = runner.cwd ?? cwd ?? process.cwd();
    const logDir = attachedAgentLogDir();
    this.logToStderr(
      this.note(
        `runner ${runner.id} in ${runner.project.name} (${workDir})${sessionId === null ? '' : `, Claude session ${sessionId}`}`,
      ),
    );

    let exitCode: number;
    try {
      exitCode = await runAttachedAgent({
        agentPath,
        runnerId: runner.id,
        token: attached.token,
        heartbeatUrl: flags['heartbeat-url'] ?? attached.heartbeatUrl,
        heartbeatIntervalMs: attached.heartbeatIntervalMs,
        logDir,
        command: runner.command,
        cwd: existsSync(workDir) ? workDir : process.cwd(),
        env: process.env,
      });
    } catch (error) {
      return this.error(
        `Could not start the agent for runner ${runner.id}: ${error instanceof Error ? error.message : String(error)}; it is marked failed when its heartbeats do not come`,
        { exit: ExitCode.ApiError },
      );
    }
    const agentLog = join(logDir, `${runner.id}.agent.log`);
    this.logToStderr(
      this.note(
        `runner ${runner.id} ended (exit ${exitCode})${exitCode === 127 ? `; the command could not start, see ${agentLog}` : ''}`,
      ),
    );
    const summary: RunSummary = {
      runnerId: runner.id,
      project: runner.project.name,
      sessionId,
      cwd: workDir,
      exitCode,
    };
    if (exitCode !== 0) {
      if (this.jsonEnabled()) this.logJson(summary);
      this.exit(exitCode);
    }
    return summary;
  }

  /** A line about Stratavore itself, on stderr, dimmed on a terminal. */
  private note(text: string): string {
    return process.stderr.isTTY === true &&
      !this.jsonEnabled() &&
      process.env.NO_COLOR === undefined
      ? `\u001b[2m-- ${text}\u001b[22m`
      : `-- ${text}`;
  }
}
