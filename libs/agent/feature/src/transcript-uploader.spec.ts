import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ApiError, NetworkError } from '@stratavore/api-client/heartbeat';
import { type HeartbeatSession } from '@stratavore/contracts';
import { SystemClock } from '@stratavore/core';
import { waitFor } from '@stratavore/testing';

import { type AgentConfig } from './agent-config';
import { FakeChild, FakeLauncher, GrowingUsage, RecordingLogger } from './agent-fakes.test-support';
import { TimerScheduler } from './scheduler';
import {
  completeLength,
  type TranscriptRef,
  TranscriptUploader,
  type TranscriptUploaderOptions,
  transcriptUploadsFor,
  type TranscriptUploadTarget,
} from './transcript-uploader';
import { type UsageSource } from './usage-source';

// Real files in a temporary directory and real (short) timers; every wait is on an observed
// event (an upload arrived, another look at the files was taken), never a fixed sleep.

const SESSION = '4d5611e5-241a-462a-8d15-5122611a9569';

interface Received {
  readonly sessionId: string;
  readonly kind: string;
  readonly text: string;
}

/** Keeps what it receives; `answer` may throw to refuse an upload (called before reading). */
class RecordingTarget implements TranscriptUploadTarget {
  readonly received: Received[] = [];
  readonly attempts: Array<{ sessionId: string; kind: string }> = [];
  /** `start <kind>` when an upload begins, `end <kind>` when it is answered. */
  readonly events: string[] = [];
  answer: (attempt: number, kind: string) => void | Promise<void> = () => undefined;

  async upload(request: {
    sessionId: string;
    kind: string;
    body: AsyncIterable<Uint8Array>;
  }): Promise<void> {
    this.events.push(`start ${request.kind}`);
    try {
      this.attempts.push({ sessionId: request.sessionId, kind: request.kind });
      const chunks: Buffer[] = [];
      for await (const chunk of request.body) chunks.push(Buffer.from(chunk));
      await this.answer(this.attempts.length, request.kind);
      this.received.push({
        sessionId: request.sessionId,
        kind: request.kind,
        text: Buffer.concat(chunks).toString('utf8'),
      });
    } finally {
      this.events.push(`end ${request.kind}`);
    }
  }
}

/** Real timers that remember every sleep asked for. */
class RecordingScheduler extends TimerScheduler {
  readonly sleeps: number[] = [];

  override sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    return super.sleep(ms, signal);
  }
}

const notKnownYet = () =>
  new ApiError(404, 'SESSION_NOT_FOUND', `session ${SESSION} not found`, []);

describe('TranscriptUploader', () => {
  let dir: string;
  let transcript: string;
  let target: RecordingTarget;
  let logger: RecordingLogger;
  let ref: TranscriptRef | null;
  let looks: number;
  const uploaders: TranscriptUploader[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'transcript-uploader-'));
    transcript = join(dir, `${SESSION}.jsonl`);
    target = new RecordingTarget();
    logger = new RecordingLogger();
    ref = null;
    looks = 0;
  });

  afterEach(async () => {
    await Promise.all(uploaders.splice(0).map((uploader) => uploader.finish()));
    await rm(dir, { recursive: true, force: true });
  });

  function uploader(
    options: Partial<TranscriptUploaderOptions> = {},
    scheduler: TimerScheduler = new TimerScheduler(),
  ): TranscriptUploader {
    const created = new TranscriptUploader(
      { intervalMs: 10, finalTimeoutMs: 2_000, retryCapMs: 20, ...options },
      {
        target,
        current: () => {
          looks += 1;
          return ref;
        },
        scheduler,
        clock: new SystemClock(),
        random: () => 0.5,
        logger,
      },
    );
    uploaders.push(created);
    return created;
  }

  /** Waits until the uploader has taken `count` more looks at the files. */
  async function looksMore(count: number): Promise<void> {
    const until = looks + count;
    await waitFor(() => looks >= until, { description: `${count} more looks at the files` });
  }

  const texts = (kind = 'main') =>
    target.received.filter((r) => r.kind === kind).map((r) => r.text);

  it('sends nothing before the session and its transcript file are known', async () => {
    uploader().start();
    await looksMore(3);
    ref = { sessionId: SESSION, transcriptPath: transcript };
    await looksMore(3); // the file does not exist yet
    expect(target.attempts).toEqual([]);
  });

  it('sends a changed transcript each period, complete lines only, and the rest at the end', async () => {
    await writeFile(transcript, '{"n":1}\n{"n":2');
    ref = { sessionId: SESSION, transcriptPath: transcript };
    const subject = uploader();
    subject.start();

    await waitFor(() => texts().length === 1);
    expect(texts()).toEqual(['{"n":1}\n']);
    await looksMore(3);
    expect(texts()).toHaveLength(1); // unchanged: not sent again

    await appendFile(transcript, '}\n{"n":3}\n');
    await waitFor(() => texts().length === 2);
    expect(texts()[1]).toBe('{"n":1}\n{"n":2}\n{"n":3}\n');

    await appendFile(transcript, '{"last":true}');
    expect(await subject.finish()).toEqual({ uploaded: 1, missing: [] });
    expect(texts().at(-1)).toBe('{"n":1}\n{"n":2}\n{"n":3}\n{"last":true}');
    expect(target.received.every((r) => r.sessionId === SESSION)).toBe(true);
    expect(logger.lines.filter((line) => line.level !== 'info')).toEqual([]);
  });

  it('uploads the subagent transcripts beside the session, each under its own kind', async () => {
    await writeFile(transcript, '{"main":1}\n');
    const subagents = join(dir, SESSION, 'subagents');
    await mkdir(join(subagents, 'team'), { recursive: true });
    await writeFile(join(subagents, 'agent-a2898e3.jsonl'), '{"agentId":"a2898e3"}\n');
    await writeFile(join(subagents, 'team', 'agent-b_1.jsonl'), '{"agentId":"b_1"}\n');
    await writeFile(join(subagents, 'agent-a2898e3.meta.json'), '{}');
    await writeFile(join(subagents, 'notes.jsonl'), '{}\n');
    ref = { sessionId: SESSION, transcriptPath: transcript };

    expect(await uploader().finish()).toEqual({ uploaded: 3, missing: [] });
    expect(target.received.map((r) => [r.kind, r.text]).sort()).toEqual([
      ['main', '{"main":1}\n'],
      ['subagent-a2898e3', '{"agentId":"a2898e3"}\n'],
      ['subagent-b_1', '{"agentId":"b_1"}\n'],
    ]);
  });

  it('loses nothing when an upload fails: the file goes again at the next look, the failure logged once', async () => {
    await writeFile(transcript, '{"n":1}\n');
    ref = { sessionId: SESSION, transcriptPath: transcript };
    target.answer = (attempt) => {
      if (attempt <= 3) throw new NetworkError('unreachable', 'http://session-store');
    };
    uploader().start();

    await waitFor(() => texts().length === 1);
    expect(target.attempts).toHaveLength(4);
    expect(texts()).toEqual(['{"n":1}\n']);
    expect(
      logger.lines
        .filter((line) => line.level === 'warn')
        .map((line) => [line.message, line.fields.kind, line.fields.reason]),
    ).toEqual([
      ['transcript not uploaded; trying again later', 'main', 'session-store unreachable'],
    ]);
    expect(logger.lines.at(-1)?.message).toBe('transcript uploaded again');
  });

  it('retries the final upload until session-store knows the session', async () => {
    await writeFile(transcript, '{"n":1}\n');
    ref = { sessionId: SESSION, transcriptPath: transcript };
    target.answer = (attempt) => {
      if (attempt <= 2) throw notKnownYet();
    };

    expect(await uploader().finish()).toEqual({ uploaded: 1, missing: [] });
    expect(target.attempts).toHaveLength(3);
    expect(texts()).toEqual(['{"n":1}\n']);
  });

  it('gives up at the final deadline and says which transcripts are missing', async () => {
    await writeFile(transcript, '{"n":1}\n');
    ref = { sessionId: SESSION, transcriptPath: transcript };
    target.answer = () => {
      throw notKnownYet();
    };

    expect(await uploader({ finalTimeoutMs: 100 }).finish()).toEqual({
      uploaded: 0,
      missing: [`${SESSION}/main`],
    });
    expect(target.attempts.length).toBeGreaterThan(0);
    expect(logger.lines.at(-1)).toMatchObject({
      level: 'warn',
      message: 'some transcripts could not be uploaded',
    });
  });

  it('does not send again what session-store refused as too large, until the end', async () => {
    await writeFile(transcript, '{"n":1}\n');
    ref = { sessionId: SESSION, transcriptPath: transcript };
    target.answer = () => {
      throw new ApiError(413, 'TRANSCRIPT_TOO_LARGE', 'the transcript is larger than 8 bytes');
    };
    const subject = uploader();
    subject.start();
    await waitFor(() => target.attempts.length === 1);
    await appendFile(transcript, '{"n":2}\n');
    await looksMore(3);

    expect(await subject.finish()).toEqual({ uploaded: 0, missing: [`${SESSION}/main`] });
    expect(target.attempts).toHaveLength(1);
    expect(
      logger.lines.filter((line) => line.level === 'error').map((line) => line.fields.status),
    ).toEqual([413]);
  });

  it('lets an upload in flight land before the final one', async () => {
    await writeFile(transcript, '{"n":1}\n');
    ref = { sessionId: SESSION, transcriptPath: transcript };
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    target.answer = (attempt) => (attempt === 1 ? held : undefined);
    const scheduler = new RecordingScheduler();
    const subject = uploader({ finalTimeoutMs: 5_000 }, scheduler);
    subject.start();
    await waitFor(() => target.attempts.length === 1);

    await appendFile(transcript, '{"n":2}\n');
    const finished = subject.finish();
    // The final upload is waiting for the periodic one (at most its own deadline).
    await waitFor(() => scheduler.sleeps.includes(5_000));
    release();

    expect(await finished).toEqual({ uploaded: 1, missing: [] });
    expect(target.events).toEqual(['start main', 'end main', 'start main', 'end main']);
    expect(texts()).toEqual(['{"n":1}\n', '{"n":1}\n{"n":2}\n']);
  });

  it('keeps every session of the runner uploaded (an interactive /clear starts another)', async () => {
    const second = '7e1f0c2d-1111-4c52-9e7a-0d6b1f4a9c21';
    const secondPath = join(dir, `${second}.jsonl`);
    await writeFile(transcript, '{"first":1}\n');
    await writeFile(secondPath, '{"second":1}\n');
    ref = { sessionId: SESSION, transcriptPath: transcript };
    const subject = uploader();
    subject.start();
    await waitFor(() => target.received.length === 1);
    await appendFile(transcript, '{"first":2}\n');
    ref = { sessionId: second, transcriptPath: secondPath };

    await subject.finish();
    expect(
      target.received.map((r) => `${r.sessionId === SESSION ? 'first' : 'second'}:${r.text}`),
    ).toEqual(['first:{"first":1}\n', 'first:{"first":1}\n{"first":2}\n', 'second:{"second":1}\n']);
  });
});

describe('completeLength', () => {
  it('finds the end of the last complete line, however far back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'complete-length-'));
    try {
      const path = join(dir, 't.jsonl');
      const long = 'x'.repeat(200 * 1024);
      await writeFile(path, `{"a":1}\n${long}`);
      expect(await completeLength(path, 8 + long.length)).toBe(8);
      expect(await completeLength(path, 8)).toBe(8);
      expect(await completeLength(path, 7)).toBe(0);
      expect(await completeLength(path, 0)).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('transcriptUploadsFor', () => {
  const config: AgentConfig = {
    STRATAVORE_RUNNER_ID: '22222222-2222-4222-8222-222222222222',
    STRATAVORE_RUNNER_TOKEN: 'token',
    STRATAVORE_HEARTBEAT_URL: 'http://127.0.0.1:7411',
    STRATAVORE_LOG_DIR: '/tmp',
    STRATAVORE_AGENT_LOG_LEVEL: 'info',
  };
  /** Usage of a Claude-like child: a session whose transcript is `path`. */
  class SessionUsage extends GrowingUsage {
    constructor(private readonly path: string) {
      super();
    }

    session(): HeartbeatSession {
      return {
        sessionId: SESSION,
        models: {},
        turns: 0,
        costUsd: null,
        reportedCostUsd: null,
        cwd: null,
        transcriptPath: this.path,
        resumedFrom: null,
        waitingForInput: false,
        result: null,
      };
    }
  }

  const deps = (usage: UsageSource, child = new FakeChild(42)) => ({
    launcher: new FakeLauncher(child),
    usage,
    scheduler: new TimerScheduler(),
    clock: new SystemClock(),
    random: () => 0.5,
    logger: new RecordingLogger(),
  });

  it('is off for a command that has no Claude sessions, and when switched off', () => {
    expect(transcriptUploadsFor(config, deps(new GrowingUsage()))).toBeNull();
    expect(
      transcriptUploadsFor(
        { ...config, STRATAVORE_TRANSCRIPT_UPLOAD: false },
        deps(new SessionUsage('/tmp/none.jsonl')),
      ),
    ).toBeNull();
  });

  it('uploads from the start of the child to its exit, to the session it reports', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'transcript-uploads-'));
    try {
      const path = join(dir, `${SESSION}.jsonl`);
      await writeFile(path, '{"n":1}\n');
      const child = new FakeChild(42);
      const target = new RecordingTarget();
      const uploads = transcriptUploadsFor(
        { ...config, STRATAVORE_TRANSCRIPT_INTERVAL: 1_000 },
        deps(new SessionUsage(path), child),
        target,
      );
      expect(uploads).not.toBeNull();
      await uploads?.launcher.launch(['claude']);
      child.exit({ code: 0, signal: null });

      expect(await uploads?.finish()).toEqual({ uploaded: 1, missing: [] });
      expect(target.received).toEqual([{ sessionId: SESSION, kind: 'main', text: '{"n":1}\n' }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
