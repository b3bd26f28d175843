import { randomUUID } from 'node:crypto';

import { defineEvent, EventCatalog, RunnerErrorCode } from '@stratavore/contracts';
import { createTestDatabase, type TestDatabase, waitFor } from '@stratavore/testing';
import { z } from 'zod';

import { type StatusReply } from './api/status.controller';
import { type GatewayUnderTest, publishTestEvent, startGateway } from './api-gateway.test-support';
import { EventStreamHub } from './events/event-stream.hub';
import { type ApiErrorBody } from './http/http-error-mapping';

const testContracts = [
  defineEvent({ type: 'runner.probed', version: 1, data: z.object({ n: z.number() }) }),
  defineEvent({ type: 'budget.probed', version: 1, data: z.object({ n: z.number() }) }),
] as const;
type TestEvent = (typeof testContracts)[number];
const testEvents = new EventCatalog<TestEvent>(testContracts);

const PROJECT_ID = '11111111-1111-4111-8111-111111111111';
const NOW = '2026-11-24T10:00:00.000Z';

function projectReply(overrides: Record<string, unknown> = {}) {
  return {
    id: PROJECT_ID,
    name: 'alpha',
    path: '/srv/alpha',
    description: '',
    command: ['claude'],
    maxRunners: 2,
    env: [{ name: 'TOKEN', value: null, secret: true }],
    createdAt: NOW,
    updatedAt: NOW,
    archivedAt: null,
    ...overrides,
  };
}

function queuedLaunchReply() {
  return {
    id: randomUUID(),
    project: { id: PROJECT_ID, name: 'alpha' },
    position: 3,
    mode: 'headless',
    command: ['claude'],
    prompt: 'fix the build',
    createdAt: NOW,
  };
}

interface Keys {
  admin: string;
  operator: string;
  viewer: string;
}

describe('api-gateway over HTTP', () => {
  let testDb: TestDatabase;
  let gateway: GatewayUnderTest;
  let keys: Keys;

  async function call<T = ApiErrorBody>(
    method: string,
    path: string,
    options: { key?: string; body?: unknown; rawBody?: string; requestId?: string } = {},
  ) {
    const headers: Record<string, string> = {};
    if (options.key) headers['authorization'] = `Bearer ${options.key}`;
    if (options.requestId) headers['x-request-id'] = options.requestId;
    let body: string | undefined;
    if (options.body !== undefined || options.rawBody !== undefined) {
      headers['content-type'] = 'application/json';
      body = options.rawBody ?? JSON.stringify(options.body);
    }
    const response = await fetch(`${gateway.url}${path}`, { method, headers, body });
    const text = await response.text();
    let json: unknown = undefined;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json: json as T };
  }

  beforeAll(async () => {
    testDb = await createTestDatabase('gateway_http');
    gateway = await startGateway({
      databaseUrl: testDb.url,
      rateLimit: { limit: 1_000, windowMs: 60_000 },
      requestTimeoutMs: 300,
      sseKeepAliveMs: 100,
    });
    keys = {
      admin: (await gateway.keys.create({ name: 'admin', scope: 'admin' })).key,
      operator: (await gateway.keys.create({ name: 'operator', scope: 'operator' })).key,
      viewer: (await gateway.keys.create({ name: 'viewer', scope: 'viewer' })).key,
    };
  });

  afterEach(() => {
    try {
      gateway.runnerManager.assertSatisfied();
    } finally {
      gateway.runnerManager.reset();
    }
  });

  afterAll(async () => {
    await gateway?.stop();
    await testDb?.drop();
  });

  describe('open routes', () => {
    it('serves health, the OpenAPI document and Swagger UI without a key', async () => {
      expect((await call('GET', '/health/live')).status).toBe(200);
      const docs = await call<{ paths: Record<string, unknown> }>('GET', '/docs-json');
      expect(docs.status).toBe(200);
      expect(Object.keys(docs.json.paths)).toEqual(
        expect.arrayContaining([
          '/api/v1/projects',
          '/api/v1/projects/{name}',
          '/api/v1/projects/{name}/archive',
          '/api/v1/projects/{name}/runners',
          '/api/v1/runners',
          '/api/v1/runners/{id}',
          '/api/v1/runners/{id}/stop',
          '/api/v1/runners/{id}/queue',
          '/api/v1/status',
          '/api/v1/events',
          '/api/v1/keys',
          '/api/v1/keys/{id}',
        ]),
      );
      const createProject = docs.json.paths['/api/v1/projects'] as {
        post: { requestBody: { content: Record<string, { schema: { properties: object } }> } };
      };
      expect(
        Object.keys(createProject.post.requestBody.content['application/json']!.schema.properties),
      ).toContain('maxRunners');
      const ui = await call('GET', '/docs');
      expect(ui.status).toBe(200);
      expect(ui.text).toContain('swagger-ui');
    });
  });

  describe('authentication and scopes', () => {
    it('answers 401 without a key, with the uniform body and the request id', async () => {
      const response = await call('GET', '/api/v1/projects', { requestId: 'req-no-key' });
      expect(response.status).toBe(401);
      expect(response.json).toEqual({
        statusCode: 401,
        code: 'UNAUTHENTICATED',
        message: 'missing API key: send Authorization: Bearer <key>',
        requestId: 'req-no-key',
      });
      expect(response.headers.get('x-request-id')).toBe('req-no-key');
    });

    it('answers 401 for an unknown key', async () => {
      const response = await call('GET', '/api/v1/projects', {
        key: 'sv_abcdefgh_' + 'A'.repeat(43),
      });
      expect(response.status).toBe(401);
      expect(response.json.message).toBe('invalid API key');
    });

    it('answers 403 when the scope is too small', async () => {
      const response = await call('POST', '/api/v1/projects', {
        key: keys.viewer,
        body: { name: 'alpha', path: '/srv/alpha' },
      });
      expect(response.status).toBe(403);
      expect(response.json.code).toBe('FORBIDDEN');
      expect((await call('GET', '/api/v1/keys', { key: keys.operator })).status).toBe(403);
    });

    it('creates, lists and revokes keys; a revoked key gets 401', async () => {
      const created = await call<{ key: string; apiKey: { id: string } }>('POST', '/api/v1/keys', {
        key: keys.admin,
        body: { name: 'ci', scope: 'viewer' },
      });
      expect(created.status).toBe(201);
      expect(created.json.key).toMatch(/^sv_[a-z2-7]{8}_[A-Za-z0-9_-]{43}$/);
      const { id } = created.json.apiKey;

      const listed = await call<{ keys: unknown[] }>('GET', '/api/v1/keys', { key: keys.admin });
      expect(listed.status).toBe(200);
      expect(listed.json.keys).toEqual(
        expect.arrayContaining([expect.objectContaining({ id, name: 'ci', revokedAt: null })]),
      );
      expect(listed.text).not.toContain(created.json.key);

      gateway.runnerManager.expect('projects.list', () => ({ projects: [] }));
      expect((await call('GET', '/api/v1/projects', { key: created.json.key })).status).toBe(200);

      const revoked = await call<{ apiKey: { revokedAt: string | null } }>(
        'DELETE',
        `/api/v1/keys/${id}`,
        { key: keys.admin },
      );
      expect(revoked.status).toBe(200);
      expect(revoked.json.apiKey.revokedAt).not.toBeNull();

      const refused = await call('GET', '/api/v1/projects', { key: created.json.key });
      expect(refused.status).toBe(401);
      expect(refused.json.message).toBe('the API key was revoked');
    });

    it('validates key requests and reports unknown key ids', async () => {
      const bad = await call('POST', '/api/v1/keys', {
        key: keys.admin,
        body: { name: 'x', scope: 'root' },
      });
      expect(bad.status).toBe(400);
      expect(bad.json.errors?.map((e) => e.field)).toEqual(['scope']);
      expect(bad.json.errors?.[0]?.message).toContain('admin');
      expect((await call('DELETE', '/api/v1/keys/nope', { key: keys.admin })).status).toBe(400);
      expect(
        (await call('DELETE', `/api/v1/keys/${randomUUID()}`, { key: keys.admin })).json.code,
      ).toBe('API_KEY_NOT_FOUND');
    });
  });

  describe('projects and runners', () => {
    it('creates a project: 201, defaults applied, correlation id forwarded', async () => {
      gateway.runnerManager.expect('projects.create', () => projectReply());
      const response = await call('POST', '/api/v1/projects', {
        key: keys.operator,
        requestId: 'req-create-1',
        body: {
          name: 'alpha',
          path: '/srv/alpha',
          maxRunners: 2,
          env: [{ name: 'TOKEN', value: 's3cret', secret: true }],
        },
      });
      expect(response.status).toBe(201);
      expect(response.json).toEqual(projectReply());
      const [request] = gateway.runnerManager.received;
      expect(request?.meta.correlationId).toBe('req-create-1');
      expect(request?.payload).toEqual({
        name: 'alpha',
        path: '/srv/alpha',
        description: '',
        command: ['claude'],
        maxRunners: 2,
        env: [{ name: 'TOKEN', value: 's3cret', secret: true }],
      });
    });

    it('answers 400 naming the field, without asking runner-manager', async () => {
      const response = await call('POST', '/api/v1/projects', {
        key: keys.operator,
        body: { name: 'Not Valid!', path: '/srv/x', maxRunners: 0 },
      });
      expect(response.status).toBe(400);
      expect(response.json.code).toBe('VALIDATION_FAILED');
      expect((response.json.errors ?? []).map((e) => e.field).sort()).toEqual([
        'maxRunners',
        'name',
      ]);
      expect(typeof response.json.requestId).toBe('string');
    });

    it('answers 400 for a body that is not JSON or not an object', async () => {
      const malformed = await call('POST', '/api/v1/projects', {
        key: keys.operator,
        rawBody: '{"name": ',
      });
      expect(malformed.status).toBe(400);
      // Unparseable JSON is refused by the application's body parser before any gateway code
      // runs, so its body is the framework's (statusCode and message), never a 500.
      expect(malformed.json).toMatchObject({ statusCode: 400 });
      const plain = await fetch(`${gateway.url}/api/v1/projects`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keys.operator}`, 'content-type': 'text/plain' },
        body: 'name=alpha',
      });
      // A text body reaches the gateway as a string: refused as not a JSON object.
      expect(plain.status).toBe(400);
      expect(((await plain.json()) as ApiErrorBody).code).toBe('VALIDATION_FAILED');
      const array = await call('POST', '/api/v1/projects', { key: keys.operator, body: [1] });
      expect(array.status).toBe(400);
      expect(array.json.errors).toEqual([{ field: '(body)', message: 'expected a JSON object' }]);
    });

    it('maps a remote QuotaExceeded to 409 with its message', async () => {
      const message =
        'project alpha allows 2 concurrent runners; held by r1 (running), r2 (starting)';
      gateway.runnerManager.expect('runners.launch', () => {
        throw Object.assign(new Error(message), {
          code: RunnerErrorCode.QuotaExceeded,
          details: { maxRunners: 2 },
        });
      });
      const response = await call('POST', '/api/v1/projects/alpha/runners', {
        key: keys.operator,
        body: { prompt: 'fix the build' },
      });
      expect(response.status).toBe(409);
      expect(response.json).toMatchObject({ code: 'QUOTA_EXCEEDED', message });
      expect(gateway.runnerManager.received[0]?.payload).toEqual({
        project: 'alpha',
        prompt: 'fix the build',
        mode: 'headless',
        queue: false,
      });
    });

    it('answers 202 with the queue entry when the launch was queued', async () => {
      const entry = queuedLaunchReply();
      gateway.runnerManager.expect('runners.launch', () => ({
        status: 'queued',
        queuedLaunch: entry,
      }));
      const response = await call('POST', '/api/v1/projects/alpha/runners', {
        key: keys.operator,
        body: { prompt: 'fix the build', queue: true },
      });
      expect(response.status).toBe(202);
      expect(response.json).toEqual({ status: 'queued', queuedLaunch: entry });
    });

    it('passes list filters and maps not-found, unknown codes, bad replies and timeouts', async () => {
      gateway.runnerManager
        .expect('runners.list', () => ({ runners: [] }))
        .expect('runners.get', () => {
          throw Object.assign(new Error('no runner r'), { code: RunnerErrorCode.RunnerNotFound });
        })
        .expect('projects.get', () => {
          throw Object.assign(new Error('?'), { code: 'BRAND_NEW_CODE' });
        })
        .expect('projects.archive', () => ({ not: 'a project' }))
        .expect('runners.status', () => new Promise(() => undefined));

      const list = await call('GET', '/api/v1/runners?project=alpha&state=running,pending', {
        key: keys.viewer,
      });
      expect(list.status).toBe(200);
      expect(gateway.runnerManager.received[0]?.payload).toEqual({
        project: 'alpha',
        states: ['running', 'pending'],
        limit: 50,
      });
      expect(
        (await call('GET', `/api/v1/runners/${randomUUID()}`, { key: keys.viewer })).status,
      ).toBe(404);
      expect(
        (await call('GET', '/api/v1/projects/alpha', { key: keys.viewer })).json,
      ).toMatchObject({
        statusCode: 502,
        code: 'UPSTREAM_ERROR',
      });
      expect(
        (await call('POST', '/api/v1/projects/alpha/archive', { key: keys.operator })).status,
      ).toBe(502);
      const status = await call<StatusReply>('GET', '/api/v1/status', { key: keys.viewer });
      expect(status.status).toBe(200);
      expect(status.json.services.runnerManager.status).toBe('down');
      expect(status.json.services.database).toEqual({ status: 'up' });
    });

    it('answers 504 when runner-manager does not answer in time', async () => {
      gateway.runnerManager.expect('projects.list', () => new Promise(() => undefined));
      const response = await call('GET', '/api/v1/projects', { key: keys.viewer });
      expect(response.status).toBe(504);
      expect(response.json.code).toBe('UPSTREAM_TIMEOUT');
    });

    it('refuses bad query and path values with 400', async () => {
      expect(
        (await call('GET', '/api/v1/runners?state=dancing', { key: keys.viewer })).json.errors?.map(
          (e) => e.field,
        ),
      ).toEqual(['states.0']);
      expect((await call('GET', '/api/v1/runners/not-a-uuid', { key: keys.viewer })).status).toBe(
        400,
      );
      expect(
        (await call('POST', '/api/v1/runners/not-a-uuid/stop', { key: keys.operator })).status,
      ).toBe(400);
    });

    it('sums runner counts by state in /status', async () => {
      const project = (name: string, running: number, pending: number) => ({
        project: { id: randomUUID(), name },
        maxRunners: 5,
        active: running + pending,
        byState: { pending, starting: 0, running, stopping: 0 },
        queued: [],
      });
      gateway.runnerManager.expect('runners.status', () => ({
        projects: [project('alpha', 2, 1), project('beta', 1, 0)],
      }));
      const response = await call<StatusReply>('GET', '/api/v1/status', { key: keys.viewer });
      expect(response.status).toBe(200);
      expect(response.json.runners).toEqual({
        active: 4,
        queued: 0,
        byState: { pending: 1, starting: 0, running: 3, waiting: 0, idle: 0, stopping: 0 },
      });
      expect(response.json.services).toEqual({
        gateway: { status: 'up' },
        database: { status: 'up' },
        bus: { status: 'up' },
        runnerManager: { status: 'up' },
      });
    });
  });

  describe('event stream', () => {
    function publish(type: 'runner.probed' | 'budget.probed', n: number) {
      return publishTestEvent(
        gateway.bus,
        testEvents,
        { type, version: 1, source: 'test', subject: `s-${n}`, correlationId: 'c-1', data: { n } },
        { now: () => new Date(NOW) },
      );
    }

    it('streams bus events matching ?types, with keep-alives, and forgets the client on disconnect', async () => {
      const abort = new AbortController();
      const response = await fetch(`${gateway.url}/api/v1/events?types=runner.*`, {
        headers: { authorization: `Bearer ${keys.viewer}` },
        signal: abort.signal,
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/event-stream');
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      let text = '';
      const readUntil = async (needle: string) => {
        const deadline = Date.now() + 5_000;
        while (!text.includes(needle)) {
          if (Date.now() > deadline) throw new Error(`no ${needle} in ${text}`);
          const { value, done } = await reader.read();
          if (done) throw new Error(`stream ended before ${needle}: ${text}`);
          text += decoder.decode(value, { stream: true });
        }
      };
      try {
        await readUntil(': connected');
        // Order is kept per consumer: the filtered-out event comes first.
        await publish('budget.probed', 1);
        await publish('runner.probed', 2);
        await readUntil('event: runner.probed\n');
        await readUntil(': keep-alive');
        expect(text).not.toContain('budget.probed');
        const dataLine = text.split('\n').find((line) => line.startsWith('data: '))!;
        const event = JSON.parse(dataLine.slice('data: '.length)) as Record<string, unknown>;
        expect(event).toMatchObject({ type: 'runner.probed', source: 'test', data: { n: 2 } });
        expect(event).not.toHaveProperty('signature');
      } finally {
        abort.abort();
      }
      const hub = gateway.app.get(EventStreamHub);
      await waitFor(() => hub.clientCount() === 0, { description: 'the client to be detached' });
    });

    it('needs a key and valid types', async () => {
      expect((await call('GET', '/api/v1/events')).status).toBe(401);
      const bad = await call('GET', '/api/v1/events?types=runner..x', { key: keys.viewer });
      expect(bad.status).toBe(400);
      expect(bad.json.errors?.[0]?.field).toBe('types.0');
    });
  });
});
