// Resources the jest global setup starts for one `jest` run and the teardown stops. Imported
// by relative path: jest's moduleNameMapper does not apply to globalSetup files.
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

// eslint-disable-next-line @nx/enforce-module-boundaries -- globalSetup gets no moduleNameMapper
import {
  startEmbeddedPostgres,
  stopServerInDataDir,
} from '../../libs/shared/embedded-postgres/src/embedded-postgres';
// eslint-disable-next-line @nx/enforce-module-boundaries -- globalSetup gets no moduleNameMapper
import { AMQP_URL_HOW_TO } from '../../libs/shared/testing/src/amqp-url';

/** `terminal`: suites that drive a real terminal (tmux) against stand-ins; no server. */
export type TestTier = 'default' | 'amqp' | 'terminal';

interface Resources {
  readonly stops: Array<() => Promise<void>>;
  readonly previousEnv: Record<string, string | undefined>;
}

const RESOURCES = Symbol.for('stratavore.jest.resources');
type GlobalWithResources = typeof globalThis & { [RESOURCES]?: Resources };

/** Images used when a Docker engine provides the brokers of the amqp tier. */
const RABBITMQ_IMAGE = 'rabbitmq:4-management-alpine';
const POSTGRES_IMAGE = 'postgres:17-alpine';

export function testTier(env = process.env): TestTier {
  const tier = env.STRATAVORE_TEST_TIER ?? 'default';
  if (tier !== 'default' && tier !== 'amqp' && tier !== 'terminal') {
    throw new Error(
      `STRATAVORE_TEST_TIER must be unset, "default", "amqp" or "terminal"; got "${tier}"`,
    );
  }
  return tier;
}

interface ProjectLike {
  readonly rootDir: string;
}
interface GlobalLike {
  readonly testPathPatterns?: { readonly patterns?: readonly string[] } | readonly string[];
}

/** The test files of this run that need a server: integration specs of the current tier. */
export function serverBoundTestFiles(
  tier: TestTier,
  globalConfig: GlobalLike,
  project: ProjectLike,
): string[] {
  const filters = pathFilters(globalConfig);
  const wanted = (file: string) => {
    if (tier === 'amqp') return file.endsWith('.amqp.int-spec.ts');
    if (tier === 'terminal') return false;
    return (
      file.endsWith('.int-spec.ts') &&
      !file.endsWith('.amqp.int-spec.ts') &&
      !file.endsWith('.terminal.int-spec.ts')
    );
  };
  return listFiles(path.join(project.rootDir, 'src')).filter(
    (file) => wanted(file) && (filters.length === 0 || filters.some((filter) => filter.test(file))),
  );
}

function pathFilters(globalConfig: GlobalLike): RegExp[] {
  const raw = globalConfig.testPathPatterns;
  const patterns = Array.isArray(raw)
    ? raw
    : ((raw as { patterns?: readonly string[] } | undefined)?.patterns ?? []);
  return patterns.map((pattern: string) => new RegExp(pattern, 'i'));
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules') return [];
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? listFiles(full) : [full];
  });
}

function resources(): Resources {
  const holder = globalThis as GlobalWithResources;
  holder[RESOURCES] ??= { stops: [], previousEnv: {} };
  return holder[RESOURCES];
}

function setEnv(name: string, value: string): void {
  const state = resources();
  if (!(name in state.previousEnv)) state.previousEnv[name] = process.env[name];
  process.env[name] = value;
}

async function dockerAnswers(): Promise<boolean> {
  if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock')) return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

const WORK_DIR_PREFIX = 'stratavore-jest-pg-';
const OWNER_FILE = 'owner.pid';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the embedded servers of earlier runs whose jest process died without its teardown
 * (SIGKILL, a killed terminal): their owner pid is gone, so their server and directory are
 * orphans. Directories of runs still alive (parallel projects) are left alone.
 */
async function reapOrphanedServers(): Promise<void> {
  const tmp = os.tmpdir();
  for (const entry of readdirSync(tmp).filter((name) => name.startsWith(WORK_DIR_PREFIX))) {
    const workDir = path.join(tmp, entry);
    const owner = Number.parseInt(
      await readFile(path.join(workDir, OWNER_FILE), 'utf8').catch(() => ''),
      10,
    );
    if (!Number.isInteger(owner) || owner <= 0 || isAlive(owner)) continue;
    await stopServerInDataDir(path.join(workDir, 'data'), { timeoutMs: 5_000 });
    await rm(workDir, { recursive: true, force: true });
  }
}

/**
 * A terminal Ctrl-C (or a SIGTERM from a CI runner) ends jest without its teardown; the server
 * runs in its own process group and would outlive it. Ask it for a fast shutdown, then let the
 * signal take its default course.
 */
function stopOnSignals(pid: number): () => void {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const handler = (signal: NodeJS.Signals) => {
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      // already gone
    }
    for (const s of signals) process.removeListener(s, handler);
    process.kill(process.pid, signal);
  };
  for (const s of signals) process.once(s, handler);
  return () => {
    for (const s of signals) process.removeListener(s, handler);
  };
}

async function startEmbeddedDatabase(): Promise<void> {
  const started = Date.now();
  await reapOrphanedServers();
  const workDir = await mkdtemp(path.join(os.tmpdir(), WORK_DIR_PREFIX));
  await writeFile(path.join(workDir, OWNER_FILE), String(process.pid));
  const server = await startEmbeddedPostgres({
    dataDir: path.join(workDir, 'data'),
    // A throwaway cluster: durability settings off for speed, room for parallel workers' pools.
    settings: {
      max_connections: '300',
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
    },
  });
  const forgetSignals = stopOnSignals(server.pid);
  resources().stops.push(async () => {
    forgetSignals();
    await server.stop();
    await rm(workDir, { recursive: true, force: true });
  });
  setEnv('DATABASE_URL', server.url);
  if (process.env.STRATAVORE_TEST_VERBOSE) {
    process.stderr.write(
      `\n[jest] embedded PostgreSQL on ${server.url} in ${Date.now() - started} ms\n`,
    );
  }
}

async function startContainers(withPostgres: boolean): Promise<void> {
  const { RabbitMQContainer } = await import('@testcontainers/rabbitmq');
  const rabbit = await new RabbitMQContainer(RABBITMQ_IMAGE).start();
  resources().stops.push(async () => {
    await rabbit.stop();
  });
  setEnv('AMQP_URL', rabbit.getAmqpUrl());
  if (withPostgres) {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const postgres = await new PostgreSqlContainer(POSTGRES_IMAGE).start();
    resources().stops.push(async () => {
      await postgres.stop();
    });
    setEnv('DATABASE_URL', postgres.getConnectionUri());
  }
}

/**
 * default tier: `DATABASE_URL`, else one embedded PostgreSQL for this run (only when the run
 * has PostgreSQL integration specs). amqp tier: `AMQP_URL`, else RabbitMQ (and PostgreSQL when
 * `DATABASE_URL` is unset) from a Docker engine, else fail at once with instructions; the
 * database otherwise falls back to embedded PostgreSQL as in the default tier.
 */
export async function setUpTestResources(
  globalConfig: GlobalLike,
  project: ProjectLike,
): Promise<void> {
  const tier = testTier();
  if (serverBoundTestFiles(tier, globalConfig, project).length === 0) return;
  try {
    if (tier === 'amqp' && !process.env.AMQP_URL) {
      if (!(await dockerAnswers())) {
        throw new Error(`AMQP_URL is not set and no Docker engine answers.\n${AMQP_URL_HOW_TO}`);
      }
      await startContainers(!process.env.DATABASE_URL);
    }
    if (!process.env.DATABASE_URL) await startEmbeddedDatabase();
  } catch (error) {
    await tearDownTestResources();
    throw error;
  }
}

/** Stops what the setup started, last started first, and restores the environment. */
export async function tearDownTestResources(): Promise<void> {
  const state = resources();
  const failures: unknown[] = [];
  for (const stop of state.stops.splice(0).reverse()) {
    try {
      await stop();
    } catch (error) {
      failures.push(error);
    }
  }
  for (const [name, value] of Object.entries(state.previousEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  for (const name of Object.keys(state.previousEnv)) delete state.previousEnv[name];
  if (failures.length > 0) throw new AggregateError(failures, 'stopping test resources failed');
}
