import { bool, ConfigError, type ConfigProblem, duration, url } from '@stratavore/config';
import { type S3BlobStoreOptions } from '@stratavore/session-store-data-access';
import { z } from 'zod';

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
};

/** A size in bytes: `52428800`, `50MiB`, `512KiB`, `1GB`. */
export function byteSize() {
  return z.union([z.string(), z.number()]).transform((value, ctx) => {
    const match = /^(\d+)\s*([a-z]*)$/i.exec(String(value).trim());
    const unit = SIZE_UNITS[(match?.[2] ?? '').toLowerCase()];
    if (!match || unit === undefined || Number(match[1]) <= 0) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected a size such as 52428800, 512KiB, 50MiB or 1GiB',
      });
      return z.NEVER;
    }
    return Number(match[1]) * unit;
  });
}

/** S3's bucket naming rules (3 to 63 lowercase letters, digits, dots and hyphens). */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,254}$/;

/** A key prefix: `a/b` or `a/b/` (segments of letters, digits, `.`, `_`, `-`), kept as `a/b/`. */
function keyPrefix() {
  return z.string().transform((value, ctx) => {
    const trimmed = value.trim().replace(/^\/+|\/+$/g, '');
    if (trimmed === '') return '';
    if (!trimmed.split('/').every((segment) => PREFIX_SEGMENT.test(segment))) {
      ctx.addIssue({
        code: 'custom',
        message:
          'expected a key prefix such as stratavore/ (segments of letters, digits, ".", "_", "-")',
      });
      return z.NEVER;
    }
    return `${trimmed}/`;
  });
}

/** session-store's own environment variables (docs/sessions.md). */
export const sessionStoreConfigSchema = z.object({
  /** `BLOB_STORE`: `filesystem` (default) or `s3`. */
  BLOB_STORE: z
    .enum(['filesystem', 's3'], { error: 'expected filesystem or s3' })
    .default('filesystem'),
  /** `BLOB_STORE_DIR`: where transcripts are kept with `BLOB_STORE=filesystem`. Default `<data dir>/blobs`. */
  BLOB_STORE_DIR: z.string().min(1).optional(),
  /** `S3_BUCKET`: the bucket, required with `BLOB_STORE=s3`. */
  S3_BUCKET: z
    .string()
    .regex(BUCKET_NAME, {
      error: 'expected an S3 bucket name (3 to 63 lowercase letters, digits, "." and "-")',
    })
    .optional(),
  /** `S3_PREFIX`: prepended to every key (`stratavore/`). Default none. */
  S3_PREFIX: keyPrefix().default(''),
  /** `S3_REGION`: the region requests are signed for. Default `us-east-1`. */
  S3_REGION: z
    .string()
    .regex(/^[a-z0-9-]{2,64}$/, { error: 'expected a region such as us-east-1 or eu-west-3' })
    .default('us-east-1'),
  /** `S3_ENDPOINT`: an S3-compatible service's URL (MinIO, Ceph, R2, ...). Default AWS. */
  S3_ENDPOINT: url(['http', 'https']).optional(),
  /** `S3_FORCE_PATH_STYLE`: `host/bucket/key` addressing. Default true with `S3_ENDPOINT`. */
  S3_FORCE_PATH_STYLE: bool().optional(),
  /** `S3_ACCESS_KEY_ID` + `S3_SECRET_ACCESS_KEY`: explicit keys; else the SDK's default chain. */
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** `S3_SESSION_TOKEN`: with temporary explicit keys. */
  S3_SESSION_TOKEN: z.string().min(1).optional(),
  /** `TRANSCRIPT_MAX_BYTES`: largest transcript upload. Default 50MiB. */
  TRANSCRIPT_MAX_BYTES: byteSize().default(50 * 1024 * 1024),
  /** `TRANSCRIPT_UPLOAD_GRACE`: how long after its runner ended an agent may upload. 1h. */
  TRANSCRIPT_UPLOAD_GRACE: duration().default(3_600_000),
});

export type SessionStoreConfig = z.output<typeof sessionStoreConfigSchema>;

/** Where transcripts go: a directory, or an S3 bucket. */
export type BlobStoreSelection = { readonly dir: string } | { readonly s3: S3BlobStoreOptions };

/**
 * The blob store the environment selects, with the rules that span several variables (the
 * schema checks each one alone; the daemon and the app spread its shape into theirs).
 *
 * @throws ConfigError naming every variable that is missing or does not fit with the others.
 */
export function blobStoreFromConfig(
  env: SessionStoreConfig,
  defaultDir: string,
  app = 'session-store',
): BlobStoreSelection {
  if (env.BLOB_STORE === 'filesystem') return { dir: env.BLOB_STORE_DIR ?? defaultDir };
  const problems: ConfigProblem[] = [];
  if (env.S3_BUCKET === undefined) {
    problems.push({
      variable: 'S3_BUCKET',
      expected: 'the bucket transcripts go to (required with BLOB_STORE=s3)',
      given: '(not set)',
    });
  }
  if ((env.S3_ACCESS_KEY_ID === undefined) !== (env.S3_SECRET_ACCESS_KEY === undefined)) {
    const missing =
      env.S3_ACCESS_KEY_ID === undefined ? 'S3_ACCESS_KEY_ID' : 'S3_SECRET_ACCESS_KEY';
    problems.push({
      variable: missing,
      expected:
        'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY together, or neither (the SDK default chain)',
      given: '(not set)',
    });
  }
  if (env.S3_SESSION_TOKEN !== undefined && env.S3_ACCESS_KEY_ID === undefined) {
    problems.push({
      variable: 'S3_SESSION_TOKEN',
      expected: 'only with S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY',
      given: '(hidden)',
    });
  }
  if (problems.length > 0 || env.S3_BUCKET === undefined) throw new ConfigError(app, problems);
  return {
    s3: {
      bucket: env.S3_BUCKET,
      prefix: env.S3_PREFIX,
      region: env.S3_REGION,
      forcePathStyle: env.S3_FORCE_PATH_STYLE ?? env.S3_ENDPOINT !== undefined,
      ...(env.S3_ENDPOINT === undefined ? {} : { endpoint: env.S3_ENDPOINT }),
      ...(env.S3_ACCESS_KEY_ID === undefined || env.S3_SECRET_ACCESS_KEY === undefined
        ? {}
        : {
            credentials: {
              accessKeyId: env.S3_ACCESS_KEY_ID,
              secretAccessKey: env.S3_SECRET_ACCESS_KEY,
              ...(env.S3_SESSION_TOKEN === undefined ? {} : { sessionToken: env.S3_SESSION_TOKEN }),
            },
          }),
    },
  };
}
