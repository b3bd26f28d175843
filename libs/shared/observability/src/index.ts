export * from './health/health.module';
export * from './health/readiness-check';
export * from './http/http-correlation';
export * from './logging/correlation';
export * from './logging/logger';
export * from './logging/pino-nest-logger';
export * from './metrics/metric-registry';
export * from './metrics/metrics.module';
