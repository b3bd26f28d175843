// Transcripts from the agent into session-store, for real: the agent's uploader (and the agent
// around the real Claude Code CLI) sends to session-store's HTTP endpoint, which stores them in
// a real blob store (the local filesystem, and S3 on a local S3-compatible server) with their
// metadata in PostgreSQL; what is read back must be the bytes of the files on disk.
import { createHash, randomUUID } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  type AgentConfig,
  httpTranscriptTarget,
  runAgent,
  TimerScheduler,
  TranscriptUploader,
} from '@stratavore/agent';
import { SystemClock } from '@stratavore/core';
import { LocalFilesystemBlobStore, S3BlobStore } from '@stratavore/session-store-data-access';
import {
  claudeCliEnv,
  claudeCodeCliPath,
  type ClaudeSandbox,
  ClaudeStandIn,
  claudeTranscriptPath,
  createClaudeSandbox,
  createTestDatabase,
  type LocalS3Server,
  startLocalS3Server,
  type TestDatabase,
  waitFor,
} from '@stratavore/testing';

import {
  HeartbeatRelay,
  newRunner,
  SessionStoreServer,
  type TestRunner,
} from './support/session-store-server';

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/** The agent's log lines, kept; the test fails on warnings it did not expect. */
class Lines {
  readonly lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
  info = (fields: Record<string, unknown>, message: string) =>
    this.lines.push({ level: 'info', message, fields });
  warn = (fields: Record<string, unknown>, message: string) =>
    this.lines.push({ level: 'warn', message, fields });
  error = (fields: Record<string, unknown>, message: string) =>
    this.lines.push({ level: 'error', message, fields });
}

describe("the agent's transcript uploader against session-store (local filesystem)", () => {
  let db: TestDatabase;
  let blobDir: string;
  let work: string;
  let store: SessionStoreServer;

  beforeAll(async () => {
    db = await createTestDatabase('transcripts_uploader');
    blobDir = await mkdtemp(join(tmpdir(), 'transcripts-blobs-'));
    work = await mkdtemp(join(tmpdir(), 'transcripts-claude-'));
    store = await SessionStoreServer.start({
      databaseUrl: db.url,
      blobs: new LocalFilesystemBlobStore(blobDir),
    });
  });

  afterAll(async () => {
    await store?.stop();
    await db?.drop();
    await rm(blobDir, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  }, 60_000);

  function uploader(
    runner: TestRunner,
    sessionId: string,
    path: string,
    logger: Lines,
    finalTimeoutMs = 10_000,
  ) {
    let looks = 0;
    const created = new TranscriptUploader(
      { intervalMs: 50, finalTimeoutMs, retryCapMs: 100 },
      {
        target: httpTranscriptTarget(store.url, runner.token),
        current: () => {
          looks += 1;
          return { sessionId, transcriptPath: path };
        },
        scheduler: new TimerScheduler(),
        clock: new SystemClock(),
        random: Math.random,
        logger,
      },
    );
    return { uploader: created, looks: () => looks };
  }

  const stored = async (sessionId: string, kind: string) => {
    const detail = await store.session(sessionId);
    const name = (t: { kind: string; agentId: string | null }) =>
      t.kind === 'main' ? 'main' : `subagent-${t.agentId ?? ''}`;
    return detail.transcripts.find((t) => name(t) === kind) ?? null;
  };

  it('uploads periodically once the session is known, holds back a partial line, then sends everything at the end', async () => {
    const runner = newRunner();
    const sessionId = randomUUID();
    const path = join(work, `${sessionId}.jsonl`);
    await store.launched(runner);
    await writeFile(path, '{"type":"user","n":1}\n');
    const logger = new Lines();
    const { uploader: subject, looks } = uploader(runner, sessionId, path, logger);
    subject.start();

    // session-store does not know the session until a heartbeat carried it: 404, retried.
    await waitFor(() => looks() >= 3, { description: 'three looks at the file' });
    expect(await store.session(sessionId).catch((error: { code?: string }) => error.code)).toBe(
      'SESSION_NOT_FOUND',
    );
    await store.reported(runner, 1, { ...snapshot(sessionId), transcriptPath: path });
    const first = await waitFor(() => stored(sessionId, 'main'), {
      description: 'the first periodic upload',
    });
    expect(first).toMatchObject({ size: 22, lineCount: 1, uploadedBy: runner.runnerId });

    // A line still being written stays out of a periodic upload.
    await appendFile(path, '{"type":"assistant","text":"h\u00e9llo"}\n{"type":"assis');
    await waitFor(async () => (await stored(sessionId, 'main'))?.lineCount === 2, {
      description: 'the second periodic upload',
    });
    const complete = (await readFile(path)).subarray(0, -'{"type":"assis'.length);
    expect(sha256(await store.transcript(sessionId, 'main'))).toBe(sha256(complete));

    // A subagent starts writing its own file beside the session.
    const subagents = join(work, sessionId, 'subagents');
    await mkdir(subagents, { recursive: true });
    await writeFile(join(subagents, 'agent-a2898e3.jsonl'), '{"isSidechain":true}\n');
    await appendFile(path, 'tant"}\n{"type":"result"}');

    expect(await subject.finish()).toMatchObject({ missing: [] });
    const onDisk = await readFile(path);
    expect(await stored(sessionId, 'main')).toMatchObject({
      size: onDisk.length,
      lineCount: 4,
      sha256: sha256(onDisk),
    });
    expect((await store.transcript(sessionId, 'main')).equals(onDisk)).toBe(true);
    expect(await stored(sessionId, 'subagent-a2898e3')).toMatchObject({
      kind: 'subagent',
      agentId: 'a2898e3',
      size: 21,
      sha256: sha256('{"isSidechain":true}\n'),
    });
    expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it("a resumed session's longer file, sent by the second runner, replaces the stored one", async () => {
    const first = newRunner();
    const second = newRunner(first.projectId);
    const sessionId = randomUUID();
    const path = join(work, `${sessionId}.jsonl`);
    await store.launched(first);
    await store.launched(second);
    await store.reported(first, 1, snapshot(sessionId));
    await writeFile(path, '{"run":1}\n');
    expect(await uploader(first, sessionId, path, new Lines()).uploader.finish()).toMatchObject({
      uploaded: 1,
      missing: [],
    });

    // `claude --resume` appends to the same file; the second runner takes part in the session.
    await appendFile(path, '{"run":2}\n');
    await store.reported(second, 1, { ...snapshot(sessionId), resumedFrom: sessionId });
    expect(await uploader(second, sessionId, path, new Lines()).uploader.finish()).toMatchObject({
      uploaded: 1,
      missing: [],
    });
    expect(await stored(sessionId, 'main')).toMatchObject({
      lineCount: 2,
      uploadedBy: second.runnerId,
      sha256: sha256('{"run":1}\n{"run":2}\n'),
    });
    expect((await store.transcript(sessionId, 'main')).toString()).toBe('{"run":1}\n{"run":2}\n');
  });

  it('refuses a runner that has no part in the session, and the uploader says so', async () => {
    const owner = newRunner();
    const stranger = newRunner();
    const sessionId = randomUUID();
    const path = join(work, `${sessionId}.jsonl`);
    await store.launched(owner);
    await store.launched(stranger);
    await store.reported(owner, 1, snapshot(sessionId));
    await writeFile(path, '{"secret":true}\n');
    const logger = new Lines();
    const { uploader: subject } = uploader(stranger, sessionId, path, logger, 3_000);

    expect(await subject.finish()).toEqual({ uploaded: 0, missing: [`${sessionId}/main`] });
    expect(logger.lines.find((l) => l.level === 'warn')?.fields).toMatchObject({
      reason: '403 RUNNER_NOT_IN_SESSION',
    });
    expect(await stored(sessionId, 'main')).toBeNull();
  });
});

describe('the agent around the real Claude Code CLI, uploading to session-store on S3', () => {
  const MODEL = 'claude-sonnet-4-5';
  let db: TestDatabase;
  let s3: LocalS3Server;
  let blobs: S3BlobStore;
  let store: SessionStoreServer;
  let standIn: ClaudeStandIn;
  let sandbox: ClaudeSandbox;
  let logDir: string;

  beforeAll(async () => {
    db = await createTestDatabase('transcripts_cli');
    s3 = await startLocalS3Server();
    blobs = new S3BlobStore({
      bucket: s3.bucket,
      prefix: 'stratavore/',
      region: s3.region,
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: s3.credentials,
    });
    store = await SessionStoreServer.start({ databaseUrl: db.url, blobs });
    standIn = await ClaudeStandIn.start({ model: MODEL });
    sandbox = await createClaudeSandbox();
    logDir = await mkdtemp(join(tmpdir(), 'transcripts-agent-'));
  }, 60_000);

  afterAll(async () => {
    await store?.stop();
    await blobs?.close();
    await s3?.close();
    await db?.drop();
    await standIn?.close();
    await sandbox?.remove();
    await rm(logDir, { recursive: true, force: true });
  }, 60_000);

  it('stores the main and the subagent transcript byte for byte, and the resumed file in place of the first', async () => {
    const first = newRunner();
    const second = newRunner(first.projectId);
    await store.launched(first);
    await store.launched(second);
    const relay = await HeartbeatRelay.start(store, [first, second]);
    const env = claudeCliEnv({ standIn, sandbox });
    const config = (runner: TestRunner): AgentConfig => ({
      STRATAVORE_RUNNER_ID: runner.runnerId,
      STRATAVORE_RUNNER_TOKEN: runner.token,
      STRATAVORE_HEARTBEAT_URL: relay.url,
      // session-store deployed apart from heartbeat-ingest.
      STRATAVORE_TRANSCRIPT_URL: store.url,
      STRATAVORE_TRANSCRIPT_INTERVAL: 1_000,
      STRATAVORE_TRANSCRIPT_FINAL_TIMEOUT: 30_000,
      STRATAVORE_LOG_DIR: logDir,
      STRATAVORE_AGENT_LOG_LEVEL: 'info',
    });
    const claude = (...args: string[]) => [
      process.execPath,
      claudeCodeCliPath(),
      ...args,
      '--output-format',
      'stream-json',
      '--verbose',
      '--model',
      MODEL,
    ];
    const args = { intervalMs: 200, stopTimeoutMs: 5_000, finalReportTimeoutMs: 10_000 };
    try {
      // The main agent hands a task to a subagent (the Agent tool), which answers.
      standIn.addTurns(
        {
          content: [
            {
              type: 'tool_use',
              name: 'Agent',
              input: {
                description: 'Say hi',
                prompt: 'Say hi',
                subagent_type: 'general-purpose',
              },
            },
          ],
        },
        { content: [{ type: 'text', text: 'Hi from the subagent.' }] },
        { content: [{ type: 'text', text: 'The subagent said hi.' }] },
      );
      const logger = new Lines();
      const outcome = await runAgent({
        args: { ...args, command: claude('-p', 'Ask a subagent to say hi') },
        config: config(first),
        logger,
        cwd: sandbox.cwd,
        env,
      });
      expect(outcome).toMatchObject({ exitCode: 0, finalReport: 'delivered' });
      expect(standIn.unexpectedRequests()).toEqual([]);
      const sessionId = standIn.served[0]?.sessionId ?? 'no session';
      const main = claudeTranscriptPath(sandbox.configDir, sandbox.cwd, sessionId);
      const subagentDir = join(main.slice(0, -'.jsonl'.length), 'subagents');
      const [subagentFile, ...others] = (await readdir(subagentDir)).filter((name) =>
        name.endsWith('.jsonl'),
      );
      expect(others).toEqual([]);
      const agentId = /^agent-(.+)\.jsonl$/.exec(subagentFile ?? '')?.[1] ?? 'none';

      const detail = await store.session(sessionId);
      const mainBytes = await readFile(main);
      const subagentBytes = await readFile(join(subagentDir, subagentFile ?? ''));
      expect(detail.transcripts).toEqual([
        expect.objectContaining({
          kind: 'main',
          size: mainBytes.length,
          sha256: sha256(mainBytes),
          uploadedBy: first.runnerId,
        }),
        expect.objectContaining({
          kind: 'subagent',
          agentId,
          size: subagentBytes.length,
          sha256: sha256(subagentBytes),
        }),
      ]);
      expect((await store.transcript(sessionId, 'main')).equals(mainBytes)).toBe(true);
      expect((await store.transcript(sessionId, `subagent-${agentId}`)).equals(subagentBytes)).toBe(
        true,
      );
      expect(s3.keys('stratavore/transcripts/')).toHaveLength(2);
      // Nothing went wrong but an upload that came before the session reached session-store
      // (the relay here reports it only after the heartbeat), which the uploader retries.
      expect(
        logger.lines.filter(
          (l) =>
            l.level !== 'info' &&
            !(
              l.message === 'transcript not uploaded; trying again later' &&
              l.fields.reason === '404 SESSION_NOT_FOUND'
            ),
        ),
      ).toEqual([]);

      // Resume: the CLI appends to the same file; the second runner's upload replaces it.
      standIn.addTurns({ content: [{ type: 'text', text: 'Still here.' }] });
      const resumed = await runAgent({
        args: { ...args, command: claude('--resume', sessionId, '-p', 'Still there?') },
        config: config(second),
        logger,
        cwd: sandbox.cwd,
        env,
      });
      expect(resumed).toMatchObject({ exitCode: 0, finalReport: 'delivered' });
      const longer = await readFile(main);
      expect(longer.subarray(0, mainBytes.length).equals(mainBytes)).toBe(true);
      const [mainAgain] = (await store.session(sessionId)).transcripts;
      expect(mainAgain).toMatchObject({
        kind: 'main',
        size: longer.length,
        sha256: sha256(longer),
        uploadedBy: second.runnerId,
      });
      expect((await store.transcript(sessionId, 'main')).equals(longer)).toBe(true);
      // The replaced version's object was deleted: one main, one subagent.
      expect(s3.keys('stratavore/transcripts/')).toHaveLength(2);
    } finally {
      await relay.stop();
    }
  }, 240_000);
});

/** A session snapshot as the agent reports it (only the session id matters here). */
function snapshot(sessionId: string) {
  return {
    sessionId,
    models: {},
    turns: 1,
    costUsd: 0,
    reportedCostUsd: null,
    cwd: '/work',
    transcriptPath: null,
    resumedFrom: null,
    waitingForInput: false,
    result: null,
  };
}
