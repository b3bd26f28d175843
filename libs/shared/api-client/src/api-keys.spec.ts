import { ApiError } from './api-client.errors';
import { API_KEY_PATTERN, ApiKeysClient, type ApiKeyView, generateApiKey } from './api-keys';
import { type RecordingServer, startRecordingServer } from './recording-server.test-support';

const KEY_ID = '3d9f6a1e-8b2c-4f3d-9e4a-5b6c7d8e9f01';

const apiKey: ApiKeyView = {
  id: KEY_ID,
  name: 'ci',
  prefix: 'abcd2345',
  scope: 'operator',
  createdAt: '2026-11-24T10:00:00.000Z',
  lastUsedAt: null,
  revokedAt: null,
};

describe('generateApiKey', () => {
  it('makes sv_<8 base32 characters>_<32 bytes in base64url> from the randomness given', () => {
    const sizes: number[] = [];
    const generated = generateApiKey((size) => {
      sizes.push(size);
      // Prefix bytes 0, 1, 31, 32, 33, 255, 26, 27: base32 by the byte modulo 32.
      return size === 8 ? Buffer.from([0, 1, 31, 32, 33, 255, 26, 27]) : Buffer.alloc(size, 0xfb);
    });

    expect(sizes).toEqual([8, 32]);
    expect(generated).toEqual({
      prefix: 'ab7ab723',
      key: `sv_ab7ab723_${Buffer.alloc(32, 0xfb).toString('base64url')}`,
    });
    expect(generated.key).toMatch(API_KEY_PATTERN);
  });

  it('makes a different key in the format on every call by default', () => {
    const keys = new Set(Array.from({ length: 50 }, () => generateApiKey().key));
    expect(keys.size).toBe(50);
    for (const key of keys) expect(key).toMatch(API_KEY_PATTERN);
  });
});

describe('ApiKeysClient', () => {
  let server: RecordingServer;
  let client: ApiKeysClient;

  beforeAll(async () => {
    server = await startRecordingServer();
    client = new ApiKeysClient({ baseUrl: server.url, token: 'sv_admin' });
  });

  afterEach(() => {
    server.seen.length = 0;
  });

  afterAll(() => server.close());

  it('lists keys with the admin key as bearer', async () => {
    server.answer(200, { keys: [apiKey] });

    expect(await client.listKeys()).toEqual({ keys: [apiKey] });
    expect(server.seen).toEqual([
      { method: 'GET', url: '/api/v1/keys', body: '', authorization: 'Bearer sv_admin' },
    ]);
  });

  it('creates a key from a name and scope and returns the key once', async () => {
    const key = generateApiKey().key;
    server.answer(201, { key, apiKey });

    expect(await client.createKey({ name: 'ci', scope: 'operator' })).toEqual({ key, apiKey });
    expect(server.seen.map((r) => [r.method, r.url, JSON.parse(r.body) as unknown])).toEqual([
      ['POST', '/api/v1/keys', { name: 'ci', scope: 'operator' }],
    ]);
  });

  it('revokes a key by its id, escaping it in the path', async () => {
    const revoked = { ...apiKey, revokedAt: '2026-11-24T12:00:00.000Z' };
    server.answer(200, { apiKey: revoked });

    expect(await client.revokeKey(KEY_ID)).toEqual({ apiKey: revoked });
    await client.revokeKey('a/b');
    expect(server.seen.map((r) => `${r.method} ${r.url}`)).toEqual([
      `DELETE /api/v1/keys/${KEY_ID}`,
      'DELETE /api/v1/keys/a%2Fb',
    ]);
  });

  it('reports refusals as ApiError and rejects an answer that is not a key', async () => {
    server.answer(404, {
      statusCode: 404,
      code: 'API_KEY_NOT_FOUND',
      message: `no API key with id ${KEY_ID}`,
    });
    await expect(client.revokeKey(KEY_ID)).rejects.toMatchObject({
      status: 404,
      code: 'API_KEY_NOT_FOUND',
    });

    server.answer(201, { key: 'not-a-key', apiKey });
    const error: unknown = await client
      .createKey({ name: 'ci', scope: 'admin' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'INVALID_RESPONSE', fieldErrors: [{ field: 'key' }] });
  });
});
