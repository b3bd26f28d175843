import { maskKey } from '@stratavore/api-client';

import { StratavoreCommand } from '../../support/stratavore-command';

interface ConfigJson {
  path: string;
  apiUrl: string | null;
  apiKey: string | null;
  sources: { apiUrl: string; apiKey: string };
}

export default class ConfigShow extends StratavoreCommand {
  static override description =
    'Show the CLI settings (the API key masked) and where each comes from.';

  static override examples = [
    '<%= config.bin %> config',
    '<%= config.bin %> config set api-url http://127.0.0.1:7414',
  ];

  async run(): Promise<ConfigJson> {
    await this.parse(ConfigShow);
    const settings = await this.settings();
    const shown: ConfigJson = {
      path: settings.path,
      apiUrl: settings.apiUrl ?? null,
      apiKey: settings.apiKey === undefined ? null : maskKey(settings.apiKey),
      sources: settings.sources,
    };
    const source = (s: string) => this.paint('dim', `(${s})`);
    this.log(`${this.paint('bold', 'File')}     ${shown.path}`);
    this.log(
      `${this.paint('bold', 'API URL')}  ${shown.apiUrl ?? '-'} ${source(shown.sources.apiUrl)}`,
    );
    this.log(
      `${this.paint('bold', 'API key')}  ${shown.apiKey ?? '-'} ${source(shown.sources.apiKey)}`,
    );
    return shown;
  }
}
