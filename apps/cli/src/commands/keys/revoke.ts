import { Args } from '@oclif/core';
import { ApiKeysClient, type ApiKeyView } from '@stratavore/api-client';

import { StratavoreCommand } from '../../support/stratavore-command';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export default class KeysRevoke extends StratavoreCommand {
  static override description =
    'Revoke an API key by its id (see `stratavore keys`): requests with it are refused from then on (by other gateway replicas within API_KEY_CACHE_TTL). Revoking a revoked key changes nothing; exit 3 when no key has the id. Needs an admin key.';

  static override examples = [
    '<%= config.bin %> keys revoke 0b6c7a44-5d7e-4a54-9a3f-1f0c3a3e2b10',
    '<%= config.bin %> keys revoke 0b6c7a44-5d7e-4a54-9a3f-1f0c3a3e2b10 --json',
  ];

  static override args = {
    id: Args.string({ description: 'the key id (not the key itself)', required: true }),
  };

  async run(): Promise<ApiKeyView> {
    const { args } = await this.parse(KeysRevoke);
    const id = args.id.trim();
    if (!UUID.test(id)) {
      this.usageError(`ID must be an API key id (a uuid, see \`stratavore keys\`), got "${id}"`);
    }
    const connection = await this.connection();
    const keys = new ApiKeysClient(connection);
    const { apiKey } = await this.callApi(`Revoking the API key ${id}`, () => keys.revokeKey(id));
    this.log(
      `Revoked the ${apiKey.scope} API key "${apiKey.name}" (prefix ${apiKey.prefix}) at ${apiKey.revokedAt ?? '?'}.`,
    );
    if (connection.token.startsWith(`sv_${apiKey.prefix}_`)) {
      this.warn('that is the key this CLI uses: log in with another one (stratavore login)');
    }
    return apiKey;
  }
}
