import { type IncomingMessage } from 'node:http';

import {
  Controller,
  Headers,
  HttpCode,
  HttpException,
  Inject,
  Injectable,
  type OnModuleInit,
  Param,
  Put,
  Req,
  Res,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type TranscriptMetadata } from '@stratavore/contracts';

import {
  httpStatusOf,
  SessionStoreErrorCode,
  SessionStoreException,
} from './session-store.exception';
import { TRANSCRIPT_MEDIA_TYPES, UploadTranscript } from './upload-transcript.use-case';

/** The parts of Fastify's request the upload reads (fastify is not a workspace dependency). */
interface UploadRequest {
  /** The raw stream our content-type parser hands through, or a body Fastify parsed itself. */
  readonly body?: unknown;
  readonly raw: IncomingMessage;
}

/** The part of Fastify's reply the upload sets a header on. */
interface UploadReply {
  header(name: string, value: string): unknown;
}

/** The part of a Fastify instance that registers content-type parsers. */
interface ContentTypeParsing {
  hasContentTypeParser(contentType: string): boolean;
  addContentTypeParser(
    contentTypes: string[],
    parser: (
      request: unknown,
      payload: IncomingMessage,
      done: (error: Error | null, body?: unknown) => void,
    ) => void,
  ): void;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<Uint8Array | string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}

/**
 * Lets transcript bodies through unparsed: for the transcript media types, Fastify hands the
 * request stream to the handler instead of buffering it (and its 1 MiB body limit does not
 * apply; the upload enforces its own). Registered once per Fastify instance, so the daemon,
 * which serves every module on one instance, registers it once too.
 */
@Injectable()
export class TranscriptBodyParsers implements OnModuleInit {
  constructor(@Inject(HttpAdapterHost) private readonly host: HttpAdapterHost) {}

  onModuleInit(): void {
    // An adapter-less application (a microservice, a test without HTTP) has no instance.
    const adapter = this.host.httpAdapter as HttpAdapterHost['httpAdapter'] | undefined;
    const instance = adapter?.getInstance<Partial<ContentTypeParsing>>();
    if (!instance?.addContentTypeParser || !instance.hasContentTypeParser) return;
    const missing = TRANSCRIPT_MEDIA_TYPES.filter((type) => !instance.hasContentTypeParser?.(type));
    if (missing.length === 0) return;
    instance.addContentTypeParser([...missing], (_request, payload, done) => done(null, payload));
  }
}

/**
 * The agents' transcript upload (docs/sessions.md, "Transcripts"), on session-store's own HTTP
 * server (in the daemon, on its one port beside the gateway's `/api/v1/sessions/:id/transcript`
 * reads, which are GETs on another path). Errors: `{ statusCode, code, message, errors? }`.
 */
@Controller('api/v1/sessions')
export class TranscriptUploadController {
  constructor(@Inject(UploadTranscript) private readonly uploadTranscript: UploadTranscript) {}

  @Put(':sessionId/transcripts/:kind')
  @HttpCode(200)
  async upload(
    @Param('sessionId') sessionId: string,
    @Param('kind') kind: string,
    @Headers('authorization') authorization: string | undefined,
    @Headers('content-type') contentType: string | undefined,
    @Headers('content-length') contentLength: string | undefined,
    @Req() request: UploadRequest,
    @Res({ passthrough: true }) reply: UploadReply,
  ): Promise<TranscriptMetadata> {
    try {
      return await this.uploadTranscript.execute({
        authorization,
        sessionId,
        kind,
        contentType,
        contentLength,
        body: isAsyncIterable(request.body) ? request.body : request.raw,
      });
    } catch (error) {
      // Refused before the body was read to its end (unknown token, too large): the connection
      // closes after the answer and the rest is discarded; otherwise the unread body would keep
      // the connection busy (and a shutdown waiting) with nobody reading it.
      if (!request.raw.readableEnded) {
        reply.header('connection', 'close');
        request.raw.resume();
      }
      if (!(error instanceof SessionStoreException)) throw error;
      const statusCode = httpStatusOf(error.code);
      throw new HttpException(
        {
          statusCode,
          code: error.code,
          message: error.message,
          ...(error.code === SessionStoreErrorCode.ValidationFailed
            ? { errors: error.issues }
            : {}),
        },
        statusCode,
      );
    }
  }
}
