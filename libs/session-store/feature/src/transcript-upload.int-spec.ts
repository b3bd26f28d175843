import { createHash, randomUUID } from 'node:crypto';

import {
  SESSION_STORE_SERVICE,
  type SessionDetail,
  type TranscriptMetadata,
  type TranscriptWindowReply,
} from '@stratavore/contracts';
import {
  createTestDatabase,
  type LocalS3Server,
  startLocalS3Server,
  type TestDatabase,
} from '@stratavore/testing';

import {
  launched,
  newRunner,
  reported,
  runnerEvent,
  s3Blobs,
  sessionSnapshot,
  type SessionStoreUnderTest,
  startSessionStore,
  temporaryFilesystemBlobs,
  type TestBlobStore,
  type TestRunner,
} from './session-store.int-test-support';

const MAX_BYTES = 2048;

interface Answer {
  status: number;
  json: Record<string, unknown>;
}

let s3: LocalS3Server;

beforeAll(async () => {
  s3 = await startLocalS3Server();
});

afterAll(async () => {
  await s3?.close();
});

// The same suite on each blob store: the local filesystem and S3 (on a local S3 server).
const BLOB_STORES: Array<[string, () => Promise<TestBlobStore>]> = [
  ['the local filesystem', temporaryFilesystemBlobs],
  ['S3', () => Promise.resolve(s3Blobs(s3))],
];

describe.each(BLOB_STORES)('transcript upload over HTTP into %s', (_name, blobStore) => {
  let db: TestDatabase;
  let store: SessionStoreUnderTest;
  let a: TestRunner;
  let b: TestRunner;
  const sessionA = `sess-${randomUUID()}`;
  const sessionB = `sess-${randomUUID()}`;

  beforeAll(async () => {
    db = await createTestDatabase('session_store_upload');
    store = await startSessionStore({
      databaseUrl: db.url,
      maxBytes: MAX_BYTES,
      graceMs: 60_000,
      blobs: await blobStore(),
    });
    a = newRunner();
    b = newRunner();
    const now = store.clock.now();
    for (const event of [
      launched(a, now),
      launched(b, now),
      reported(a, 1, sessionSnapshot(sessionA), now),
      reported(b, 1, sessionSnapshot(sessionB), now),
    ]) {
      expect(await store.deliver(event)).toBe('ack');
    }
  });

  afterAll(async () => {
    await store?.stop();
    await db?.drop();
  });

  async function put(
    path: string,
    body: string | ReadableStream<Uint8Array>,
    options: { token?: string | null; contentType?: string } = {},
  ): Promise<Answer> {
    const token = options.token === undefined ? a.token : options.token;
    const response = await fetch(`${store.url}/api/v1/sessions/${path}`, {
      method: 'PUT',
      headers: {
        'content-type': options.contentType ?? 'application/x-ndjson',
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      },
      body,
      duplex: 'half',
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  function read(payload: Record<string, unknown>): Promise<TranscriptWindowReply> {
    return store.bus.request<TranscriptWindowReply>(SESSION_STORE_SERVICE, 'sessions.transcript', {
      session: sessionA,
      ...payload,
    });
  }

  const blobs = () => store.listBlobs(`transcripts/${sessionA}/main/`);

  it('stores a transcript with its size, line count and sha256, and serves it back in windows', async () => {
    const text =
      '{"type":"user","n":1}\n{"type":"assistant","text":"h\u00e9llo"}\n{"partial":true}';
    const answer = await put(`${sessionA}/transcripts/main`, text);

    expect(answer.status).toBe(200);
    const metadata = answer.json as unknown as TranscriptMetadata;
    expect(metadata).toMatchObject({
      kind: 'main',
      agentId: null,
      size: Buffer.byteLength(text),
      lineCount: 3,
      sha256: createHash('sha256').update(text).digest('hex'),
      uploadedBy: a.runnerId,
    });

    const whole = await read({});
    expect(whole).toMatchObject({ content: text, offset: 0, eof: true, size: metadata.size });
    let offset = 0;
    let content = '';
    for (let reads = 0; reads < 100; reads += 1) {
      const window = await read({ offset, limitBytes: 7 });
      content += window.content;
      offset = window.nextOffset;
      if (window.eof) break;
    }
    expect(content).toBe(text);
  });

  it('replaces the previous version on a re-upload and deletes its blob', async () => {
    await put(`${sessionA}/transcripts/main`, 'first\n');
    const second = await put(`${sessionA}/transcripts/main`, 'second\nversion\n');

    expect(second.json).toMatchObject({ size: 15, lineCount: 2 });
    expect((await read({})).content).toBe('second\nversion\n');
    expect(await blobs()).toHaveLength(1);
  });

  it('keeps subagent transcripts apart and lists them with the session', async () => {
    expect(
      (await put(`${sessionA}/transcripts/subagent-a2898e3`, '{"agentId":"a2898e3"}\n')).status,
    ).toBe(200);
    const detail = await store.bus.request<SessionDetail>(SESSION_STORE_SERVICE, 'sessions.get', {
      session: sessionA,
    });
    expect(detail.transcripts.map((t) => [t.kind, t.agentId])).toEqual([
      ['main', null],
      ['subagent', 'a2898e3'],
    ]);
    expect((await read({ kind: 'subagent', agentId: 'a2898e3' })).content).toBe(
      '{"agentId":"a2898e3"}\n',
    );
    await expect(read({ kind: 'subagent', agentId: 'nope' })).rejects.toMatchObject({
      code: 'TRANSCRIPT_NOT_FOUND',
    });
  });

  it('refuses missing or unknown tokens (401) and a token of a runner not in the session (403)', async () => {
    const path = `${sessionA}/transcripts/main`;
    expect(await put(path, 'x\n', { token: null })).toMatchObject({
      status: 401,
      json: { code: 'UNAUTHENTICATED' },
    });
    expect((await put(path, 'x\n', { token: 'forged' })).status).toBe(401);
    expect(await put(path, 'x\n', { token: b.token })).toMatchObject({
      status: 403,
      json: { code: 'RUNNER_NOT_IN_SESSION' },
    });
    expect((await read({})).content).toBe('second\nversion\n');
  });

  it('answers 404 for an unknown session, 400 naming a bad kind, 415 for another media type', async () => {
    expect(await put('no-such-session/transcripts/main', 'x\n')).toMatchObject({
      status: 404,
      json: { code: 'SESSION_NOT_FOUND' },
    });
    const bad = await put(`${sessionA}/transcripts/sidechain`, 'x\n');
    expect(bad.status).toBe(400);
    expect(bad.json.errors).toEqual([expect.objectContaining({ field: 'kind' })]);
    expect(
      await put(`${sessionA}/transcripts/main`, '{"a":1}', { contentType: 'application/json' }),
    ).toMatchObject({ status: 415, json: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
  });

  it('refuses a body over the limit (413), declared or streamed, and keeps the previous version', async () => {
    const big = 'y'.repeat(MAX_BYTES + 1);
    expect(await put(`${sessionA}/transcripts/main`, big)).toMatchObject({
      status: 413,
      json: { code: 'TRANSCRIPT_TOO_LARGE' },
    });
    const streamed = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 3; i += 1) controller.enqueue(Buffer.from('z'.repeat(1000)));
        controller.close();
      },
    });
    expect((await put(`${sessionA}/transcripts/main`, streamed)).status).toBe(413);
    expect((await read({})).content).toBe('second\nversion\n');
    expect(await blobs()).toHaveLength(1);
  });

  it('closes uploads of a runner that ended longer than the grace ago', async () => {
    const c = newRunner();
    const sessionC = `sess-${randomUUID()}`;
    const now = store.clock.now();
    await store.deliver(launched(c, now));
    await store.deliver(reported(c, 1, sessionSnapshot(sessionC), now));
    await store.deliver(runnerEvent('runner.completed', c, now, { exitCode: 0 }));

    expect((await put(`${sessionC}/transcripts/main`, 'final\n', { token: c.token })).status).toBe(
      200,
    );
    store.clock.advance(61_000);
    expect(await put(`${sessionC}/transcripts/main`, 'late\n', { token: c.token })).toMatchObject({
      status: 403,
      json: { code: 'RUNNER_NOT_IN_SESSION' },
    });
  });
});

describe('a transcript larger than one S3 part', () => {
  const LIMIT = 12 * 1024 * 1024;
  let db: TestDatabase;
  let store: SessionStoreUnderTest;
  let runner: TestRunner;
  const session = randomUUID();

  beforeAll(async () => {
    db = await createTestDatabase('session_store_upload_s3');
    store = await startSessionStore({
      databaseUrl: db.url,
      maxBytes: LIMIT,
      blobs: s3Blobs(s3),
    });
    runner = newRunner();
    const now = store.clock.now();
    expect(await store.deliver(launched(runner, now))).toBe('ack');
    expect(await store.deliver(reported(runner, 1, sessionSnapshot(session), now))).toBe('ack');
  });

  afterAll(async () => {
    await store?.stop();
    await db?.drop();
  });

  /** `lines` JSONL lines of about 1 KiB each, streamed as a request body 64 KiB at a time. */
  function jsonl(lines: number): {
    body: ReadableStream<Uint8Array>;
    sha256: string;
    size: number;
  } {
    const hash = createHash('sha256');
    let size = 0;
    const pieces: Buffer[] = [];
    let pending: Buffer[] = [];
    let pendingSize = 0;
    for (let n = 0; n < lines; n += 1) {
      const line = Buffer.from(`${JSON.stringify({ n, text: 'w\u00f6rd '.repeat(170) })}\n`);
      hash.update(line);
      size += line.length;
      pending.push(line);
      pendingSize += line.length;
      if (pendingSize >= 64 * 1024) {
        pieces.push(Buffer.concat(pending));
        pending = [];
        pendingSize = 0;
      }
    }
    if (pending.length > 0) pieces.push(Buffer.concat(pending));
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = pieces.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(next);
      },
    });
    return { body, sha256: hash.digest('hex'), size };
  }

  async function put(body: ReadableStream<Uint8Array>): Promise<Response> {
    return fetch(`${store.url}/api/v1/sessions/${session}/transcripts/main`, {
      method: 'PUT',
      headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${runner.token}` },
      body,
      duplex: 'half',
    });
  }

  it('streams it into a multipart upload, measures it and reads it back byte for byte', async () => {
    const upload = jsonl(11_000);
    const answer = await put(upload.body);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({
      size: upload.size,
      lineCount: 11_000,
      sha256: upload.sha256,
    });
    expect(upload.size).toBeGreaterThan(10 * 1024 * 1024);
    const [key, ...others] = await store.listBlobs(`transcripts/${session}/main/`);
    expect(others).toEqual([]);
    expect(s3.events.find((event) => event.key.endsWith(key ?? '?'))?.name).toBe(
      'ObjectCreated:Post',
    );

    const hash = createHash('sha256');
    let offset = 0;
    for (let reads = 0; reads < 100; reads += 1) {
      const window = await store.bus.request<TranscriptWindowReply>(
        SESSION_STORE_SERVICE,
        'sessions.transcript',
        { session, offset, limitBytes: 1024 * 1024 },
      );
      hash.update(window.content, 'utf8');
      offset = window.nextOffset;
      if (window.eof) break;
    }
    expect(hash.digest('hex')).toBe(upload.sha256);
  });

  it('refuses a body that passes the limit after several parts and keeps the previous version', async () => {
    const before = await store.listBlobs(`transcripts/${session}/main/`);
    const answer = await put(jsonl(14_000).body);
    expect(answer.status).toBe(413);
    expect(await answer.json()).toMatchObject({ code: 'TRANSCRIPT_TOO_LARGE' });
    expect(await store.listBlobs(`transcripts/${session}/main/`)).toEqual(before);
  });
});
