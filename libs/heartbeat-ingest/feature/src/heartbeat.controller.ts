import { Body, Controller, Headers, HttpCode, HttpException, Inject, Post } from '@nestjs/common';
import { type HeartbeatAnswer } from '@stratavore/contracts';
import { ID_GENERATOR, type IdGenerator } from '@stratavore/core';
import { currentCorrelationId } from '@stratavore/observability';

import { HeartbeatErrorCode, HeartbeatException, httpStatusOf } from './heartbeat.exception';
import { IngestHeartbeat } from './ingest-heartbeat.use-case';

/** The agents' endpoint (docs/runners.md, "Heartbeat protocol"). */
@Controller('api/v1/heartbeat')
export class HeartbeatController {
  constructor(
    @Inject(IngestHeartbeat) private readonly ingest: IngestHeartbeat,
    @Inject(ID_GENERATOR) private readonly ids: IdGenerator,
  ) {}

  @Post()
  @HttpCode(200)
  async report(
    @Headers('authorization') authorization: string | undefined,
    @Body() body: unknown,
  ): Promise<HeartbeatAnswer> {
    try {
      return await this.ingest.execute(
        authorization,
        body,
        currentCorrelationId() ?? this.ids.uuid(),
      );
    } catch (error) {
      if (!(error instanceof HeartbeatException)) throw error;
      const statusCode = httpStatusOf(error.code);
      throw new HttpException(
        {
          statusCode,
          code: error.code,
          message: error.message,
          ...(error.code === HeartbeatErrorCode.ValidationFailed ? { errors: error.errors } : {}),
        },
        statusCode,
      );
    }
  }
}
