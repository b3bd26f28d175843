import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger, currentCorrelationId } from '@stratavore/logging';

import { HealthModule } from './health/health.module';
import { type ReadinessCheck } from './health/readiness-check';
import { registerHttpCorrelation } from './http/http-correlation';
import { PinoNestLogger } from './logging/pino-nest-logger';
import { counter, gauge, histogram } from './metrics/metric-registry';
import { MetricsModule } from './metrics/metrics.module';

@Controller('probe')
class ProbeController {
  @Get()
  get(): { correlationId: string | undefined } {
    return { correlationId: currentCorrelationId() };
  }

  @Post()
  async post(
    @Body() body: { wait: number },
  ): Promise<{ correlationId: string | undefined; echoed: number }> {
    await new Promise((resolve) => setImmediate(resolve));
    return { correlationId: currentCorrelationId(), echoed: body.wait };
  }
}

async function startApp(
  service: string,
  checks: ReadinessCheck[],
  logLines: Array<Record<string, unknown>> = [],
): Promise<{ app: NestFastifyApplication; base: string }> {
  @Module({
    imports: [MetricsModule.forRoot({ service }), HealthModule.forRoot({ checks, timeoutMs: 200 })],
    controllers: [ProbeController],
  })
  class AppModule {}

  const logger = createLogger({
    level: 'info',
    service,
    destination: {
      write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>),
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), {
    logger: new PinoNestLogger(logger),
  });
  registerHttpCorrelation(app);
  await app.listen(0, '127.0.0.1');
  return { app, base: await app.getUrl() };
}

describe('observability in a real Nest Fastify app', () => {
  let database = { up: false };
  const apps: NestFastifyApplication[] = [];
  const logLines: Array<Record<string, unknown>> = [];
  let base: string;

  beforeAll(async () => {
    database = { up: false };
    const started = await startApp(
      'svc-a',
      [
        {
          name: 'database',
          check: () =>
            database.up ? Promise.resolve() : Promise.reject(new Error('connection refused')),
        },
        { name: 'broker', check: () => Promise.resolve() },
      ],
      logLines,
    );
    apps.push(started.app);
    base = started.base;
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
  });

  it("routes Nest's own logs through pino", () => {
    expect(logLines).toContainEqual(
      expect.objectContaining({ service: 'svc-a', context: 'RoutesResolver', level: 'info' }),
    );
  });

  it('liveness is 200 while the process runs', async () => {
    const response = await fetch(`${base}/health/live`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok' });
  });

  it('readiness is 503 naming the failing check, then 200 once every check passes', async () => {
    const failing = await fetch(`${base}/health/ready`);
    expect(failing.status).toBe(503);
    const body = (await failing.json()) as {
      status: string;
      error: Record<string, unknown>;
      info: Record<string, unknown>;
    };
    expect(body.status).toBe('error');
    expect(body.error).toEqual({ database: { status: 'down', message: 'connection refused' } });
    expect(body.info).toEqual({ broker: { status: 'up' } });

    database.up = true;
    const passing = await fetch(`${base}/health/ready`);
    expect(passing.status).toBe(200);
    expect(await passing.json()).toMatchObject({
      status: 'ok',
      info: { database: { status: 'up' }, broker: { status: 'up' } },
    });
  });

  it('readiness fails a check that hangs past the time limit', async () => {
    const { app, base: hangingBase } = await startApp('svc-hang', [
      { name: 'slow-broker', check: () => new Promise<void>(() => undefined) },
    ]);
    apps.push(app);
    const response = await fetch(`${hangingBase}/health/ready`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      error: { 'slow-broker': { status: 'down', message: 'timed out after 200 ms' } },
    });
  });

  it('runs each request in the caller correlation id and echoes it, also after body parsing', async () => {
    const get = await fetch(`${base}/probe`, { headers: { 'x-request-id': 'abc-123' } });
    expect(get.headers.get('x-request-id')).toBe('abc-123');
    expect(await get.json()).toEqual({ correlationId: 'abc-123' });

    const post = await fetch(`${base}/probe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-correlation-id': 'from-upstream' },
      body: JSON.stringify({ wait: 7 }),
    });
    expect(post.headers.get('x-request-id')).toBe('from-upstream');
    expect(await post.json()).toEqual({ correlationId: 'from-upstream', echoed: 7 });
  });

  it('makes an id when the caller sends none or an unacceptable one', async () => {
    const response = await fetch(`${base}/probe`, {
      headers: { 'x-request-id': 'bad id with spaces' },
    });
    const generated = response.headers.get('x-request-id');
    expect(generated).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(await response.json()).toEqual({ correlationId: generated });
  });

  it('serves /metrics with process metrics and the service label, with several apps in one process', async () => {
    const second = await startApp('svc-b', []);
    apps.push(second.app);
    const runs = counter({
      name: 'stratavore_spec_runs_total',
      help: 'runs',
      labelNames: ['outcome'],
    });
    expect(
      counter({ name: 'stratavore_spec_runs_total', help: 'runs', labelNames: ['outcome'] }),
    ).toBe(runs);
    runs.inc({ outcome: 'ok' });
    expect(histogram({ name: 'stratavore_spec_seconds', help: 'h' })).toBe(
      histogram({ name: 'stratavore_spec_seconds', help: 'h' }),
    );
    expect(gauge({ name: 'stratavore_spec_level', help: 'g' })).toBe(
      gauge({ name: 'stratavore_spec_level', help: 'g' }),
    );
    expect(() => gauge({ name: 'stratavore_spec_runs_total', help: 'clash' })).toThrow(
      'already registered as another kind',
    );

    const response = await fetch(`${second.base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toMatch(/^process_cpu_user_seconds_total\{service="svc-b"\} /m);
    expect(text).toContain('stratavore_spec_runs_total{outcome="ok",service="svc-b"} 1');
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
  });
});
