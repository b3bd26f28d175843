import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

import { type AttachRunnerReply } from '@stratavore/contracts';

import { useFakeApi } from '../testing/command-test-env.test-support';
import { apiError, aProject, aRunner, RUNNER_ID } from '../testing/fixtures.test-support';
import { runCommand } from '../testing/run-command.test-support';

/**
 * A stand-in for the interactive agent: a real process that records its argv, working
 * directory and the variables the agent reads, then exits with `FAKE_AGENT_EXIT`.
 */
const FAKE_AGENT = `
const fs = require('node:fs');
fs.writeFileSync(process.env.FAKE_AGENT_RECORD, JSON.stringify({
  argv: process.argv.slice(2),
  cwd: process.cwd(),
  env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('STRATAVORE_'))),
}));
process.exit(Number(process.env.FAKE_AGENT_EXIT || 0));
`;

interface Recorded {
  readonly argv: string[];
  readonly cwd: string;
  readonly env: Record<string, string>;
}

describe('stratavore run', () => {
  const t = useFakeApi();

  function setUp(exitCode = 0) {
    const agentPath = join(t.dir(), 'fake-agent.js');
    writeFileSync(agentPath, FAKE_AGENT);
    const record = join(t.dir(), 'record.json');
    const project = join(t.dir(), 'project');
    mkdirSync(project, { recursive: true });
    const env = {
      ...t.env(),
      STRATAVORE_AGENT_PATH: agentPath,
      STRATAVORE_DATA_DIR: join(t.dir(), 'data'),
      FAKE_AGENT_RECORD: record,
      FAKE_AGENT_EXIT: String(exitCode),
    };
    const recorded = () => JSON.parse(readFileSync(record, 'utf8')) as Recorded;
    return { env, project, recorded, ran: () => existsSync(record) };
  }

  function attached(command: string[], cwd: string): AttachRunnerReply {
    return {
      runner: aRunner({
        state: 'starting',
        mode: 'interactive',
        attached: true,
        command,
        prompt: null,
        pid: null,
        agentPid: null,
        cwd,
      }),
      token: 'runner-token-in-clear',
      heartbeatUrl: 'http://127.0.0.1:7414',
      heartbeatIntervalMs: 10_000,
    };
  }

  it('registers a Claude runner with a session id, runs the agent here and exits with it', async () => {
    const s = setUp();
    t.api().expect({
      method: 'POST',
      path: '/api/v1/projects/web-app/runners/attach',
      status: 201,
      // The runner carries the command the CLI built (with the session id it chose).
      reply: (body: unknown) => attached((body as { command: string[] }).command, s.project),
    });

    const result = await runCommand(['run', 'web-app', '--', 'claude', '--model', 'opus'], {
      env: s.env,
    });

    expect(result.exitCode).toBe(0);
    const body = t.api().received[0]?.body as { command: string[]; host: string };
    const sessionId = body.command[2] as string;
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(body).toEqual({
      command: ['claude', '--session-id', sessionId, '--model', 'opus'],
      host: hostname(),
    });
    const agent = s.recorded();
    expect(agent.argv).toEqual([
      '--interval',
      '10000ms',
      '--',
      'claude',
      '--session-id',
      sessionId,
      '--model',
      'opus',
    ]);
    expect(agent.cwd).toBe(s.project);
    expect(agent.env).toMatchObject({
      STRATAVORE_RUNNER_ID: RUNNER_ID,
      STRATAVORE_RUNNER_TOKEN: 'runner-token-in-clear',
      STRATAVORE_HEARTBEAT_URL: 'http://127.0.0.1:7414',
      STRATAVORE_LOG_DIR: join(t.dir(), 'data', 'runners'),
    });
    // The CLI's own key never reaches the agent or the command.
    expect(agent.env).not.toHaveProperty('STRATAVORE_API_KEY');
    expect(result.stderr).toContain(
      `-- runner ${RUNNER_ID} in web-app (${s.project}), Claude session ${sessionId}`,
    );
    expect(result.stderr).toContain(`-- runner ${RUNNER_ID} ended (exit 0)`);
  });

  it("runs the project's command when none is given, and prints a summary with --json", async () => {
    const s = setUp();
    t.api().expect(
      {
        method: 'GET',
        path: '/api/v1/projects/web-app',
        reply: aProject({ command: ['bash', '-l'], path: s.project }),
      },
      {
        method: 'POST',
        path: '/api/v1/projects/web-app/runners/attach',
        body: { command: ['bash', '-l'], host: hostname(), estimateTokens: 200_000 },
        status: 201,
        reply: attached(['bash', '-l'], s.project),
      },
    );

    const result = await runCommand(
      [
        'run',
        'web-app',
        '--estimate-tokens',
        '200k',
        '--heartbeat-url',
        'http://ingest:7414',
        '--json',
      ],
      { env: s.env },
    );

    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      runnerId: RUNNER_ID,
      project: 'web-app',
      sessionId: null,
      cwd: s.project,
      exitCode: 0,
    });
    expect(s.recorded().argv).toEqual(['--interval', '10000ms', '--', 'bash', '-l']);
    expect(s.recorded().env.STRATAVORE_HEARTBEAT_URL).toBe('http://ingest:7414');
  });

  it("exits with the command's exit code", async () => {
    const s = setUp(3);
    t.api().expect({
      method: 'POST',
      path: '/api/v1/projects/web-app/runners/attach',
      body: { command: ['make', 'test'], cwd: s.project, host: hostname() },
      status: 201,
      reply: attached(['make', 'test'], s.project),
    });

    const result = await runCommand(['run', 'web-app', '--cwd', s.project, '--', 'make', 'test'], {
      env: s.env,
    });

    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain(`-- runner ${RUNNER_ID} ended (exit 3)`);
  });

  it('exits 4 when the project is full, without starting anything', async () => {
    const s = setUp();
    t.api().expect({
      method: 'POST',
      path: '/api/v1/projects/web-app/runners/attach',
      status: 409,
      reply: apiError(
        409,
        'QUOTA_EXCEEDED',
        `project web-app allows 1 concurrent runner; held by ${RUNNER_ID} (waiting)`,
      ),
    });

    const result = await runCommand(['run', 'web-app', '--', 'bash'], { env: s.env });

    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain('allows 1 concurrent runner');
    expect(s.ran()).toBe(false);
  });

  it('refuses bad input before asking the API (exit 2, naming the flag)', async () => {
    const s = setUp();
    const stray = await runCommand(['run', 'web-app', 'claude'], { env: s.env });
    expect(stray.exitCode).toBe(2);
    expect(stray.stderr).toContain('Unexpected argument claude: put the command after --');

    const nowhere = await runCommand(['run', 'web-app', '--cwd', '/no/such/dir', '--', 'bash'], {
      env: s.env,
    });
    expect(nowhere.exitCode).toBe(2);
    expect(nowhere.stderr).toContain('--cwd: /no/such/dir does not exist');

    const badUrl = await runCommand(['run', 'web-app', '--heartbeat-url', 'ingest', '--', 'bash'], {
      env: s.env,
    });
    expect(badUrl.exitCode).toBe(2);
    expect(badUrl.stderr).toContain('--heartbeat-url: expected an http(s) URL');

    const noAgent = await runCommand(['run', 'web-app', '--', 'bash'], {
      env: { ...s.env, STRATAVORE_AGENT_PATH: join(t.dir(), 'missing.js') },
    });
    expect(noAgent.exitCode).toBe(2);
    expect(noAgent.stderr).toContain('The Stratavore agent is not at');
    expect(s.ran()).toBe(false);
  });
});
