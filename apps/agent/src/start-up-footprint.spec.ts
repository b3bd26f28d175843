import { execFileSync } from 'node:child_process';
import { join, relative } from 'node:path';

const WORKSPACE_ROOT = join(__dirname, '..', '..', '..');

/**
 * Every module the agent loads before it can report: the agent starts for every runner, and each
 * module costs CPU on its way to the first heartbeat (docs/benchmarks.md, "launch"). Loads
 * `main.ts` for real (through @swc-node/register with the workspace aliases, as the benches do),
 * with `--help`, which returns once every import ran.
 */
function modulesLoadedByTheAgent(): string[] {
  const script = [
    "process.on('exit', () => process.stdout.write('\\n' + JSON.stringify(Object.keys(require.cache))));",
    "process.argv = [process.argv[0], 'stratavore-agent', '--help'];",
    `require(${JSON.stringify(join(WORKSPACE_ROOT, 'apps/agent/src/main.ts'))});`,
  ].join('\n');
  const output = execFileSync(process.execPath, ['-r', '@swc-node/register', '-e', script], {
    cwd: WORKSPACE_ROOT,
    env: {
      ...process.env,
      SWC_NODE_PROJECT: join(WORKSPACE_ROOT, 'tsconfig.base.json'),
      // The module list is the same with the code cache; the test leaves ~/.cache alone.
      STRATAVORE_AGENT_COMPILE_CACHE: 'off',
    },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The usage text comes first; the module list is the last line.
  const lastLine = output.trim().split('\n').at(-1) ?? '[]';
  return (JSON.parse(lastLine) as string[]).map((file) => relative(WORKSPACE_ROOT, file));
}

/** `node_modules/@scope/name/...` -> `@scope/name`. */
function packageOf(file: string): string | null {
  return /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? null;
}

/** The modules whose path starts with one of `prefixes`. */
function modulesUnder(modules: readonly string[], prefixes: readonly string[]): string[] {
  return modules.filter((file) => prefixes.some((prefix) => file.startsWith(prefix)));
}

describe('the agent at start-up', () => {
  let modules: string[];

  beforeAll(() => {
    modules = modulesLoadedByTheAgent();
  }, 120_000);

  it('loads its own code and the light entry points only', () => {
    expect(modules).toContain('apps/agent/src/main.ts');
    // Proof that the list is the agent's: the heartbeat client it reports with.
    expect(modules).toContain('libs/shared/api-client/src/heartbeat/index.ts');
    expect(modules).toContain('libs/agent/feature/src/detached-agent.ts');
    expect(
      modulesUnder(modules, [
        'libs/shared/observability/',
        'libs/shared/contracts/src/index.ts',
        'libs/shared/api-client/src/index.ts',
        'libs/agent/feature/src/index.ts',
      ]),
    ).toEqual([]);
  });

  it('loads no zod: no contract schema, config schema or Claude Code adapter before it reports', () => {
    // Each of these builds zod schemas at load; they are loaded when needed (a configuration
    // problem, STRATAVORE_CLAUDE_PRICING, an answer other than the usual 200, a Claude command).
    expect(
      modulesUnder(modules, [
        'libs/shared/contracts/',
        'libs/shared/config/',
        'libs/shared/claude-code/',
        'libs/shared/api-client/src/json-request.ts',
        'libs/agent/feature/src/agent-config.schema.ts',
        'libs/agent/feature/src/claude-',
      ]),
    ).toEqual([]);
    expect(new Set(modules.map(packageOf))).not.toContain('zod');
  });

  it('loads no NestJS, rxjs or Prometheus client', () => {
    const packages = new Set(modules.map(packageOf).filter((name) => name !== null));
    const heavy = [...packages].filter(
      (name) =>
        name.startsWith('@nestjs/') ||
        ['rxjs', 'prom-client', 'reflect-metadata', '@willsoto/nestjs-prometheus'].includes(name),
    );
    expect(heavy).toEqual([]);
  });

  it('loads no pino: its logger is created after the first heartbeat', () => {
    expect(modulesUnder(modules, ['libs/shared/logging/'])).toEqual([]);
    const packages = new Set(modules.map(packageOf));
    expect(['pino', 'sonic-boom', 'thread-stream'].filter((name) => packages.has(name))).toEqual(
      [],
    );
  });
});
