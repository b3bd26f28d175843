import 'reflect-metadata';

import { ApiGatewayModule, gatewayEnvSchema, gatewayOptionsFromEnv } from '@stratavore/api-gateway';
import { runService } from '@stratavore/service-runtime';

void runService({
  service: 'api-gateway',
  defaultHttpPort: 7411,
  config: gatewayEnvSchema.shape,
  imports: (config) => [
    ApiGatewayModule.forRoot(gatewayOptionsFromEnv(config.DATABASE_URL, config)),
  ],
});
