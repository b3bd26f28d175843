import { requireAmqpUrl } from './amqp-url';
import { uniqueName } from './unique-name';
import { waitFor } from './wait-for';

describe('waitFor', () => {
  it('returns the first value that is not false, null or undefined', async () => {
    let calls = 0;
    const value = await waitFor(() => (++calls >= 3 ? { calls } : undefined), { intervalMs: 1 });
    expect(value).toEqual({ calls: 3 });
  });

  it('keeps polling through errors of an async probe', async () => {
    let calls = 0;
    const value = await waitFor(
      async () => {
        calls++;
        await Promise.resolve();
        if (calls < 4) throw new Error('not yet');
        return 'done';
      },
      { intervalMs: 1 },
    );
    expect(value).toBe('done');
  });

  it('fails after the deadline with the description and the last value', async () => {
    await expect(
      waitFor(() => false, { timeoutMs: 30, intervalMs: 5, description: 'the flag to flip' }),
    ).rejects.toThrow(
      /Timed out after 30 ms \(\d+ attempts\) waiting for the flag to flip; last value: false/,
    );
  });

  it('fails with the last error when the probe kept throwing', async () => {
    await expect(
      waitFor(
        () => {
          throw new Error('connection refused');
        },
        { timeoutMs: 20, intervalMs: 5, description: 'the server' },
      ),
    ).rejects.toThrow('waiting for the server; last error: connection refused');
  });
});

describe('uniqueName', () => {
  it('gives distinct names with the prefix', () => {
    const names = new Set(Array.from({ length: 100 }, () => uniqueName('runner-events')));
    expect(names.size).toBe(100);
    for (const name of names) expect(name).toMatch(/^runner-events-[0-9a-z]+-[0-9a-f]{6}$/);
    expect(uniqueName('db', '_')).toMatch(/^db_[0-9a-z]+_[0-9a-f]{6}$/);
  });
});

describe('requireAmqpUrl', () => {
  it('returns AMQP_URL or explains how to provide one', () => {
    expect(requireAmqpUrl({ AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672' })).toBe(
      'amqp://guest:guest@127.0.0.1:5672',
    );
    expect(() => requireAmqpUrl({})).toThrow(
      'AMQP_URL=amqp://guest:guest@127.0.0.1:5672 npm run test:amqp',
    );
  });
});
