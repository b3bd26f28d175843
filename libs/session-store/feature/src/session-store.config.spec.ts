import { ConfigError, loadConfig } from '@stratavore/config';

import { blobStoreFromConfig, sessionStoreConfigSchema } from './session-store.config';

const load = (env: Record<string, string>) =>
  loadConfig(sessionStoreConfigSchema, env, { app: 'session-store' });

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError)
      return error.problems.map((p) => `${p.variable}: ${p.expected}`);
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('the blob store configuration', () => {
  it('keeps transcripts on the local filesystem by default', () => {
    expect(blobStoreFromConfig(load({}), '/data/blobs')).toEqual({ dir: '/data/blobs' });
    expect(blobStoreFromConfig(load({ BLOB_STORE_DIR: '/srv/t' }), '/data/blobs')).toEqual({
      dir: '/srv/t',
    });
    // S3 variables meant for something else do not switch the store.
    expect(blobStoreFromConfig(load({ S3_BUCKET: 'other-app' }), '/d')).toEqual({ dir: '/d' });
  });

  it('selects S3 with a bucket, path-style addressing for a custom endpoint, and explicit keys', () => {
    const env = load({
      BLOB_STORE: 's3',
      S3_BUCKET: 'stratavore-transcripts',
      S3_PREFIX: '/prod/stratavore',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_ACCESS_KEY_ID: 'AKIA',
      S3_SECRET_ACCESS_KEY: 'secret',
    });
    expect(blobStoreFromConfig(env, '/d')).toEqual({
      s3: {
        bucket: 'stratavore-transcripts',
        prefix: 'prod/stratavore/',
        region: 'us-east-1',
        endpoint: 'http://127.0.0.1:9000',
        forcePathStyle: true,
        credentials: { accessKeyId: 'AKIA', secretAccessKey: 'secret' },
      },
    });
  });

  it('leaves credentials to the SDK default chain and virtual-host addressing to AWS', () => {
    const env = load({
      BLOB_STORE: 's3',
      S3_BUCKET: 'transcripts.example.com',
      S3_REGION: 'eu-west-3',
    });
    expect(blobStoreFromConfig(env, '/d')).toEqual({
      s3: {
        bucket: 'transcripts.example.com',
        prefix: '',
        region: 'eu-west-3',
        forcePathStyle: false,
      },
    });
    expect(
      blobStoreFromConfig(
        load({
          BLOB_STORE: 's3',
          S3_BUCKET: 'b-1',
          S3_ENDPOINT: 'https://s3.example',
          S3_FORCE_PATH_STYLE: 'false',
        }),
        '/d',
      ),
    ).toMatchObject({ s3: { forcePathStyle: false } });
  });

  it('names each bad variable at load time', () => {
    expect(
      problemsOf(() =>
        load({
          BLOB_STORE: 'disk',
          S3_BUCKET: 'Bad_Bucket',
          S3_PREFIX: 'a/../b',
          S3_REGION: 'EU WEST',
          S3_ENDPOINT: 'ftp://x',
          S3_FORCE_PATH_STYLE: 'maybe',
        }),
      ),
    ).toEqual([
      'BLOB_STORE: expected filesystem or s3',
      'S3_BUCKET: expected an S3 bucket name (3 to 63 lowercase letters, digits, "." and "-")',
      'S3_PREFIX: expected a key prefix such as stratavore/ (segments of letters, digits, ".", "_", "-")',
      'S3_REGION: expected a region such as us-east-1 or eu-west-3',
      'S3_ENDPOINT: expected a URL with scheme http:// or https://',
      'S3_FORCE_PATH_STYLE: expected one of true, false, 1, 0, yes, no',
    ]);
  });

  it('names what is missing or does not fit together with BLOB_STORE=s3', () => {
    expect(problemsOf(() => blobStoreFromConfig(load({ BLOB_STORE: 's3' }), '/d'))).toEqual([
      'S3_BUCKET: the bucket transcripts go to (required with BLOB_STORE=s3)',
    ]);
    expect(
      problemsOf(() =>
        blobStoreFromConfig(
          load({
            BLOB_STORE: 's3',
            S3_BUCKET: 'b-1',
            S3_ACCESS_KEY_ID: 'AKIA',
            S3_SESSION_TOKEN: 't',
          }),
          '/d',
        ),
      ),
    ).toEqual([
      'S3_SECRET_ACCESS_KEY: S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY together, or neither (the SDK default chain)',
    ]);
    expect(
      problemsOf(() =>
        blobStoreFromConfig(
          load({ BLOB_STORE: 's3', S3_BUCKET: 'b-1', S3_SESSION_TOKEN: 't' }),
          '/d',
        ),
      ),
    ).toEqual(['S3_SESSION_TOKEN: only with S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY']);
  });
});
