import { createHash } from 'node:crypto';

import {
  sessionIdSchema,
  transcriptKindName,
  type TranscriptKindRef,
  transcriptKindRefSchema,
  type TranscriptMetadata,
} from '@stratavore/contracts';
import { type Clock, type IdGenerator } from '@stratavore/core';
import { type BlobStore, type SessionDatabase } from '@stratavore/session-store-data-access';

import { SessionStoreErrorCode, SessionStoreException } from './session-store.exception';
import { toTranscriptView } from './session-views';
import { tooLarge, TranscriptMeter } from './transcript-meter';

/** Media types a transcript upload may declare (the body is raw JSONL either way). */
export const TRANSCRIPT_MEDIA_TYPES = [
  'application/x-ndjson',
  'application/jsonl',
  'application/octet-stream',
] as const;

/** The reads and writes an upload needs. */
export type TranscriptStore = Pick<
  SessionDatabase,
  'findTokenOwner' | 'sessionExists' | 'runnerHasRun' | 'replaceTranscript'
>;

export interface UploadLimits {
  /** Largest transcript accepted, in bytes. */
  readonly maxBytes: number;
  /** How long after its runner ended an agent may still upload (the final upload). */
  readonly graceMs: number;
}

export interface TranscriptUpload {
  readonly authorization: string | undefined;
  readonly sessionId: string;
  /** `main` or `subagent-<agentId>`. */
  readonly kind: string;
  readonly contentType: string | undefined;
  readonly contentLength: string | undefined;
  readonly body: AsyncIterable<Uint8Array | string>;
}

export interface UploadLogger {
  warn(message: string): void;
}

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]+)$/;
const PLAIN_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/** The blob-key segment of a session: the id itself when plain (uuids), else a digest of it. */
export function sessionKeySegment(sessionId: string): string {
  return PLAIN_SEGMENT.test(sessionId)
    ? sessionId
    : `h-${createHash('sha256').update(sessionId, 'utf8').digest('hex')}`;
}

function unauthenticated(message: string): SessionStoreException {
  return new SessionStoreException(SessionStoreErrorCode.Unauthenticated, message);
}

/**
 * `PUT /api/v1/sessions/:sessionId/transcripts/:kind` (docs/sessions.md, "Transcripts"): the
 * agent's runner token must be a runner that has a run in the session (and has not ended longer
 * than the grace ago); the body streams through a meter (size limit, line count, sha256) into a
 * new blob; the metadata then points at it in one transaction, and the version it replaced is
 * deleted. A failed upload leaves the previous version in place.
 */
export class UploadTranscript {
  constructor(
    private readonly deps: {
      readonly store: TranscriptStore;
      readonly blobs: BlobStore;
      readonly clock: Clock;
      readonly ids: IdGenerator;
      readonly limits: UploadLimits;
      readonly logger: UploadLogger;
    },
  ) {}

  async execute(upload: TranscriptUpload): Promise<TranscriptMetadata> {
    const match =
      upload.authorization === undefined ? null : BEARER.exec(upload.authorization.trim());
    if (!match?.[1]) throw unauthenticated('expected Authorization: Bearer <runner token>');
    const { sessionId, kind } = this.parsePath(upload);

    const { store, limits } = this.deps;
    const owner = await store.findTokenOwner(
      createHash('sha256').update(match[1], 'utf8').digest('hex'),
    );
    if (!owner) throw unauthenticated('unknown runner token');
    const now = this.deps.clock.now();
    if (owner.endedAt !== null && now.getTime() - owner.endedAt.getTime() > limits.graceMs) {
      throw new SessionStoreException(
        SessionStoreErrorCode.RunnerNotInSession,
        `runner ${owner.runnerId} ended at ${owner.endedAt.toISOString()}; its uploads are closed`,
        { runner: owner.runnerId },
      );
    }
    if (!(await store.sessionExists(sessionId))) {
      throw SessionStoreException.sessionNotFound(sessionId);
    }
    if (!(await store.runnerHasRun(sessionId, owner.runnerId))) {
      throw new SessionStoreException(
        SessionStoreErrorCode.RunnerNotInSession,
        `runner ${owner.runnerId} has no part in session ${sessionId}`,
        { runner: owner.runnerId, session: sessionId },
      );
    }
    this.checkBody(upload);

    const kindName = transcriptKindName(kind.kind, kind.agentId);
    const blobKey = `transcripts/${sessionKeySegment(sessionId)}/${kindName}/${this.deps.ids.uuid()}.jsonl`;
    const meter = new TranscriptMeter(limits.maxBytes);
    await this.deps.blobs.put(blobKey, meter.pass(upload.body));
    const measure = meter.result();
    const record = {
      sessionId,
      kind: kind.kind,
      agentId: kind.agentId,
      blobKey,
      ...measure,
      uploadedAt: this.deps.clock.now(),
      uploadedBy: owner.runnerId,
    };
    let replaced: string | null;
    try {
      replaced = await store.replaceTranscript(record);
    } catch (error) {
      await this.deps.blobs.delete(blobKey).catch(() => undefined);
      throw error;
    }
    if (replaced !== null) {
      await this.deps.blobs.delete(replaced).catch((error: unknown) => {
        this.deps.logger.warn(
          `could not delete the replaced transcript ${replaced}: ${String(error)}`,
        );
      });
    }
    return toTranscriptView(record);
  }

  private parsePath(upload: TranscriptUpload): { sessionId: string; kind: TranscriptKindRef } {
    const session = sessionIdSchema.safeParse(upload.sessionId);
    const kind = transcriptKindRefSchema.safeParse(upload.kind);
    const issues = [
      ...(session.success
        ? []
        : [{ field: 'sessionId', message: 'expected a session id (1 to 256 characters)' }]),
      ...(kind.success
        ? []
        : kind.error.issues.map((i) => ({ field: 'kind', message: i.message }))),
    ];
    if (!session.success || !kind.success)
      throw SessionStoreException.validationFailed(issues, 'path');
    return { sessionId: session.data, kind: kind.data };
  }

  private checkBody(upload: TranscriptUpload): void {
    const mediaType = upload.contentType?.split(';')[0]?.trim().toLowerCase();
    if (!mediaType || !(TRANSCRIPT_MEDIA_TYPES as readonly string[]).includes(mediaType)) {
      throw new SessionStoreException(
        SessionStoreErrorCode.UnsupportedMediaType,
        `send the transcript as ${TRANSCRIPT_MEDIA_TYPES[0]} (got ${mediaType ?? 'no content type'})`,
      );
    }
    const declared = upload.contentLength === undefined ? NaN : Number(upload.contentLength);
    if (Number.isFinite(declared) && declared > this.deps.limits.maxBytes) {
      throw tooLarge(this.deps.limits.maxBytes);
    }
  }
}
