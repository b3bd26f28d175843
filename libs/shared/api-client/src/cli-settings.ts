import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

import { z } from 'zod';

/** What `~/.config/stratavore/config.json` holds. */
export const cliSettingsSchema = z.object({
  apiUrl: z.url({ error: 'expected an http(s) URL' }).optional(),
  apiKey: z.string().min(1).optional(),
});

export type CliSettings = z.output<typeof cliSettingsSchema>;

/** Where a setting's value came from, for `stratavore config`. */
export type SettingSource = 'env' | 'file' | 'unset';

export interface ResolvedSettings {
  readonly path: string;
  readonly apiUrl: string | undefined;
  readonly apiKey: string | undefined;
  readonly sources: { readonly apiUrl: SettingSource; readonly apiKey: SettingSource };
}

type Env = Readonly<Record<string, string | undefined>>;

/** `STRATAVORE_CONFIG`, else `$XDG_CONFIG_HOME/stratavore/config.json`, else `~/.config/...`. */
export function settingsPath(env: Env = process.env): string {
  if (env.STRATAVORE_CONFIG) return env.STRATAVORE_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'stratavore', 'config.json');
}

/** Reads the file (absent file: empty settings). */
export async function readSettingsFile(path: string): Promise<CliSettings> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${path} is not valid JSON; fix or delete it`);
  }
  const parsed = cliSettingsSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${path}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** Writes the file readable by its owner only (it holds the API key). */
export async function writeSettingsFile(path: string, settings: CliSettings): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  // `mode` only applies when the file is created; tighten an existing file too.
  await chmod(path, 0o600);
}

/** The file, overridden by `STRATAVORE_API_URL` / `STRATAVORE_API_KEY`. */
export async function resolveSettings(env: Env = process.env): Promise<ResolvedSettings> {
  const path = settingsPath(env);
  const file = await readSettingsFile(path);
  const pick = (envValue: string | undefined, fileValue: string | undefined) =>
    envValue
      ? { value: envValue, source: 'env' as const }
      : fileValue
        ? { value: fileValue, source: 'file' as const }
        : { value: undefined, source: 'unset' as const };
  const apiUrl = pick(env.STRATAVORE_API_URL, file.apiUrl);
  const apiKey = pick(env.STRATAVORE_API_KEY, file.apiKey);
  return {
    path,
    apiUrl: apiUrl.value,
    apiKey: apiKey.value,
    sources: { apiUrl: apiUrl.source, apiKey: apiKey.source },
  };
}

/** Shows the first and last characters only: `sk-a…f00d`. */
export function maskKey(key: string): string {
  if (key.length <= 8) return '*'.repeat(key.length);
  return `${key.slice(0, 4)}…${key.slice(-4)}`;
}
