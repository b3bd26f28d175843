import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { waitFor } from '@stratavore/testing';

import { AgentSpawner, type SpawnRequest } from './agent-spawner';

/** Present and not a zombie. */
function running(pid: number): boolean {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** `/proc/<pid>/stat` field 6. */
function sessionOf(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[3]);
}

describe('AgentSpawner', () => {
  const spawners: AgentSpawner[] = [];
  const started: number[] = [];
  let dir: string;

  function spawner(): AgentSpawner {
    const created = new AgentSpawner();
    spawners.push(created);
    return created;
  }

  /** `sh -c <script> sh <args...>` with PATH and `env`, logging to `<dir>/logs/<name>.log`. */
  function shell(script: string, options: Partial<SpawnRequest> & { name?: string } = {}) {
    return {
      file: 'sh',
      args: ['-c', script, 'sh', ...(options.args ?? [])],
      cwd: options.cwd ?? dir,
      env: { PATH: process.env.PATH, ...options.env },
      logFile: options.logFile ?? join(dir, 'logs', `${options.name ?? 'agent'}.log`),
    };
  }

  async function spawned(from: AgentSpawner, request: SpawnRequest): Promise<number> {
    const pid = await from.spawn(request);
    started.push(pid);
    return pid;
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'agent-spawner-'));
  });

  afterEach(async () => {
    for (const pid of started.splice(0)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    for (const created of spawners.splice(0)) {
      const pid = created.pid;
      created.close();
      if (pid !== undefined)
        await waitFor(() => !running(pid), { description: 'the helper to exit' });
    }
  });

  it('starts the process detached, in its cwd with its args, its output appended to the log', async () => {
    const from = spawner();
    const logFile = join(dir, 'logs', 'nested', 'agent.log');
    const pid = await spawned(
      from,
      shell('echo "$GREETING from $PWD with $1"; echo oops >&2; exec sleep 30', {
        args: ['arg-1'],
        env: { GREETING: 'hello' },
        logFile,
      }),
    );

    expect(pid).not.toBe(from.pid);
    expect(sessionOf(pid)).toBe(pid);
    await waitFor(() => readFileSync(logFile, 'utf8').includes('oops'), {
      description: 'the output in the log',
    });
    expect(readFileSync(logFile, 'utf8')).toBe(`hello from ${dir} with arg-1\noops\n`);
  });

  it("gives the process the request's environment and nothing of its own", async () => {
    const pid = await spawned(spawner(), {
      file: 'sleep',
      args: ['30'],
      cwd: dir,
      env: { PATH: process.env.PATH, GREETING: 'hello' },
      logFile: join(dir, 'sleep.log'),
    });
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
    expect(environ.sort()).toEqual([`GREETING=hello`, `PATH=${process.env.PATH}`].sort());
  });

  it('starts many at once, each with its own pid, from one helper', async () => {
    const from = spawner();
    const pids = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        spawned(from, shell('exec sleep 30', { name: `agent-${i}` })),
      ),
    );
    expect(new Set(pids).size).toBe(6);
    expect(pids.every(running)).toBe(true);
  });

  it('rejects with the cause for a missing directory or program, and goes on working', async () => {
    const from = spawner();
    await expect(
      from.spawn(shell('exit 0', { cwd: join(dir, 'does-not-exist') })),
    ).rejects.toMatchObject({ code: 'ENOENT', message: expect.stringMatching(/ENOENT/) as string });
    await expect(
      from.spawn({ ...shell('exit 0'), file: 'no-such-program-anywhere' }),
    ).rejects.toMatchObject({ code: 'ENOENT' });

    expect(running(await spawned(from, shell('exec sleep 30')))).toBe(true);
  });

  it('leaves the processes running when the helper dies, and starts another helper', async () => {
    const from = spawner();
    const first = await spawned(from, shell('exec sleep 30'));
    const helper = from.pid!;
    process.kill(helper, 'SIGKILL');
    await waitFor(() => from.pid === undefined, { description: 'the helper to be seen dead' });

    expect(running(first)).toBe(true);
    const second = await spawned(from, shell('exec sleep 30'));
    expect(running(second)).toBe(true);
    expect(from.pid).not.toBe(helper);
  });

  it('fails a request in flight when the helper dies', async () => {
    const from = spawner();
    await spawned(from, shell('exit 0'));
    // Opening a FIFO for writing blocks until a reader comes: the request stays in flight.
    const fifo = join(dir, 'blocking.log');
    execFileSync('mkfifo', [fifo]);
    const inFlight = from.spawn(shell('exit 0', { logFile: fifo }));
    process.kill(from.pid!, 'SIGKILL');

    await expect(inFlight).rejects.toThrow('the agent spawner exited (SIGKILL)');
  });

  it('ends the helper on close and keeps the processes it started', async () => {
    const from = spawner();
    const pid = await spawned(from, shell('exec sleep 30'));
    const helper = from.pid!;
    from.close();

    await waitFor(() => !running(helper), { description: 'the helper to exit' });
    expect(running(pid)).toBe(true);
    expect(existsSync(join(dir, 'logs', 'agent.log'))).toBe(true);
  });
});
