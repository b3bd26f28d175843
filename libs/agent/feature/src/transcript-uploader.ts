import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';

import { ApiError, NetworkError } from '@stratavore/api-client/heartbeat';
import { type Clock } from '@stratavore/core';

import { type AgentConfig } from './agent-config';
import { type AgentLogger } from './agent-logger';
import { fullJitterDelay } from './backoff';
import { type ChildLauncher } from './child-process';
import { type RunnerSupervisorDeps } from './runner-supervisor';
import { type Scheduler } from './scheduler';

/** Where a transcript upload goes (session-store's `PUT .../transcripts/:kind`). */
export interface TranscriptUploadTarget {
  /**
   * Stores `body` as the session's transcript of `kind` (`main`, `subagent-<agentId>`),
   * replacing the previous version.
   *
   * @throws NetworkError when session-store could not be reached or did not answer in time.
   * @throws ApiError for any answer but `200`.
   */
  upload(request: {
    readonly sessionId: string;
    readonly kind: string;
    readonly body: AsyncIterable<Uint8Array>;
    readonly timeoutMs: number;
  }): Promise<void>;
}

/** A session of the runner and its transcript file, as the usage source found them. */
export interface TranscriptRef {
  readonly sessionId: string;
  readonly transcriptPath: string;
}

export interface TranscriptUploaderOptions {
  /** Between two looks at the files while the child runs (an unchanged file is not sent). */
  readonly intervalMs: number;
  /** How long the final upload, after the child exited, may take, retries included. */
  readonly finalTimeoutMs: number;
  /** One upload's limit while the child runs. Default 2 min. */
  readonly uploadTimeoutMs?: number;
  /** Upper bound of the pause between retries of the final upload. Default 5 s. */
  readonly retryCapMs?: number;
}

export interface TranscriptUploaderDeps {
  readonly target: TranscriptUploadTarget;
  /** The session the child is in now, once known with its transcript file, else null. */
  readonly current: () => TranscriptRef | null;
  readonly scheduler: Scheduler;
  readonly clock: Clock;
  /** Uniform in [0, 1): the jitter of the final upload's retries. */
  readonly random: () => number;
  readonly logger: AgentLogger;
}

/** How the final upload went. */
export interface FinalTranscriptUpload {
  /** Files stored by the final upload (those unchanged since their last upload not counted). */
  readonly uploaded: number;
  /** `<session>/<kind>` of the files not stored when the deadline came, or refused for good. */
  readonly missing: readonly string[];
}

/** One file to keep uploaded. */
interface TranscriptFile {
  readonly sessionId: string;
  readonly kind: string;
  readonly path: string;
}

/** What was last stored of a file: its state on disk then, and whether all of it went. */
interface Stored {
  readonly size: number;
  readonly mtimeMs: number;
  /** False when a line still being written was held back. */
  readonly complete: boolean;
}

/** A refusal that sending the same bytes again cannot change (413, 400, 415). */
interface Refused {
  readonly size: number;
  readonly status: number;
}

type Attempt = 'stored' | 'unchanged' | 'retry' | 'refused';

const DEFAULT_UPLOAD_TIMEOUT_MS = 120_000;
const DEFAULT_RETRY_CAP_MS = 5_000;
const RETRY_BASE_MS = 500;
const SUBAGENT_FILE = /^agent-([A-Za-z0-9_-]{1,128})\.jsonl$/;
const NEWLINE = 0x0a;
const TAIL_BLOCK = 64 * 1024;

/**
 * Keeps a Claude runner's transcripts in session-store (docs/sessions.md, "Upload cadence"):
 * every `intervalMs` while the child runs it sends each transcript file that changed since its
 * last upload, the main one (`main`) and the subagents' (`<session>/subagents/**\/agent-<id>.jsonl`,
 * kind `subagent-<id>`), up to the last complete line; once the child exited, everything that is
 * not stored yet, whole, retried with backoff until `finalTimeoutMs`. Uploads run on their own
 * loop, one at a time, never in the way of the heartbeats. A failed upload changes nothing that
 * was stored: the file is sent again at the next look.
 */
export class TranscriptUploader {
  private readonly sessions = new Map<string, string>();
  private readonly stored = new Map<string, Stored>();
  private readonly refused = new Map<string, Refused>();
  /** The last failure reported per file, so a failure that repeats is logged once. */
  private readonly failures = new Map<string, string>();
  private readonly warnedDuplicates = new Set<string>();
  private readonly wake = new AbortController();
  private periodic: Promise<void> | null = null;
  private finishing: Promise<FinalTranscriptUpload> | null = null;
  private stopping = false;

  constructor(
    private readonly options: TranscriptUploaderOptions,
    private readonly deps: TranscriptUploaderDeps,
  ) {}

  /** Starts the periodic uploads (idempotent). */
  start(): void {
    if (this.periodic !== null || this.stopping) return;
    this.periodic = this.runPeriodic();
  }

  /**
   * Stops the periodic uploads, waits for one in flight (so that it cannot land after the final
   * version), then uploads what is not stored yet, retrying until the deadline. Idempotent: a
   * second call returns the first call's result.
   */
  finish(): Promise<FinalTranscriptUpload> {
    this.finishing ??= this.runFinal();
    return this.finishing;
  }

  private async runPeriodic(): Promise<void> {
    while (!this.stopping) {
      await this.deps.scheduler.sleep(this.options.intervalMs, this.wake.signal);
      if (this.stopping) return;
      await this.pass(false, () => this.uploadTimeoutMs).catch((error: unknown) => {
        this.deps.logger.error({ err: String(error) }, 'periodic transcript upload failed');
      });
    }
  }

  private async runFinal(): Promise<FinalTranscriptUpload> {
    this.stopping = true;
    this.wake.abort();
    const deadline = this.nowMs() + this.options.finalTimeoutMs;
    if (this.periodic !== null) {
      const cancel = new AbortController();
      await Promise.race([
        this.periodic,
        this.deps.scheduler.sleep(this.options.finalTimeoutMs, cancel.signal),
      ]);
      cancel.abort();
    }
    let uploaded = 0;
    // Each upload gets what is left of the deadline (at most its usual limit).
    const timeoutMs = () => Math.max(1, Math.min(deadline - this.nowMs(), this.uploadTimeoutMs));
    for (let failures = 0; ; failures += 1) {
      const result = await this.pass(true, timeoutMs);
      uploaded += result.stored;
      const left = deadline - this.nowMs();
      if (result.retry.length === 0 || left <= 0) {
        const missing = [...result.retry, ...result.refused];
        if (missing.length > 0) {
          this.deps.logger.warn(
            { missing, finalTimeoutMs: this.options.finalTimeoutMs },
            'some transcripts could not be uploaded',
          );
        } else if (uploaded > 0 || this.stored.size > 0) {
          this.deps.logger.info(
            { uploaded, transcripts: this.stored.size },
            'transcripts uploaded',
          );
        }
        return { uploaded, missing };
      }
      const delay = fullJitterDelay(
        failures + 1,
        { baseMs: RETRY_BASE_MS, capMs: this.options.retryCapMs ?? DEFAULT_RETRY_CAP_MS },
        this.deps.random,
      );
      await this.deps.scheduler.sleep(Math.min(delay, left));
    }
  }

  /** One look at every known file: uploads those that changed, one after the other. */
  private async pass(
    final: boolean,
    timeoutMs: () => number,
  ): Promise<{ stored: number; retry: string[]; refused: string[] }> {
    this.remember();
    const result = { stored: 0, retry: [] as string[], refused: [] as string[] };
    for (const file of await this.files()) {
      const attempt = await this.attempt(file, final, timeoutMs);
      const name = `${file.sessionId}/${file.kind}`;
      if (attempt === 'stored') result.stored += 1;
      else if (attempt === 'retry') result.retry.push(name);
      else if (attempt === 'refused') result.refused.push(name);
    }
    return result;
  }

  private remember(): void {
    let ref: TranscriptRef | null = null;
    try {
      ref = this.deps.current();
    } catch (error) {
      this.deps.logger.warn({ err: String(error) }, 'could not tell the session of the child');
    }
    if (ref !== null) this.sessions.set(ref.sessionId, ref.transcriptPath);
  }

  /** The main transcript of every session seen, and the subagent files beside each. */
  private async files(): Promise<TranscriptFile[]> {
    const files: TranscriptFile[] = [];
    for (const [sessionId, path] of this.sessions) {
      files.push({ sessionId, kind: 'main', path });
      files.push(...(await this.subagentFiles(sessionId, join(dirname(path), sessionId))));
    }
    return files;
  }

  private async subagentFiles(sessionId: string, sessionDir: string): Promise<TranscriptFile[]> {
    const root = join(sessionDir, 'subagents');
    let entries;
    try {
      entries = await readdir(root, { recursive: true, withFileTypes: true });
    } catch {
      return []; // no subagent yet
    }
    const byKind = new Map<string, string>();
    const paths = entries
      .filter((entry) => entry.isFile() && SUBAGENT_FILE.test(entry.name))
      .map((entry) => join(entry.parentPath, entry.name))
      .sort();
    for (const path of paths) {
      const agentId = SUBAGENT_FILE.exec(basename(path))?.[1] ?? '';
      const kind = `subagent-${agentId}`;
      if (byKind.has(kind)) {
        if (!this.warnedDuplicates.has(path)) {
          this.warnedDuplicates.add(path);
          this.deps.logger.warn(
            {
              sessionId,
              kind,
              kept: relative(root, byKind.get(kind) ?? ''),
              skipped: relative(root, path),
            },
            'two subagent transcripts with one agent id; uploading the first',
          );
        }
        continue;
      }
      byKind.set(kind, path);
    }
    return [...byKind].map(([kind, path]) => ({ sessionId, kind, path }));
  }

  private async attempt(
    file: TranscriptFile,
    final: boolean,
    timeoutMs: () => number,
  ): Promise<Attempt> {
    const key = `${file.sessionId}\u0000${file.kind}`;
    let size: number;
    let mtimeMs: number;
    try {
      ({ size, mtimeMs } = await stat(file.path));
    } catch {
      return 'unchanged'; // gone or not there yet: nothing to send
    }
    const previous = this.stored.get(key);
    if (
      previous !== undefined &&
      previous.size === size &&
      previous.mtimeMs === mtimeMs &&
      (previous.complete || !final)
    ) {
      return 'unchanged';
    }
    const refusal = this.refused.get(key);
    if (refusal && (refusal.size === size || (refusal.status === 413 && size >= refusal.size))) {
      return 'refused';
    }

    let length: number;
    try {
      length = final ? size : await completeLength(file.path, size);
    } catch (error) {
      this.reportFailure(key, file, `could not read the file: ${String(error)}`);
      return 'retry';
    }
    if (length === 0) return 'unchanged'; // not one complete line yet
    try {
      await this.deps.target.upload({
        sessionId: file.sessionId,
        kind: file.kind,
        body: createReadStream(file.path, { start: 0, end: length - 1 }),
        timeoutMs: timeoutMs(),
      });
    } catch (error) {
      return this.failed(key, file, size, error);
    }
    this.stored.set(key, { size, mtimeMs, complete: length === size });
    this.refused.delete(key);
    if (this.failures.delete(key)) {
      this.deps.logger.info(
        { sessionId: file.sessionId, kind: file.kind },
        'transcript uploaded again',
      );
    }
    return 'stored';
  }

  private failed(key: string, file: TranscriptFile, size: number, error: unknown): Attempt {
    if (error instanceof ApiError && [400, 413, 415].includes(error.status)) {
      this.refused.set(key, { size, status: error.status });
      this.deps.logger.error(
        {
          sessionId: file.sessionId,
          kind: file.kind,
          size,
          status: error.status,
          code: error.code,
          err: error.message,
        },
        'session-store refused the transcript; it is not sent again until it changes',
      );
      return 'refused';
    }
    const reason =
      error instanceof ApiError
        ? `${error.status} ${error.code}`
        : error instanceof NetworkError
          ? `session-store ${error.failure}`
          : String(error);
    this.reportFailure(key, file, reason, error instanceof Error ? error.message : undefined);
    return 'retry';
  }

  private reportFailure(key: string, file: TranscriptFile, reason: string, detail?: string): void {
    if (this.failures.get(key) === reason) return;
    this.failures.set(key, reason);
    this.deps.logger.warn(
      { sessionId: file.sessionId, kind: file.kind, reason, ...(detail ? { err: detail } : {}) },
      // 404/403 at first: the heartbeat that names the session has not reached session-store.
      'transcript not uploaded; trying again later',
    );
  }

  private get uploadTimeoutMs(): number {
    return this.options.uploadTimeoutMs ?? DEFAULT_UPLOAD_TIMEOUT_MS;
  }

  private nowMs(): number {
    return this.deps.clock.now().getTime();
  }
}

/**
 * The length of `path`'s first `size` bytes up to and including their last newline: a periodic
 * upload holds back a line that is still being written. 0 when there is no newline yet.
 */
export async function completeLength(path: string, size: number): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const block = Buffer.alloc(Math.min(TAIL_BLOCK, size));
    for (let end = size; end > 0;) {
      const start = Math.max(0, end - block.length);
      const { bytesRead } = await handle.read(block, 0, end - start, start);
      const at = block.subarray(0, bytesRead).lastIndexOf(NEWLINE);
      if (at !== -1) return start + at + 1;
      end = start;
    }
    return 0;
  } finally {
    await handle.close();
  }
}

/** Uploads through session-store's HTTP endpoint with the runner token. */
export function httpTranscriptTarget(baseUrl: string, token: string): TranscriptUploadTarget {
  return {
    async upload({ sessionId, kind, body, timeoutMs }) {
      // Loaded on the first upload, not at the agent's start (the whole API client).
      const { uploadTranscript } = await import('@stratavore/api-client');
      await uploadTranscript({ baseUrl, token, sessionId, kind, body, timeoutMs });
    },
  };
}

/** Defaults of the agent's transcript uploads (`STRATAVORE_TRANSCRIPT_*`). */
export const TRANSCRIPT_UPLOAD_DEFAULTS = { intervalMs: 60_000, finalTimeoutMs: 60_000 } as const;

/** A runner's transcript uploads, tied to its child. */
export interface TranscriptUploads {
  /** The supervisor's launcher, watched: uploads start with the child, the last one when it exits. */
  readonly launcher: ChildLauncher;
  /** Resolves once the last upload is done or its deadline passed (never rejects). */
  finish(): Promise<FinalTranscriptUpload>;
}

/**
 * Transcript uploads for a runner whose usage source knows sessions and their transcript files
 * (Claude Code), unless `STRATAVORE_TRANSCRIPT_UPLOAD=false`; null otherwise. Uploads go to
 * `STRATAVORE_TRANSCRIPT_URL`, else to the heartbeat URL, with the runner token.
 */
export function transcriptUploadsFor(
  config: AgentConfig,
  deps: Pick<
    RunnerSupervisorDeps,
    'launcher' | 'usage' | 'scheduler' | 'clock' | 'random' | 'logger'
  >,
  target: TranscriptUploadTarget = httpTranscriptTarget(
    config.STRATAVORE_TRANSCRIPT_URL ?? config.STRATAVORE_HEARTBEAT_URL,
    config.STRATAVORE_RUNNER_TOKEN,
  ),
): TranscriptUploads | null {
  const session = deps.usage.session?.bind(deps.usage);
  if (session === undefined || config.STRATAVORE_TRANSCRIPT_UPLOAD === false) return null;
  const uploader = new TranscriptUploader(
    {
      intervalMs: config.STRATAVORE_TRANSCRIPT_INTERVAL ?? TRANSCRIPT_UPLOAD_DEFAULTS.intervalMs,
      finalTimeoutMs:
        config.STRATAVORE_TRANSCRIPT_FINAL_TIMEOUT ?? TRANSCRIPT_UPLOAD_DEFAULTS.finalTimeoutMs,
    },
    {
      target,
      current: () => {
        const snapshot = session();
        return snapshot?.transcriptPath
          ? { sessionId: snapshot.sessionId, transcriptPath: snapshot.transcriptPath }
          : null;
      },
      scheduler: deps.scheduler,
      clock: deps.clock,
      random: deps.random,
      logger: deps.logger,
    },
  );
  const launcher = deps.launcher;
  return {
    launcher: {
      async launch(command) {
        const child = await launcher.launch(command);
        uploader.start();
        // The last upload runs beside the final report, not before it: for a short run the
        // session reaches session-store with that report only.
        void child.exited.then(() => uploader.finish());
        return child;
      },
    },
    finish: () => uploader.finish(),
  };
}
