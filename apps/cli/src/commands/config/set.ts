import { Args } from '@oclif/core';
import {
  cliSettingsSchema,
  readSettingsFile,
  settingsPath,
  writeSettingsFile,
} from '@stratavore/api-client';

import { StratavoreCommand } from '../../support/stratavore-command';

const KEYS = { 'api-url': 'apiUrl', 'api-key': 'apiKey' } as const;

export default class ConfigSet extends StratavoreCommand {
  static override description = 'Set one setting in the config file (written with mode 0600).';

  static override examples = [
    '<%= config.bin %> config set api-url http://127.0.0.1:7414',
    '<%= config.bin %> config set api-key sk-...',
  ];

  static override args = {
    key: Args.string({ description: 'setting', required: true, options: Object.keys(KEYS) }),
    value: Args.string({ description: 'new value', required: true }),
  };

  async run(): Promise<{ path: string; key: string }> {
    const { args } = await this.parse(ConfigSet);
    const field = KEYS[args.key as keyof typeof KEYS];
    const path = settingsPath();
    const current = await readSettingsFile(path).catch((error: Error) =>
      this.usageError(error.message),
    );
    const next = cliSettingsSchema.safeParse({ ...current, [field]: args.value });
    if (!next.success) {
      this.usageError(`${args.key}: ${next.error.issues[0]?.message ?? 'invalid value'}`);
    }
    await writeSettingsFile(path, next.data);
    this.log(`Saved ${args.key} to ${path}`);
    return { path, key: args.key };
  }
}
