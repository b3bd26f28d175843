import { Flags } from '@oclif/core';
import {
  cliSettingsSchema,
  maskKey,
  readSettingsFile,
  writeSettingsFile,
} from '@stratavore/api-client';

import { StratavoreCommand } from '../support/stratavore-command';

export default class Login extends StratavoreCommand {
  static override description =
    'Check an API key against the server (GET /api/v1/status), then save URL and key (mode 0600).';

  static override examples = [
    '<%= config.bin %> login --api-url http://127.0.0.1:7414 --api-key sk-...',
    'STRATAVORE_API_KEY=sk-... <%= config.bin %> login',
  ];

  static override flags = {
    'api-url': Flags.string({ description: 'base URL of the gateway or daemon', helpValue: 'URL' }),
    'api-key': Flags.string({
      description: 'API key (default: STRATAVORE_API_KEY)',
      helpValue: 'KEY',
    }),
  };

  async run(): Promise<{ path: string; apiUrl: string; apiKey: string }> {
    const { flags } = await this.parse(Login);
    const settings = await this.settings();
    const apiUrl = flags['api-url'] ?? settings.apiUrl;
    const apiKey = flags['api-key'] ?? settings.apiKey;
    if (!apiUrl) this.usageError('Missing --api-url (no API URL configured yet)');
    if (!apiKey) this.usageError('Missing --api-key (or set STRATAVORE_API_KEY)');
    const parsed = cliSettingsSchema.safeParse({ apiUrl, apiKey });
    if (!parsed.success) {
      this.usageError(`--api-url: ${parsed.error.issues[0]?.message ?? 'invalid URL'}`);
    }

    const client = await this.client({ apiUrl, apiKey });
    await this.callApi(`Checking the key against ${apiUrl}`, () => client.getStatus());

    const current = await readSettingsFile(settings.path).catch(() => ({}));
    await writeSettingsFile(settings.path, { ...current, ...parsed.data });
    this.log(`Logged in to ${apiUrl}; saved to ${settings.path}`);
    return { path: settings.path, apiUrl, apiKey: maskKey(apiKey) };
  }
}
