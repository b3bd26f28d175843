// Budgets end to end, as a user drives them: the CLI against the real single-node daemon (every
// service in one process: runner-manager reserves each launch in budget-service, heartbeat-ingest
// turns the agent's token counters into usage, budget-service books it and announces
// `budget.exceeded`, runner-manager stops the scope's runners). The agent runs a stand-in for
// `claude -p --output-format stream-json`: a script that prints Claude Code's stream-json events
// (system/init, then assistant messages with usage) until it is stopped, so the agent's Claude
// usage source reads real stream-json from a real child's stdout. No network, no model. Then
// the spend as `usage` and `budgets usage` show it, `budgets rm` by scope (the session the budget
// stopped is resumed) and by id, and a global budget anchored with `--period-start`.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  buildApps,
  type CliResult,
  describeCli,
  eventually,
  GiveUp,
  type RunnerView,
  Sandbox,
} from './support/e2e-harness';

const BUILD_TIMEOUT_MS = 900_000;
const STOP_TIMEOUT_MS = 90_000;
/** Heartbeats every second, so usage reaches budget-service quickly. */
const FAST_HEARTBEATS = {
  HEARTBEAT_INTERVAL: '1s',
  STALE_CHECK_INTERVAL: '500ms',
  STALE_GRACE: '5s',
};
const LIMIT_TOKENS = 5_000;
const ESTIMATE_TOKENS = 100;
/** Tokens one stand-in assistant message reports (input + output). */
const TOKENS_PER_MESSAGE = 1_000;

interface BudgetJson {
  readonly id: string;
  readonly scope: { readonly kind: string; readonly projectId?: string };
  readonly limits: { readonly tokens: number | null };
  readonly used: { readonly tokens: number };
  readonly status: string;
  readonly enforcement: string;
  readonly periodEnd: string | null;
}

interface UsageJson {
  readonly rows: ReadonlyArray<{
    readonly key: string;
    readonly name: string | null;
    readonly tokens: { readonly input: number; readonly output: number };
  }>;
}

interface BudgetUsageJson {
  readonly budgets: BudgetJson[];
  readonly days: ReadonlyArray<{ readonly projectId: string; readonly totalTokens: number }>;
  readonly totals: { readonly totalTokens: number };
}

function expectOk(result: CliResult): void {
  if (result.code !== 0) throw new Error(describeCli(result));
}

/** oclif wraps long errors and prefixes lines with `›`; one line for matching. */
function flatten(text: string): string {
  return text.replace(/›/g, ' ').replace(/\s+/g, ' ').trim();
}

function need<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) {
    throw new Error(`an earlier step failed: ${what} is unknown`);
  }
  return value;
}

/**
 * Writes `<root>/bin/claude`: Claude Code's stream-json as `claude -p --output-format
 * stream-json` prints it, one assistant message with usage every 200 ms, forever; SIGTERM ends
 * it as it ends Claude Code. Its path carries the sandbox marker, so the cleanup finds it.
 */
function writeStandInClaude(sandbox: Sandbox): string {
  const dir = join(sandbox.root, 'bin');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'claude');
  const half = TOKENS_PER_MESSAGE / 2;
  writeFileSync(
    path,
    `#!${process.execPath}
'use strict';
const { randomUUID } = require('node:crypto');
// Like Claude Code, \`--resume <id>\` goes on in the same session.
const resumed = process.argv.indexOf('--resume');
const session = resumed > 0 ? process.argv[resumed + 1] : randomUUID();
const model = 'claude-sonnet-4-5-20250929';
const emit = (event) => process.stdout.write(JSON.stringify(event) + '\\n');
emit({ type: 'system', subtype: 'init', cwd: process.cwd(), session_id: session, tools: [],
  mcp_servers: [], model, permissionMode: 'default', apiKeySource: 'none',
  claude_code_version: '2.1.50', output_style: 'default', uuid: randomUUID() });
let n = 0;
setInterval(() => {
  n += 1;
  emit({ type: 'assistant', parent_tool_use_id: null, session_id: session, uuid: randomUUID(),
    message: { model, id: 'msg_e2e_' + n, type: 'message', role: 'assistant',
      content: [{ type: 'text', text: 'spending ' + n }], stop_reason: null, stop_sequence: null,
      usage: { input_tokens: ${half}, output_tokens: ${half}, cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0, service_tier: 'standard' } } });
}, 200);
`,
  );
  chmodSync(path, 0o755);
  return path;
}

beforeAll(async () => {
  await buildApps(BUILD_TIMEOUT_MS);
}, BUILD_TIMEOUT_MS + 10_000);

describe('a hard budget through the CLI against the single-node daemon', () => {
  const sandbox = new Sandbox();
  let spender: RunnerView | undefined;
  let claude: string | undefined;

  beforeAll(async () => {
    claude = writeStandInClaude(sandbox);
    await sandbox.startDaemon(FAST_HEARTBEATS);
  }, 180_000);

  afterAll(async () => {
    await sandbox.cleanup();
  }, 120_000);

  it('1. creates a project whose launches reserve 100 tokens, under a hard daily budget', async () => {
    expectOk(
      await sandbox.cli([
        'new',
        'spender',
        '--path',
        sandbox.projectDir,
        '--max-runners',
        '2',
        '--command',
        `${need(claude, 'the stand-in claude')} -p --output-format stream-json`,
        '--estimate-tokens',
        String(ESTIMATE_TOKENS),
      ]),
    );
    const set = await sandbox.cli([
      'budgets',
      'set',
      '--project',
      'spender',
      '--tokens',
      String(LIMIT_TOKENS),
      '--period',
      'daily',
      '--enforce',
      'hard',
      '--json',
    ]);
    expectOk(set);
    expect(JSON.parse(set.stdout)).toMatchObject({
      created: true,
      budget: { limits: { tokens: LIMIT_TOKENS }, enforcement: 'hard', status: 'ok' },
    });
  });

  it('2. launches a runner that spends tokens, holding its estimate while it starts', async () => {
    const launched = await sandbox.cli(['launch', 'spender', '--prompt', 'spend', '--json']);
    expectOk(launched);
    spender = JSON.parse(launched.stdout) as RunnerView;
    sandbox.track([spender]);
    const budgets = await sandbox.cli(['budgets', '--project', 'spender', '--json']);
    expectOk(budgets);
    expect((JSON.parse(budgets.stdout) as BudgetJson[])[0]).toMatchObject({
      scope: { kind: 'project', projectId: spender.project.id },
    });
  });

  it('3. stops the runner gracefully once its usage passes the hard limit', async () => {
    const id = need(spender, 'the spending runner').id;
    const stopped = await eventually(
      `runner ${id} is stopped by the budget`,
      async () => {
        const runner = await sandbox.runner(id);
        if (runner.state === 'failed' || runner.state === 'completed') {
          throw new GiveUp(`it ended ${runner.state} (${runner.failureReason}), not stopped`);
        }
        return runner.state === 'stopped' ? runner : null;
      },
      { timeoutMs: STOP_TIMEOUT_MS },
    );
    expect(stopped.failureReason).toBeNull();
    const budgets = await sandbox.cli(['budgets', '--project', 'spender', '--json']);
    expectOk(budgets);
    const [budget] = JSON.parse(budgets.stdout) as BudgetJson[];
    expect(budget?.status).toBe('exceeded');
    expect(budget?.used.tokens).toBeGreaterThanOrEqual(LIMIT_TOKENS);
    const table = await sandbox.cli(['budgets']);
    expectOk(table);
    expect(table.stdout).toMatch(/project spender\s+daily\s+5\.0k tok/);
    expect(table.stdout).toContain('exceeded');
  });

  it('4. refuses the next launch with the full budget message and exit code 5', async () => {
    const refused = await sandbox.cli(['launch', 'spender', '--prompt', 'more']);
    expect({ code: refused.code, stdout: refused.stdout }).toEqual({ code: 5, stdout: '' });
    expect(flatten(refused.stderr)).toMatch(
      new RegExp(
        'The budget of project spender \\(daily, tokens\\) is exhausted: limit 5,000 tokens, ' +
          'used [\\d,]+ tokens, reserved [\\d,]+ tokens, left 0 tokens, requested 100 tokens; ' +
          'the period ends at \\d{4}-\\d{2}-\\d{2}T00:00:00\\.000Z',
      ),
    );
    const runners = await sandbox.runners('spender');
    expect(runners.map((r) => r.id)).toEqual([need(spender, 'the spending runner').id]);
  });
  it('5. shows the spend in `usage` (sessions, then the budget) and in `budgets usage`', async () => {
    const projectId = need(spender, 'the spending runner').project.id;
    // session-store's statistics of the runner's Claude session, grouped by project.
    const usage = await eventually(
      'the spender session in `usage --json`',
      async () => {
        const result = await sandbox.cli(['usage', '--project', 'spender', '--json']);
        expectOk(result);
        const row = (JSON.parse(result.stdout) as UsageJson).rows.find((r) => r.key === projectId);
        return row && row.tokens.input + row.tokens.output >= LIMIT_TOKENS ? row : null;
      },
      { timeoutMs: 30_000 },
    );
    expect(usage.name).toBe('spender');
    const table = await sandbox.cli(['usage', '--project', 'spender']);
    expectOk(table);
    expect(table.stdout).toMatch(/^Usage from \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2} \(UTC\)/);
    expect(table.stdout).toMatch(/\nspender\s/);
    // People also see the budget in its current period.
    expect(table.stdout).toContain('Budgets (current periods)');
    expect(table.stdout).toMatch(/project spender\s+daily\s+5\.0k tok/);
    expect(table.stdout).toContain('exceeded');

    // budget-service's ledger: every booked token, the same the budget counted.
    const summary = await eventually(
      '`budgets usage` totals equal to what the budget counted',
      async () => {
        const result = await sandbox.cli(['budgets', 'usage', '--project', 'spender', '--json']);
        expectOk(result);
        const reply = JSON.parse(result.stdout) as BudgetUsageJson;
        const used = reply.budgets[0]?.used.tokens;
        return used !== undefined && reply.totals.totalTokens === used ? reply : null;
      },
      { timeoutMs: 30_000 },
    );
    expect(summary.totals.totalTokens).toBeGreaterThanOrEqual(LIMIT_TOKENS);
    expect(summary.days.map((d) => d.projectId)).toEqual(summary.days.map(() => projectId));
    const days = await sandbox.cli(['budgets', 'usage', '--project', 'spender']);
    expectOk(days);
    expect(days.stdout).toMatch(/project spender\s+daily\s+5\.0k tok/);
    expect(days.stdout).toMatch(/Usage from \S+ to \S+ \(days in UTC\):/);
    expect(days.stdout).toMatch(/\d{4}-\d{2}-\d{2}\s+spender\s/);
    expect(days.stdout).toMatch(/\ntotal\s/);
  });

  it('6. removes the budget with `budgets rm`: the session the budget stopped resumes', async () => {
    const listed = await sandbox.cli(['budgets', '--project', 'spender', '--json']);
    expectOk(listed);
    const id = need((JSON.parse(listed.stdout) as BudgetJson[])[0]?.id, 'the budget id');

    const removed = await sandbox.cli(['budgets', 'rm', '--project', 'spender']);
    expectOk(removed);
    expect(removed.stdout.trim()).toBe(`Removed the project spender budget ${id}.`);
    const after = await sandbox.cli(['budgets', '--project', 'spender', '--json']);
    expectOk(after);
    expect(JSON.parse(after.stdout)).toEqual([]);
    const usage = await sandbox.cli(['usage', '--project', 'spender']);
    expectOk(usage);
    expect(usage.stdout.trim()).toMatch(/No budgets: spending is unlimited\.$/);

    const again = await sandbox.cli(['budgets', 'rm', '--project', 'spender']);
    expect(again.code).toBe(3);
    expect(flatten(again.stderr)).toContain(
      `budget for project ${need(spender, 'the spending runner').project.id} not found`,
    );

    // The session the budget stopped goes on: \`resume\` is admitted now, in the same session.
    const stopped = await sandbox.runner(need(spender, 'the spending runner').id);
    const session = need(stopped.sessionId ?? undefined, 'the stopped runner session');
    const resumed = await sandbox.cli(['resume', session, '--prompt', 'go on', '--json']);
    expectOk(resumed);
    const runner = JSON.parse(resumed.stdout) as RunnerView;
    sandbox.track([runner]);
    const running = await eventually(
      `runner ${runner.id} to report the resumed session`,
      async () => {
        const view = await sandbox.runner(runner.id);
        if (view.state === 'failed') throw new GiveUp(`it failed: ${view.failureReason}`);
        return view.state === 'running' && view.sessionId !== null ? view : null;
      },
      { timeoutMs: STOP_TIMEOUT_MS },
    );
    expect(running.sessionId).toBe(session);
    expectOk(await sandbox.cli(['kill', runner.id]));
  });

  it('7. anchors a global budget with --period-start, then removes it by id', async () => {
    const set = await sandbox.cli([
      'budgets',
      'set',
      '--global',
      '--tokens',
      '1G',
      '--period',
      'monthly',
      '--tz',
      'Asia/Tokyo',
      '--period-start',
      '2026-03-01T09:00',
      '--json',
    ]);
    expectOk(set);
    const { budget } = JSON.parse(set.stdout) as {
      budget: BudgetJson & { timeZone: string; periodAnchor: unknown };
    };
    expect(budget).toMatchObject({
      scope: { kind: 'global' },
      timeZone: 'Asia/Tokyo',
      periodAnchor: { weekStartsOn: 7, monthDay: 1, timeOfDay: '09:00' },
    });
    // The 1st at 09:00 in Tokyo is midnight UTC.
    expect(budget.periodEnd).toMatch(/^\d{4}-\d{2}-01T00:00:00\.000Z$/);

    const removed = await sandbox.cli(['budgets', 'rm', budget.id]);
    expectOk(removed);
    expect(removed.stdout.trim()).toBe(`Removed the global budget ${budget.id}.`);
    const after = await sandbox.cli(['budgets', '--json']);
    expectOk(after);
    expect(JSON.parse(after.stdout)).toEqual([]);
  });
});
