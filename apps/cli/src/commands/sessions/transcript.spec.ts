import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { type TranscriptWindowReply } from '@stratavore/contracts';

import { useFakeApi } from '../../testing/command-test-env.test-support';
import { RUNNER_ID } from '../../testing/fixtures.test-support';
import { runCommand } from '../../testing/run-command.test-support';
import { SESSION_ID } from '../../testing/session-fixtures.test-support';

const LINES = '{"type":"user"}\n{"type":"assistant","text":"h\u00e9"}\n';
const SIZE = Buffer.byteLength(LINES);
const SPLIT = Buffer.byteLength('{"type":"user"}\n');

function window(
  content: string,
  offset: number,
  kind: 'main' | 'subagent' = 'main',
): TranscriptWindowReply {
  const nextOffset = offset + Buffer.byteLength(content);
  return {
    content,
    offset,
    nextOffset,
    size: SIZE,
    eof: nextOffset >= SIZE,
    transcript: {
      kind,
      agentId: kind === 'main' ? null : 'a1',
      size: SIZE,
      lineCount: 2,
      sha256: 'c'.repeat(64),
      uploadedAt: '2026-11-24T10:06:01.000Z',
      uploadedBy: RUNNER_ID,
    },
  };
}

describe('stratavore sessions transcript', () => {
  const t = useFakeApi();
  const base = `/api/v1/sessions/${SESSION_ID}/transcript`;

  it('prints the whole JSONL, reading window after window', async () => {
    t.api().expect(
      {
        method: 'GET',
        path: `${base}?kind=main&offset=0&limit=1048576`,
        reply: window(LINES.slice(0, 16), 0),
      },
      {
        method: 'GET',
        path: `${base}?kind=main&offset=${SPLIT}&limit=1048576`,
        reply: window(LINES.slice(16), SPLIT),
      },
    );

    const result = await runCommand(['sessions', 'transcript', SESSION_ID], { env: t.env() });

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(LINES);
  });

  it('writes a subagent transcript to --output', async () => {
    t.api().expect({
      method: 'GET',
      path: `${base}?kind=subagent-a1&offset=0&limit=1048576`,
      reply: window(LINES, 0, 'subagent'),
    });
    const file = join(t.dir(), 'out.jsonl');

    const result = await runCommand(
      ['sessions', 'transcript', SESSION_ID, '--kind', 'subagent-a1', '--output', file, '--json'],
      { env: t.env() },
    );

    expect(result.exitCode).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(LINES);
    expect(JSON.parse(result.stdout)).toMatchObject({ bytes: SIZE, output: file });
  });

  it('exits 2 naming --kind for a kind that is not one', async () => {
    const result = await runCommand(['sessions', 'transcript', SESSION_ID, '--kind', 'sidechain'], {
      env: t.env(),
    });

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--kind');
  });
});
