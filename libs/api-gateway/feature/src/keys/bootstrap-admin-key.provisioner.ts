import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';

import { ApiKeyService, BOOTSTRAP_KEY_NAME } from './api-key.service';

/**
 * `API_BOOTSTRAP_KEY`: while the application starts (before it listens), stores the configured
 * key as the admin key `bootstrap admin` when the gateway's schema holds no key at all, and
 * ignores it otherwise. Logs which, never the key.
 */
@Injectable()
export class BootstrapAdminKeyProvisioner implements OnApplicationBootstrap {
  private readonly logger = new Logger('ApiGateway');

  constructor(@Inject(ApiKeyService) private readonly keys: ApiKeyService) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.keys.hasConfiguredBootstrapKey) return;
    const stored = await this.keys.ensureBootstrapAdminKey();
    if (stored) {
      this.logger.log(
        `API_BOOTSTRAP_KEY stored as the admin key "${BOOTSTRAP_KEY_NAME}" (id ${stored.apiKey.id})`,
      );
    } else {
      this.logger.log('API_BOOTSTRAP_KEY ignored: the gateway already has API keys');
    }
  }
}
