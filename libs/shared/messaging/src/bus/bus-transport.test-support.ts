// A tiny Nest microservice for the BusTransport tests (not exported from the library).
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { type EventEnvelope } from '@stratavore/contracts';
import { of } from 'rxjs';

import { type HandlerResult, type MessageBus } from './bus.ports';
import {
  BusEventContext,
  BusExceptionFilter,
  BusRequestContext,
  BusTransport,
  type BusTransportOptions,
} from './bus-transport';

export class Recorder {
  readonly pinged: Array<{ n: number; attempt: number }> = [];
  readonly wildcard: string[] = [];
}

@Controller()
class TestController {
  constructor(private readonly recorder: Recorder) {}

  @EventPattern('test.pinged')
  onPinged(@Payload() envelope: EventEnvelope<{ n: number }>, @Ctx() context: BusEventContext) {
    this.recorder.pinged.push({ n: envelope.data.n, attempt: context.getEvent().attempt });
    // n < 0 asks for a retry until the third attempt, to show results travel back.
    if (envelope.data.n < 0 && context.getEvent().attempt < 3)
      return 'retry' satisfies HandlerResult;
    return undefined;
  }

  @EventPattern('test.#')
  onAnyTest(@Payload() envelope: EventEnvelope) {
    this.recorder.wildcard.push(envelope.type);
  }

  @MessagePattern('math.sum')
  sum(@Payload() numbers: number[], @Ctx() context: BusRequestContext) {
    return { sum: numbers.reduce((a, b) => a + b, 0), pattern: context.getPattern() };
  }

  @MessagePattern('math.stream')
  stream() {
    return of(1, 2, 3);
  }

  @MessagePattern('math.fail')
  fail(): never {
    throw Object.assign(new Error('division by zero'), { code: 'MATH_ERROR' });
  }
}

export async function startTestMicroservice(bus: MessageBus, options: BusTransportOptions) {
  const recorder = new Recorder();
  const moduleRef = await Test.createTestingModule({
    controllers: [TestController],
    providers: [{ provide: Recorder, useValue: recorder }],
  }).compile();
  const app = moduleRef.createNestMicroservice({ strategy: new BusTransport(bus, options) });
  app.useLogger(false);
  app.useGlobalFilters(new BusExceptionFilter());
  await app.listen();
  return { app, recorder };
}
