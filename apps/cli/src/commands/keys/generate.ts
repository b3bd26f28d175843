import { generateApiKey } from '@stratavore/api-client';

import { StratavoreCommand } from '../../support/stratavore-command';

export default class KeysGenerate extends StratavoreCommand {
  static override description =
    'Print a fresh random API key (sv_<prefix>_<secret>) without asking any server, e.g. for a standalone gateway\'s API_BOOTSTRAP_KEY: the gateway stores it as its admin key "bootstrap admin" when it starts with no key at all. Only the key goes to stdout.';

  static override examples = [
    '<%= config.bin %> keys generate',
    'kubectl create secret generic stratavore-bootstrap --from-literal=API_BOOTSTRAP_KEY="$(<%= config.bin %> keys generate)"',
    '<%= config.bin %> keys generate --json',
  ];

  async run(): Promise<{ key: string; prefix: string }> {
    await this.parse(KeysGenerate);
    const generated = generateApiKey();
    this.log(generated.key);
    return generated;
  }
}
