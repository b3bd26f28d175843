import { duration } from '@stratavore/config';
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

/** session-store's own environment variables (docs/sessions.md). */
export const sessionStoreConfigSchema = z.object({
  /** `BLOB_STORE_DIR`: where transcripts are kept. Default `<data dir>/blobs`. */
  BLOB_STORE_DIR: z.string().min(1).optional(),
  /** `TRANSCRIPT_MAX_BYTES`: largest transcript upload. Default 50MiB. */
  TRANSCRIPT_MAX_BYTES: byteSize().default(50 * 1024 * 1024),
  /** `TRANSCRIPT_UPLOAD_GRACE`: how long after its runner ended an agent may upload. 1h. */
  TRANSCRIPT_UPLOAD_GRACE: duration().default(3_600_000),
});

export type SessionStoreConfig = z.output<typeof sessionStoreConfigSchema>;
