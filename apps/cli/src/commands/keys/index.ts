import { ApiKeysClient, type ApiKeyView } from '@stratavore/api-client';

import { formatAge } from '../../support/runner-views';
import { StratavoreCommand } from '../../support/stratavore-command';
import { renderTable } from '../../support/terminal-output';

export default class Keys extends StratavoreCommand {
  static override description =
    'List the API keys of the gateway, oldest first, revoked ones included: id, name, prefix (the 8 characters after sv_, which identify a key without revealing it), scope, when it was created, last used and revoked. Needs an admin key; keys themselves are never shown again after `keys create`.';

  static override examples = ['<%= config.bin %> keys', '<%= config.bin %> keys --json'];

  async run(): Promise<ApiKeyView[]> {
    await this.parse(Keys);
    const keys = new ApiKeysClient(await this.connection());
    const { keys: list } = await this.callApi('Fetching API keys', () => keys.listKeys());
    if (list.length === 0) {
      this.log('No API keys.');
      return list;
    }
    const paint = this.paint;
    const now = Date.now();
    const dimRevoked = (key: ApiKeyView, text: string) =>
      key.revokedAt === null ? text : paint('dim', text);
    this.log(
      renderTable<ApiKeyView>(
        [
          { header: 'ID', value: (k) => dimRevoked(k, k.id) },
          { header: 'NAME', value: (k) => dimRevoked(k, k.name), maxWidth: 32 },
          { header: 'PREFIX', value: (k) => k.prefix },
          { header: 'SCOPE', value: (k) => k.scope },
          { header: 'CREATED', value: (k) => formatAge(k.createdAt, now) },
          { header: 'LAST USED', value: (k) => formatAge(k.lastUsedAt, now) },
          {
            header: 'REVOKED',
            value: (k) => (k.revokedAt === null ? '-' : paint('red', formatAge(k.revokedAt, now))),
          },
        ],
        list,
        paint,
      ),
    );
    return list;
  }
}
