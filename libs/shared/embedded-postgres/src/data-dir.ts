import os from 'node:os';
import path from 'node:path';

/**
 * Where Stratavore keeps its data (the embedded PostgreSQL cluster lives in `<dir>/postgres`):
 * `$STRATAVORE_DATA_DIR`, else `$XDG_DATA_HOME/stratavore`, else `~/.local/share/stratavore`.
 * As root the home directory (`/root`, mode 0700) is not traversable by the `postgres` user
 * that runs the server, so the fallback is `/var/lib/stratavore` instead.
 */
export function defaultDataDir(
  env: Readonly<Record<string, string | undefined>> = process.env,
  system: { readonly uid: number; readonly home: string } = {
    uid: process.getuid?.() ?? -1,
    home: os.homedir(),
  },
): string {
  if (env.STRATAVORE_DATA_DIR) return path.resolve(env.STRATAVORE_DATA_DIR);
  if (system.uid === 0) return '/var/lib/stratavore';
  if (env.XDG_DATA_HOME) return path.join(path.resolve(env.XDG_DATA_HOME), 'stratavore');
  return path.join(system.home, '.local', 'share', 'stratavore');
}

/** The embedded PostgreSQL data directory under `defaultDataDir()`. */
export function defaultPostgresDataDir(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  return path.join(defaultDataDir(env), 'postgres');
}
