import { Command, type Interfaces, ux } from '@oclif/core';
import {
  ApiError,
  NetworkError,
  StratavoreApiClient,
  type StratavoreApiClientOptions,
} from '@stratavore/api-client';
import { type ResolvedSettings, resolveSettings } from '@stratavore/api-client';

import { describeApiError, ExitCode, exitCodeFor } from './exit-codes';
import { colourEnabled, type Paint, painter } from './terminal-output';

/**
 * Base of every command: `--json`, the API client from the settings, the spinner, colours, and
 * the mapping of API errors to exit codes (1 API, 2 usage, 3 not found, 4 refused).
 */
export abstract class StratavoreCommand extends Command {
  static override enableJsonFlag = true;

  /** Colours for stdout: only on a terminal, never with `NO_COLOR`. */
  protected get paint(): Paint {
    return painter(!this.jsonEnabled() && colourEnabled(process.stdout));
  }

  /** A person is watching: spinner and redraws make sense. */
  protected get interactive(): boolean {
    return !this.jsonEnabled() && process.stdout.isTTY === true && process.stderr.isTTY === true;
  }

  protected async settings(): Promise<ResolvedSettings> {
    try {
      return await resolveSettings();
    } catch (error) {
      return this.error((error as Error).message, { exit: ExitCode.Usage });
    }
  }

  /** The client for the configured API; a usage error when no URL or key is known. */
  protected async client(
    overrides: { apiUrl?: string; apiKey?: string } = {},
  ): Promise<StratavoreApiClient> {
    return new StratavoreApiClient(await this.connection(overrides));
  }

  /** The configured API URL and key; a usage error when either is unknown. */
  protected async connection(
    overrides: { apiUrl?: string; apiKey?: string } = {},
  ): Promise<StratavoreApiClientOptions> {
    const settings = await this.settings();
    const apiUrl = overrides.apiUrl ?? settings.apiUrl;
    const apiKey = overrides.apiKey ?? settings.apiKey;
    if (!apiUrl) {
      this.error('No API URL configured', {
        exit: ExitCode.Usage,
        suggestions: ['stratavore login --api-url URL --api-key KEY', 'or set STRATAVORE_API_URL'],
      });
    }
    if (!apiKey) {
      this.error('No API key configured', {
        exit: ExitCode.Usage,
        suggestions: ['stratavore login --api-key KEY', 'or set STRATAVORE_API_KEY'],
      });
    }
    return { baseUrl: apiUrl, token: apiKey };
  }

  /** Runs `call` under a spinner (interactive only); API errors become CLI errors. */
  protected async callApi<T>(message: string, call: () => Promise<T>): Promise<T> {
    const spin = this.interactive;
    if (spin) ux.action.start(message);
    try {
      const result = await call();
      if (spin) ux.action.stop();
      return result;
    } catch (error) {
      if (spin) ux.action.stop('failed');
      if (error instanceof ApiError || error instanceof NetworkError) {
        this.error(describeApiError(error), {
          exit: exitCodeFor(error),
          code: error instanceof ApiError ? error.code : error.failure,
        });
      }
      throw error;
    }
  }

  /** A usage error naming the flag or argument at fault; exits 2. */
  protected usageError(message: string): never {
    this.error(message, { exit: ExitCode.Usage });
  }

  /** With `--json` oclif prints the error instead of throwing; keep our exit code anyway. */
  protected override async catch(error: Interfaces.CommandError): Promise<unknown> {
    const exit = (error as { oclif?: { exit?: number } }).oclif?.exit;
    if (exit !== undefined) error.exitCode = exit;
    return super.catch(error);
  }
}
