import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
});
