import { type INestMicroservice } from '@nestjs/common';
import { waitFor } from '@stratavore/testing';

import { RemoteRequestError } from './bus.errors';
import { ping, pingEnvelope, TEST_SIGNING_KEY, testCatalog, toOutgoing } from './bus.test-support';
import { BusTransport } from './bus-transport';
import { type Recorder, startTestMicroservice } from './bus-transport.test-support';
import { InProcessBus } from './in-process-bus';

describe('BusTransport on the in-process bus', () => {
  let bus: InProcessBus;
  let app: INestMicroservice;
  let recorder: Recorder;

  beforeEach(async () => {
    bus = new InProcessBus({
      signingKey: TEST_SIGNING_KEY,
      catalog: testCatalog,
      retryBackoff: { baseMs: 1, maxMs: 5 },
    });
    ({ app, recorder } = await startTestMicroservice(bus, { service: 'calc', maxAttempts: 5 }));
  });

  afterEach(async () => {
    await app.close();
    await bus.close();
  });

  it('connects the bus and exposes it through unwrap()', () => {
    expect(bus.isConnected()).toBe(true);
    expect(new BusTransport(bus, { service: 'x' }).unwrap<InProcessBus>()).toBe(bus);
  });

  it('routes events to @EventPattern handlers, wildcards included', async () => {
    await bus.publishBatch([ping(1), toOutgoing(pingEnvelope(2, 'test.ponged'))]);
    await waitFor(() => recorder.wildcard.length === 2);
    expect(recorder.pinged).toEqual([{ n: 1, attempt: 1 }]);
    expect(recorder.wildcard).toEqual(['test.pinged', 'test.ponged']);
  });

  it('passes a returned HandlerResult back to the bus', async () => {
    await bus.publishBatch([ping(-1)]);
    await waitFor(() => recorder.pinged.length === 3);
    expect(recorder.pinged.map((p) => p.attempt)).toEqual([1, 2, 3]);
    expect(bus.deadLetters()).toEqual([]);
  });

  it('serves @MessagePattern handlers, observables and remote errors', async () => {
    await expect(bus.request('calc', 'math.sum', [1, 2, 3])).resolves.toEqual({
      sum: 6,
      pattern: 'math.sum',
    });
    await expect(bus.request('calc', 'math.stream', {})).resolves.toBe(3);
    const error = await bus.request('calc', 'math.fail', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteRequestError);
    expect(error).toMatchObject({ code: 'MATH_ERROR' });
    await expect(bus.request('calc', 'math.nope', {})).rejects.toMatchObject({
      code: 'UNKNOWN_PATTERN',
    });
  });

  it('stops consuming on close', async () => {
    await app.close();
    const [outcome] = await bus.publishBatch([ping(5)]);
    // In memory, a queue without its consumer refuses: the outbox keeps the event instead.
    expect(outcome).toMatchObject({ ok: false, reason: 'disconnected' });
    expect(bus.queueDepth('calc')).toBe(0);
    await expect(bus.request('calc', 'math.sum', [1])).rejects.toMatchObject({
      code: 'NO_RESPONDER',
    });
  });
});
