import { Writable } from 'node:stream';

import { Module } from '@nestjs/common';
import { InProcessBus } from '@stratavore/messaging';
import { createLogger } from '@stratavore/observability';
import { createTestDatabase } from '@stratavore/testing';

import { bootstrapService, type RunningService } from './bootstrap-service';
import { ServiceRuntimeModule } from './service-runtime.module';

describe('ServiceRuntimeModule', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let service: RunningService | undefined;
  const lines: string[] = [];
  const logger = createLogger({
    level: 'info',
    service: 'runtime-test',
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    }),
  });

  beforeAll(async () => {
    database = await createTestDatabase('runtime');
  });

  afterEach(async () => {
    await service?.stop();
    service = undefined;
  });

  afterAll(async () => {
    await database.drop();
  });

  async function start(bus: InProcessBus): Promise<RunningService> {
    @Module({
      imports: [
        ServiceRuntimeModule.forRoot({
          service: 'runtime-test',
          databaseUrl: database.url,
          bus,
          logger,
        }),
      ],
    })
    class TestServiceModule {}
    service = await bootstrapService({
      service: 'runtime-test',
      module: TestServiceModule,
      logger,
      host: '127.0.0.1',
      port: 0,
    });
    return service;
  }

  it('migrates the messaging schema, answers health and metrics, and echoes request ids', async () => {
    const { url } = await start(new InProcessBus({ signingKey: 'test-signing-key-0123456789' }));

    const ready = await fetch(`${url}/health/ready`, { headers: { 'x-request-id': 'req-42' } });
    expect(ready.status).toBe(200);
    expect(ready.headers.get('x-request-id')).toBe('req-42');
    const body = (await ready.json()) as { info: Record<string, { status: string }> };
    expect(body.info).toEqual({ database: { status: 'up' }, broker: { status: 'up' } });

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('process_cpu_user_seconds_total');

    const live = await fetch(`${url}/health/live`);
    expect(live.status).toBe(200);
  });

  it('reports not ready, naming the broker, when the bus is down', async () => {
    const bus = new InProcessBus({ signingKey: 'test-signing-key-0123456789' });
    const { url } = await start(bus);
    await bus.close();

    const ready = await fetch(`${url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toContain('broker');
  });

  it('closes the bus and the database pool on stop', async () => {
    const bus = new InProcessBus({ signingKey: 'test-signing-key-0123456789' });
    const running = await start(bus);
    await running.stop();
    service = undefined;
    expect(bus.isConnected()).toBe(false);
    expect(lines.join('')).toContain('closing the message bus and database connections');
  });
});
