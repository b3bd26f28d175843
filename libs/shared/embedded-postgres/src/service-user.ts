import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { EmbeddedPostgresError, EmbeddedPostgresErrorCode } from './embedded-postgres.error';

const run = promisify(execFile);

/** The system account PostgreSQL runs as when Node runs as root (PostgreSQL refuses root). */
export interface ServiceUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

async function lookup(name: string): Promise<ServiceUser | undefined> {
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
    return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    return undefined;
  }
}

/**
 * Returns the `postgres` system user, creating it with `useradd --system` when it does not
 * exist. Only called when running as root, the one case where creating it is both needed
 * and possible.
 */
export async function ensureServiceUser(name = 'postgres'): Promise<ServiceUser> {
  const existing = await lookup(name);
  if (existing) return existing;
  try {
    await run('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      name,
    ]);
  } catch (error) {
    throw new EmbeddedPostgresError(
      EmbeddedPostgresErrorCode.ServiceUserUnavailable,
      `PostgreSQL cannot run as root and the system user "${name}" does not exist; useradd failed: ${String(error)}`,
    );
  }
  const created = await lookup(name);
  if (!created) {
    throw new EmbeddedPostgresError(
      EmbeddedPostgresErrorCode.ServiceUserUnavailable,
      `useradd reported success but user "${name}" cannot be found`,
    );
  }
  return created;
}
