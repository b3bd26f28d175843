import { createHash } from 'node:crypto';
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

/** A window of `whole` (the stored version) from `offset`, `length` characters long. */
function window(
  content: string,
  offset: number,
  kind: 'main' | 'subagent' = 'main',
  whole = LINES,
): TranscriptWindowReply {
  const size = Buffer.byteLength(whole);
  const nextOffset = offset + Buffer.byteLength(content);
  return {
    content,
    offset,
    nextOffset,
    size,
    eof: nextOffset >= size,
    transcript: {
      kind,
      agentId: kind === 'main' ? null : 'a1',
      size,
      lineCount: whole.split('\n').length - 1,
      sha256: createHash('sha256').update(whole).digest('hex'),
      uploadedAt: '2026-11-24T10:06:01.000Z',
      uploadedBy: RUNNER_ID,
    },
  };
}

/** A new version uploaded while the first was read: another first line, the same length. */
const REPLACED = '{"type":"USER"}\n{"type":"assistant","text":"h\u00e9"}\n';

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
    expect(JSON.parse(result.stdout)).toMatchObject({ bytes: SIZE, output: file, verified: true });
  });

  it('starts a download to a file over when a new version is uploaded meanwhile', async () => {
    t.api().expect(
      {
        method: 'GET',
        path: `${base}?kind=main&offset=0&limit=1048576`,
        reply: window(LINES.slice(0, 16), 0),
      },
      {
        method: 'GET',
        path: `${base}?kind=main&offset=${SPLIT}&limit=1048576`,
        reply: window(REPLACED.slice(16), SPLIT, 'main', REPLACED),
      },
      {
        method: 'GET',
        path: `${base}?kind=main&offset=0&limit=1048576`,
        reply: window(REPLACED, 0, 'main', REPLACED),
      },
    );
    const file = join(t.dir(), 'out.jsonl');

    const result = await runCommand(
      ['sessions', 'transcript', SESSION_ID, '--output', file, '--json'],
      { env: t.env() },
    );

    expect(result.exitCode).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(REPLACED);
    expect(JSON.parse(result.stdout)).toMatchObject({ bytes: SIZE, verified: true });
  });

  it('exits 1 when the printed bytes are not the stored version (replaced meanwhile)', async () => {
    t.api().expect(
      {
        method: 'GET',
        path: `${base}?kind=main&offset=0&limit=1048576`,
        reply: window(LINES.slice(0, 16), 0),
      },
      {
        method: 'GET',
        path: `${base}?kind=main&offset=${SPLIT}&limit=1048576`,
        reply: window(REPLACED.slice(16), SPLIT, 'main', REPLACED),
      },
    );

    const result = await runCommand(['sessions', 'transcript', SESSION_ID], { env: t.env() });

    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('changed while it was read');
  });

  it('exits 2 naming --kind for a kind that is not one', async () => {
    const result = await runCommand(['sessions', 'transcript', SESSION_ID, '--kind', 'sidechain'], {
      env: t.env(),
    });

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--kind');
  });
});
