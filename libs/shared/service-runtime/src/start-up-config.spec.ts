import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const WORKSPACE_ROOT = join(__dirname, '..', '..', '..', '..');

/** The built apps, as deployments and `npm start` run them. */
const BUILT = {
  // A separately deployed service: its whole main.ts is runService().
  notifier: join(WORKSPACE_ROOT, 'dist/apps/notifier/apps/notifier/src/main.js'),
  // The single-node daemon: loads its own schema before it starts the embedded PostgreSQL.
  stratavored: join(WORKSPACE_ROOT, 'dist/apps/stratavored/apps/stratavored/src/main.js'),
} as const;

/** One start must fail well within this; the process is killed past it. */
const START_LIMIT_MS = 10_000;

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a built app with exactly `env` (no variable of the test run leaks in) until it exits. */
function runBuilt(main: string, env: Record<string, string>): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main], {
      cwd: WORKSPACE_ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${main} still ran after ${START_LIMIT_MS} ms:\n${stdout}${stderr}`));
    }, START_LIMIT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The log records (pino JSON lines) of both streams; other lines are kept as `{ raw }`. */
function records(exit: Exit): Array<Record<string, unknown>> {
  return `${exit.stdout}\n${exit.stderr}`
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return { raw: line };
      }
    });
}

/**
 * "A bad or missing variable stops start-up with one message naming every problem", checked on
 * the built apps rather than on loadConfig alone: the process must exit 1, before it listens
 * or connects to anything, with a single fatal record that names both bad variables.
 */
describe('start-up with a bad environment', () => {
  let dataDir: string;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'start-up-config-'));
    // Nx replays the build from its cache when nothing changed (CI builds before `npm test`).
    execFileSync(
      process.execPath,
      [
        realpathSync(join(WORKSPACE_ROOT, 'node_modules/.bin/nx')),
        'run-many',
        '-t',
        'build',
        '-p',
        'notifier',
        'stratavored',
        '--output-style=static',
      ],
      {
        cwd: WORKSPACE_ROOT,
        env: { ...process.env, NX_TUI: 'false' },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
  }, 300_000);

  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  function expectOneMessageNaming(exit: Exit, app: string, variables: readonly string[]): void {
    const all = records(exit);
    const fatal = all.filter((record) => record.level === 'fatal');
    expect(fatal).toHaveLength(1);
    const message = String(fatal[0]?.msg);
    expect(message).toContain(`Invalid configuration for ${app} (${variables.length} problems)`);
    for (const variable of variables) expect(message).toContain(`- ${variable}: `);
    // Nothing started: no HTTP server, no stack trace for an operator's typo.
    expect(all.some((record) => String(record.msg).includes('listening on'))).toBe(false);
    expect(fatal[0]).not.toHaveProperty('err');
  }

  it('a separately deployed service exits 1 naming both bad variables in one message', async () => {
    const exit = await runBuilt(BUILT.notifier, {
      DATABASE_URL: 'mysql://db.example:3306/stratavore',
      AMQP_URL: 'amqp://127.0.0.1:1',
      HTTP_PORT: 'eighty',
    });

    expect(exit).toMatchObject({ code: 1, signal: null });
    expectOneMessageNaming(exit, 'notifier', ['DATABASE_URL', 'HTTP_PORT']);
  });

  it('the daemon exits 1 naming both bad variables, before it starts PostgreSQL', async () => {
    const exit = await runBuilt(BUILT.stratavored, {
      STRATAVORE_DATA_DIR: dataDir,
      STRATAVORE_CONFIG: join(dataDir, 'cli.json'),
      DATABASE_URL: 'mysql://db.example:3306/stratavore',
      HTTP_PORT: '70000',
    });

    expect(exit).toMatchObject({ code: 1, signal: null });
    expectOneMessageNaming(exit, 'stratavored', ['DATABASE_URL', 'HTTP_PORT']);
    expect(existsSync(join(dataDir, 'postgres'))).toBe(false);
    expect(readdirSync(dataDir)).toEqual([]);
  });
});
