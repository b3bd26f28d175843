import { type INestMicroservice } from '@nestjs/common';
import { requireAmqpUrl, uniqueName, waitFor } from '@stratavore/testing';

import { AmqpAdmin } from './amqp-admin.test-support';
import { RemoteRequestError } from './bus.errors';
import { ping, TEST_SIGNING_KEY, testCatalog } from './bus.test-support';
import { type Recorder, startTestMicroservice } from './bus-transport.test-support';
import { consumerQueues, RabbitMqBus, requestQueue } from './rabbitmq-bus';

const url = requireAmqpUrl();

describe('BusTransport on RabbitMQ', () => {
  const exchange = uniqueName('transport-test.events');
  const dlx = uniqueName('transport-test.dlx');
  const unrouted = uniqueName('transport-test.unrouted');
  const service = uniqueName('transport-test-calc');
  let server: RabbitMqBus;
  let client: RabbitMqBus;
  let app: INestMicroservice;
  let recorder: Recorder;
  let admin: AmqpAdmin;

  const makeBus = () =>
    new RabbitMqBus({
      url,
      exchange,
      deadLetterExchange: dlx,
      unroutedExchange: unrouted,
      signingKey: TEST_SIGNING_KEY,
      serviceName: 'transport-test',
      catalog: testCatalog,
      retryBackoff: { baseMs: 20, maxMs: 100 },
      closeTimeoutMs: 5_000,
    });

  beforeAll(async () => {
    admin = await AmqpAdmin.open(url);
    server = makeBus();
    client = makeBus();
    await client.connect();
    ({ app, recorder } = await startTestMicroservice(server, { service }));
  });

  afterAll(async () => {
    await app.close();
    await Promise.all([server.close(), client.close()]);
    const names = consumerQueues(service);
    await admin.deleteQueues(
      names.queue,
      names.retry,
      names.deadLetter,
      requestQueue(service),
      unrouted,
    );
    await admin.deleteExchanges(exchange, dlx, unrouted);
    await admin.close();
  });

  it('delivers events to @EventPattern handlers, with retries the handler asks for', async () => {
    const outcomes = await client.publishBatch([ping(1), ping(-1)]);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    await waitFor(() => recorder.pinged.length === 4, { description: 'four deliveries' });
    expect(recorder.pinged).toEqual(
      expect.arrayContaining([
        { n: 1, attempt: 1 },
        { n: -1, attempt: 1 },
        { n: -1, attempt: 2 },
        { n: -1, attempt: 3 },
      ]),
    );
    expect(await admin.messageCount(consumerQueues(service).deadLetter)).toBe(0);
  });

  it('answers @MessagePattern requests and carries remote errors', async () => {
    await expect(client.request(service, 'math.sum', [2, 3])).resolves.toEqual({
      sum: 5,
      pattern: 'math.sum',
    });
    const error = await client.request(service, 'math.fail', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteRequestError);
    expect(error).toMatchObject({ code: 'MATH_ERROR', service, pattern: 'math.fail' });
  });
});
