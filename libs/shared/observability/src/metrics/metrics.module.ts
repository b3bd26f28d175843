import { type DynamicModule, Module } from '@nestjs/common';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { register } from 'prom-client';

import { ensureDefaultMetrics } from './metric-registry';

export interface MetricsModuleOptions {
  /** Becomes the `service` label on every metric of this process. */
  readonly service: string;
  /** Where the scrape endpoint lives. Default `/metrics`. */
  readonly path?: string;
}

/**
 * Exposes `GET /metrics` (Prometheus text format) with the process default metrics and a
 * default label `service`. Safe to import in several apps of one process: default metrics are
 * registered once, and all apps serve the one global registry. The `service` label is
 * process-wide too, so in a process hosting several services (the single-node daemon) the last
 * `forRoot` wins; give that process one name.
 */
@Module({})
export class MetricsModule {
  static forRoot(options: MetricsModuleOptions): DynamicModule {
    ensureDefaultMetrics();
    register.setDefaultLabels({ service: options.service });
    return {
      module: MetricsModule,
      imports: [
        PrometheusModule.register({
          path: options.path ?? '/metrics',
          // prom-client's collectDefaultMetrics throws when called twice on one registry.
          defaultMetrics: { enabled: false },
        }),
      ],
    };
  }
}
