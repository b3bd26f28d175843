// Smoke test of the single-node daemon as a user runs it (`npm start`, i.e. start.mjs): start on
// a fresh data directory
// (embedded PostgreSQL, in-process bus), wait for health, check metrics, SIGTERM, expect a
// clean exit with no postgres left behind; then start again on the same data and stop again.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const start = join(root, 'tools/scripts/start.mjs');
const dataDir = mkdtempSync(join(tmpdir(), 'stratavored-smoke-'));
const deadline = (ms) => Date.now() + ms;

function fail(message) {
  console.error(`smoke: FAILED: ${message}`);
  process.exitCode = 1;
  throw new Error(message);
}

async function poll(what, fn, ms) {
  const until = deadline(ms);
  let last;
  while (Date.now() < until) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  fail(`${what} within ${ms} ms${last ? ` (last error: ${last.message})` : ''}`);
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function runOnce(label) {
  const env = {
    ...process.env,
    STRATAVORE_DATA_DIR: dataDir,
    HTTP_PORT: '0',
    LOG_LEVEL: 'info',
  };
  delete env.DATABASE_URL;
  delete env.AMQP_URL;
  env.STRATAVORE_CONFIG = join(dataDir, 'cli.json');
  const started = Date.now();
  const child = spawn(process.execPath, [start], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  try {
    const url = await poll(
      `${label}: the daemon announces its API URL`,
      () => output.match(/listening on (http:\/\/[^\s"]+)/)?.[1],
      90_000,
    );
    await poll(
      `${label}: /health/ready answers 200`,
      async () => (await fetch(`${url}/health/ready`)).ok,
      30_000,
    );
    const live = await fetch(`${url}/health/live`);
    if (!live.ok) fail(`${label}: /health/live answered ${live.status}`);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    if (!metrics.includes('process_cpu_user_seconds_total'))
      fail(`${label}: /metrics lacks process metrics`);
    const readyMs = Date.now() - started;
    const pid = Number(
      readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0],
    );
    child.kill('SIGTERM');
    const { code, signal } = await Promise.race([
      exited,
      new Promise((resolve) => setTimeout(() => resolve({ code: 'timeout' }), 30_000)),
    ]);
    if (code !== 0) fail(`${label}: exit after SIGTERM was ${code ?? signal}`);
    await poll(
      `${label}: embedded postgres (pid ${pid}) gone after stop`,
      () => !isAlive(pid),
      10_000,
    );
    console.log(
      `smoke: ${label}: ready in ${readyMs} ms at ${url}, clean stop, postgres ${pid} gone`,
    );
    if (!existsSync(join(dataDir, 'cli.json'))) {
      fail(`${label}: no CLI config with an admin key was written`);
    }
  } catch (error) {
    child.kill('SIGKILL');
    console.error(output.split('\n').slice(-40).join('\n'));
    throw error;
  }
}

try {
  await runOnce('first start');
  const pgVersion = statSync(join(dataDir, 'postgres', 'PG_VERSION')).mtimeMs;
  await runOnce('second start');
  if (statSync(join(dataDir, 'postgres', 'PG_VERSION')).mtimeMs !== pgVersion) {
    fail('second start re-initialised the data directory instead of reusing it');
  }
  console.log('smoke: passed');
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
