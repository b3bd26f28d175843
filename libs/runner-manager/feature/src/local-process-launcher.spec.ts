import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type Project, type Runner, ZERO_TOKENS } from '@stratavore/runner-manager-domain';
import { waitFor } from '@stratavore/testing';

import { LocalProcessLauncher } from './local-process-launcher';

describe('LocalProcessLauncher', () => {
  it('spawns the agent detached in the project path with the runner env, token never in argv', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'launcher-'));
    const out = join(dir, 'seen.json');
    const agent = join(dir, 'fake-agent.js');
    writeFileSync(
      agent,
      `require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify({
        argv: process.argv.slice(2), cwd: process.cwd(), env: process.env }));`,
    );
    const launcher = new LocalProcessLauncher({
      agentMainPath: agent,
      heartbeatUrl: 'http://127.0.0.1:9/api',
      logDir: join(dir, 'logs'),
      heartbeatIntervalMs: 500,
      baseEnv: { PATH: process.env.PATH },
      host: 'box',
    });
    const project: Project = {
      id: '00000000-0000-4000-8000-000000000001',
      name: 'p',
      path: dir,
      description: '',
      command: ['claude'],
      maxRunners: 1,
      env: [{ name: 'API_KEY', value: 'hunter2', secret: true }],
      createdAt: new Date(),
      updatedAt: new Date(),
      archivedAt: null,
      estimateTokens: null,
      estimateUsd: null,
    };
    const runner = {
      id: '00000000-0000-4000-8000-000000000002',
      projectId: project.id,
      command: ['claude', '-p', 'hi'],
      prompt: null,
      agentPid: null,
      tokens: ZERO_TOKENS,
    } as unknown as Runner;

    const agentProcess = await launcher.launch({ runner, project, token: 'tok-123' });
    expect(agentProcess).toEqual({ pid: expect.any(Number) as number, host: 'box' });
    const seen = await waitFor(
      () =>
        JSON.parse(readFileSync(out, 'utf8')) as {
          argv: string[];
          cwd: string;
          env: Record<string, string>;
        },
      { description: 'the fake agent to report', timeoutMs: 10_000 },
    );
    expect(seen.argv).toEqual(['--interval', '500ms', '--', 'claude', '-p', 'hi']);
    expect(seen.cwd).toBe(dir);
    expect(seen.env).toMatchObject({
      STRATAVORE_RUNNER_ID: runner.id,
      STRATAVORE_RUNNER_TOKEN: 'tok-123',
      STRATAVORE_HEARTBEAT_URL: 'http://127.0.0.1:9/api',
      STRATAVORE_LOG_DIR: join(dir, 'logs'),
      API_KEY: 'hunter2',
    });
    // Signalling an agent that is gone is not an error.
    await waitFor(() => {
      try {
        process.kill(agentProcess.pid, 0);
        return false;
      } catch {
        return true;
      }
    });
    await expect(
      launcher.signal({ ...runner, agentPid: agentProcess.pid }, 'SIGTERM'),
    ).resolves.toBeUndefined();
  });

  it('rejects when the project path does not exist', async () => {
    const launcher = new LocalProcessLauncher({
      agentMainPath: '/nonexistent/agent.js',
      heartbeatUrl: 'http://127.0.0.1:9',
      logDir: mkdtempSync(join(tmpdir(), 'launcher-logs-')),
    });
    const runner = {
      id: '00000000-0000-4000-8000-000000000003',
      command: ['x'],
      prompt: null,
    } as unknown as Runner;
    const project = { path: '/nonexistent/project', env: [] } as unknown as Project;
    await expect(launcher.launch({ runner, project, token: 't' })).rejects.toThrow(/ENOENT/);
  });

  describe('readLog', () => {
    const runnerId = '00000000-0000-4000-8000-0000000000cc';
    const read = { offset: 0, limitBytes: 1024, complete: false };
    const ranOn = (host: string | null) => ({ id: runnerId, host }) as unknown as Runner;

    it("serves <logDir>/<runner-id>.log, the file the agent writes the child's output to", async () => {
      const logDir = mkdtempSync(join(tmpdir(), 'launcher-logs-'));
      writeFileSync(join(logDir, `${runnerId}.log`), 'hello\nbye\n');
      const launcher = new LocalProcessLauncher({
        agentMainPath: '/unused',
        heartbeatUrl: 'http://127.0.0.1:9',
        logDir,
        host: 'this-box',
      });
      for (const host of ['this-box', 'another-box']) {
        await expect(launcher.readLog(ranOn(host), { ...read, tail: 1 })).resolves.toEqual({
          content: 'bye\n',
          offset: 6,
          nextOffset: 10,
          size: 10,
        });
      }
    });

    it('answers an empty log without a file here, and null for a runner of another host', async () => {
      const launcher = new LocalProcessLauncher({
        agentMainPath: '/unused',
        heartbeatUrl: 'http://127.0.0.1:9',
        logDir: mkdtempSync(join(tmpdir(), 'launcher-logs-')),
        host: 'this-box',
      });
      const empty = { content: '', offset: 0, nextOffset: 0, size: 0 };
      await expect(launcher.readLog(ranOn('this-box'), read)).resolves.toEqual(empty);
      await expect(launcher.readLog(ranOn(null), read)).resolves.toEqual(empty);
      await expect(launcher.readLog(ranOn('another-box'), read)).resolves.toBeNull();
    });
  });

  describe('reap', () => {
    const runnerId = '00000000-0000-4000-8000-0000000000aa';
    const OTHER_RUNNER_ID = '00000000-0000-4000-8000-0000000000bb';
    const started: Array<{ child: ChildProcess; pids: number[] }> = [];

    /** A detached process group like the agent's child: a shell leading it, a sleep inside. */
    async function processGroup(options: { ignoreTerm: boolean; detached?: boolean; id?: string }) {
      const dir = mkdtempSync(join(tmpdir(), 'reap-'));
      const pidFile = join(dir, 'inner.pid');
      const script = `${options.ignoreTerm ? 'trap "" TERM; ' : ''}sleep 300 & echo $! > ${pidFile}; wait`;
      const leader = spawn('sh', ['-c', script], {
        detached: options.detached ?? true,
        stdio: 'ignore',
        env: { PATH: process.env.PATH, STRATAVORE_RUNNER_ID: options.id ?? runnerId },
      });
      const entry = { child: leader, pids: [leader.pid!] };
      started.push(entry);
      const inner = await waitFor(() => Number(readFileSync(pidFile, 'utf8').trim()) || null, {
        description: 'the inner process to start',
      });
      entry.pids.push(inner);
      return { leader: leader.pid!, inner };
    }

    /** Running: present and not a zombie (orphans may never be reaped by this container's init). */
    function running(pid: number): boolean {
      const stat = `/proc/${pid}/stat`;
      if (!existsSync(stat)) return false;
      try {
        const text = readFileSync(stat, 'utf8');
        return text.slice(text.lastIndexOf(')') + 2)[0] !== 'Z';
      } catch {
        return false;
      }
    }

    function launcher(reapGraceMs = 20_000) {
      return new LocalProcessLauncher({
        agentMainPath: '/unused',
        heartbeatUrl: 'http://127.0.0.1:9',
        logDir: tmpdir(),
        host: 'this-box',
        reapGraceMs,
      });
    }

    const ranHere = (pid: number | null, host = 'this-box') =>
      ({ id: runnerId, pid, host }) as unknown as Runner;

    afterEach(async () => {
      for (const { child, pids } of started.splice(0)) {
        const exited = new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) resolve(undefined);
          else child.once('exit', resolve);
        });
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
        await exited;
      }
    });

    it('ends the whole process group with SIGTERM, without waiting for the grace', async () => {
      const group = await processGroup({ ignoreTerm: false });
      const began = Date.now();
      await launcher(20_000).reap(ranHere(group.leader));
      expect(Date.now() - began).toBeLessThan(10_000);
      expect(running(group.leader)).toBe(false);
      expect(running(group.inner)).toBe(false);
    });

    it('kills a group that ignores SIGTERM once the grace is over', async () => {
      const group = await processGroup({ ignoreTerm: true });
      await launcher(200).reap(ranHere(group.leader));
      await waitFor(() => !running(group.leader) && !running(group.inner), {
        description: 'the group to be killed',
      });
      expect([running(group.leader), running(group.inner)]).toEqual([false, false]);
    });

    it('is fine with a group that is already gone', async () => {
      const group = await processGroup({ ignoreTerm: false });
      process.kill(-group.leader, 'SIGKILL');
      await waitFor(() => !running(group.leader) && !running(group.inner));
      await expect(launcher().reap(ranHere(group.leader))).resolves.toBeUndefined();
    });

    it('signals nothing on another host, without a pid, for another runner or a non-leader', async () => {
      const ours = await processGroup({ ignoreTerm: false });
      const otherRunner = await processGroup({ ignoreTerm: false, id: OTHER_RUNNER_ID });
      const notLeader = await processGroup({ ignoreTerm: false, detached: false });
      const subject = launcher(200);

      await subject.reap(ranHere(ours.leader, 'another-box'));
      await subject.reap(ranHere(null));
      await subject.reap(ranHere(otherRunner.leader));
      await subject.reap(ranHere(notLeader.leader));
      // The inner sleep of the group: a member, not its leader.
      await subject.reap(ranHere(ours.inner));

      for (const pid of [ours.leader, ours.inner, otherRunner.leader, notLeader.leader]) {
        expect(running(pid)).toBe(true);
      }
    });
  });
});
