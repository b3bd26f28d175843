import 'reflect-metadata';

import { ApiGatewayModule, gatewayEnvSchema, gatewayOptionsFromEnv } from '@stratavore/api-gateway';
import { loadConfig } from '@stratavore/config';
import { runService } from '@stratavore/service-runtime';

void runService({
  service: 'api-gateway',
  defaultHttpPort: 7411,
  imports: (config) => [
    ApiGatewayModule.forRoot(
      gatewayOptionsFromEnv(
        config.DATABASE_URL,
        loadConfig(gatewayEnvSchema, process.env, { app: 'api-gateway' }),
      ),
    ),
  ],
});
