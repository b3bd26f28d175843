import { Flags } from '@oclif/core';
import {
  API_KEY_SCOPE_NAMES,
  ApiKeysClient,
  type CreatedApiKeyReply,
} from '@stratavore/api-client';

import { StratavoreCommand } from '../../support/stratavore-command';

const MAX_NAME_LENGTH = 200;

export default class KeysCreate extends StratavoreCommand {
  static override description =
    'Create an API key and print it once: the gateway keeps only its hash, so it will not be shown again. Scopes nest: viewer reads, operator also runs things (launch, kill, projects, budgets), admin also manages API keys. Needs an admin key.';

  static override examples = [
    '<%= config.bin %> keys create --name ci --scope operator',
    '<%= config.bin %> keys create --name grafana --scope viewer --json',
  ];

  static override flags = {
    name: Flags.string({
      description: '(required) what the key is for, shown in `keys`',
      helpValue: 'NAME',
    }),
    scope: Flags.option({
      description: '(required) what the key may do',
      options: API_KEY_SCOPE_NAMES,
    })(),
  };

  async run(): Promise<CreatedApiKeyReply> {
    const { flags } = await this.parse(KeysCreate);
    if (flags.name === undefined) this.usageError('Missing --name: what the key is for');
    if (flags.scope === undefined) {
      this.usageError(`Missing --scope: one of ${API_KEY_SCOPE_NAMES.join(', ')}`);
    }
    const name = flags.name.trim();
    if (name === '') this.usageError('--name must not be empty');
    if (name.length > MAX_NAME_LENGTH) {
      this.usageError(`--name must be at most ${MAX_NAME_LENGTH} characters, got ${name.length}`);
    }
    const scope = flags.scope;
    const keys = new ApiKeysClient(await this.connection());
    const created = await this.callApi(`Creating the API key ${name}`, () =>
      keys.createKey({ name, scope }),
    );
    const { apiKey } = created;
    this.log(
      `Created the ${apiKey.scope} API key "${apiKey.name}" (id ${apiKey.id}, prefix ${apiKey.prefix}):`,
    );
    this.log('');
    this.log(`  ${this.paint('bold', created.key)}`);
    this.log('');
    this.log('Store it now: it will not be shown again.');
    return created;
  }
}
