import {
  type CliSettings,
  readSettingsFile,
  settingsPath,
  writeSettingsFile,
} from '@stratavore/api-client';
import { ApiKeyService } from '@stratavore/api-gateway';
import { type Logger } from '@stratavore/observability';
import { type RunningService } from '@stratavore/service-runtime';

function isLoopback(apiUrl: string | undefined): boolean {
  if (apiUrl === undefined) return true;
  try {
    return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(apiUrl).hostname);
  } catch {
    return false;
  }
}

/**
 * Makes the CLI work at once against this daemon. On the first start the gateway creates an
 * admin API key, which goes into the CLI's config file (mode 0600) with the API URL. On later
 * starts the URL is refreshed when the file points at this machine (the port may differ), and a
 * CLI configured for a remote gateway is left alone.
 */
export async function connectCli(service: RunningService, logger: Logger): Promise<void> {
  const path = settingsPath();
  const created = await service.app.get(ApiKeyService).ensureBootstrapAdminKey();
  const current = await readSettingsFile(path);
  let next: CliSettings | null = null;
  if (created) {
    next = { apiUrl: service.url, apiKey: created.key };
  } else if (current.apiKey !== undefined && isLoopback(current.apiUrl)) {
    if (current.apiUrl !== service.url) next = { ...current, apiUrl: service.url };
  }
  if (next) {
    await writeSettingsFile(path, next);
    logger.info(
      { path, createdAdminKey: created !== null },
      created ? `admin API key written to ${path}` : `CLI pointed at ${service.url}`,
    );
  }
}
