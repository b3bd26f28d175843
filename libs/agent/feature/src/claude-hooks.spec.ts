import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { RecordingLogger } from './agent-fakes.test-support';
import {
  AGENT_HOOK_EVENTS,
  type ClaudeHookInput,
  ClaudeHookListener,
  claudeHookSettings,
  withHookSettings,
} from './claude-hooks';

const URL = 'http://127.0.0.1:40001/hooks/abc';

function post(url: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' } });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('claudeHookSettings', () => {
  it('posts every hook the agent reads to one URL, for every matcher, with a timeout', () => {
    const { hooks } = claudeHookSettings(URL);
    expect(Object.keys(hooks)).toEqual([...AGENT_HOOK_EVENTS]);
    for (const [event, groups] of Object.entries(hooks)) {
      if (event === 'SessionStart') continue;
      expect(groups).toEqual([{ hooks: [{ type: 'http', url: URL, timeout: 10 }] }]);
    }
    // CLI 2.1.112 skips HTTP hooks for SessionStart: a command posts its stdin instead.
    expect(hooks.SessionStart).toEqual([
      {
        hooks: [
          { type: 'command', command: expect.stringContaining(`'${URL}'`) as string, timeout: 10 },
        ],
      },
    ]);
  });

  it("makes a SessionStart command that posts the hook's stdin, through a shell", async () => {
    const received: ClaudeHookInput[] = [];
    const listener = new ClaudeHookListener((input) => received.push(input));
    await listener.start();
    try {
      const [group] = claudeHookSettings(listener.url, process.execPath).hooks
        .SessionStart as Array<{ hooks: Array<{ command: string }> }>;
      const input = { hook_event_name: 'SessionStart', session_id: 's-1', source: "it's startup" };
      // Asynchronously: the listener answers in this process.
      const shell = spawn('/bin/sh', ['-c', group?.hooks[0]?.command ?? 'false'], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let output = '';
      shell.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      shell.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      shell.stdin.end(JSON.stringify(input));
      const status = await new Promise<number | null>((resolve) => shell.once('exit', resolve));
      expect([status, output]).toEqual([0, '']);
      expect(received).toEqual([input]);
    } finally {
      await listener.stop();
    }
  });
});

describe('withHookSettings', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stratavore-hooks-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('puts --settings right after the program, before any prompt or --', () => {
    const hooked = withHookSettings(['claude', '--model', 'opus', '--', 'fix it'], URL, dir);
    expect(hooked.kind).toBe('hooked');
    expect(hooked.command.slice(0, 2)).toEqual(['claude', '--settings']);
    expect(JSON.parse(hooked.command[2] as string)).toEqual(claudeHookSettings(URL));
    expect(hooked.command.slice(3)).toEqual(['--model', 'opus', '--', 'fix it']);

    const viaNode = withHookSettings(
      ['node', '/x/@anthropic-ai/claude-code/cli.js', '-p'],
      URL,
      dir,
    );
    expect(viaNode.command.slice(0, 3)).toEqual([
      'node',
      '/x/@anthropic-ai/claude-code/cli.js',
      '--settings',
    ]);
  });

  it("adds its hooks to the command's own inline settings, keeping theirs", () => {
    const theirs = {
      model: 'opus',
      hooks: { Stop: [{ hooks: [{ type: 'command', command: 'say done' }] }] },
    };
    const hooked = withHookSettings(
      ['claude', `--settings=${JSON.stringify(theirs)}`, '-p', 'hi'],
      URL,
      dir,
    );
    expect(hooked.kind).toBe('hooked');
    const arg = hooked.command[1] as string;
    expect(arg.startsWith('--settings=')).toBe(true);
    const merged = JSON.parse(arg.slice('--settings='.length)) as typeof theirs;
    expect(merged.model).toBe('opus');
    expect(merged.hooks.Stop).toEqual([
      { hooks: [{ type: 'command', command: 'say done' }] },
      { hooks: [{ type: 'http', url: URL, timeout: 10 }] },
    ]);
    expect(Object.keys(merged.hooks)).toEqual(expect.arrayContaining([...AGENT_HOOK_EVENTS]));
    expect(hooked.command.slice(2)).toEqual(['-p', 'hi']);
  });

  it('reads a settings file given by path (relative to the working directory)', async () => {
    await writeFile(join(dir, 'mine.json'), JSON.stringify({ env: { FOO: '1' } }));
    const hooked = withHookSettings(['claude', '--settings', 'mine.json'], URL, dir);
    expect(hooked.kind).toBe('hooked');
    expect(hooked.command[1]).toBe('--settings');
    const merged = JSON.parse(hooked.command[2] as string) as { env: object; hooks: object };
    expect(merged.env).toEqual({ FOO: '1' });
    expect(Object.keys(merged.hooks)).toHaveLength(AGENT_HOOK_EVENTS.length);
  });

  it('leaves a command alone when its settings cannot be read, or it is not Claude Code', () => {
    const missing = withHookSettings(['claude', '--settings', 'nope.json'], URL, dir);
    expect(missing).toMatchObject({
      kind: 'unchanged',
      command: ['claude', '--settings', 'nope.json'],
      reason: expect.stringMatching(/cannot read the command's own --settings/) as string,
    });
    expect(withHookSettings(['claude', '--settings', '[1]'], URL, dir)).toMatchObject({
      kind: 'unchanged',
    });
    expect(withHookSettings(['bash', '-l'], URL, dir)).toEqual({
      kind: 'unchanged',
      command: ['bash', '-l'],
      reason: 'not a Claude Code command',
    });
  });
});

describe('ClaudeHookListener', () => {
  const received: ClaudeHookInput[] = [];
  const logger = new RecordingLogger();
  const listener = new ClaudeHookListener((input) => received.push(input), logger);

  beforeAll(() => listener.start());
  afterAll(() => listener.stop());

  it('listens on a secret path of 127.0.0.1 and hands hook inputs over, answering {}', async () => {
    expect(listener.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/hooks\/[0-9a-f]{32}$/);
    const input = {
      session_id: 'abc',
      transcript_path: '/tmp/abc.jsonl',
      cwd: '/srv',
      hook_event_name: 'Notification',
      notification_type: 'permission_prompt',
      message: 'Claude needs your permission to use Bash',
      extra: { added: 'later' },
    };
    const answer = await post(listener.url, JSON.stringify(input));
    expect(answer).toEqual({ status: 200, text: '{}' });
    expect(received).toEqual([input]);
    expect(listener.count).toBe(1);
  });

  it('refuses what is not a hook input, naming the field, and other paths', async () => {
    expect(await post(listener.url, 'not json')).toMatchObject({ status: 400 });
    const missing = await post(listener.url, JSON.stringify({ session_id: 'abc' }));
    expect(missing.status).toBe(400);
    expect(JSON.parse(missing.text)).toEqual({
      error: expect.stringMatching(/^hook_event_name: /) as string,
    });
    const elsewhere = await post(listener.url.replace(/hooks\/.*/, 'hooks/guess'), '{}');
    expect(elsewhere.status).toBe(404);
    expect(listener.count).toBe(1);
    expect(logger.lines.map((line) => line.message)).toEqual(
      expect.arrayContaining([
        'a Claude Code hook sent a body that is not JSON',
        'a Claude Code hook input lacks what the agent reads',
      ]),
    );
  });
});
