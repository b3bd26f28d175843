export * from './health/health.module';
export * from './health/readiness-check';
export * from './http/http-correlation';
export * from './logging/pino-nest-logger';
export * from './metrics/metric-registry';
export * from './metrics/metrics.module';
// The logger and the correlation context live in the light @stratavore/logging (the agent loads
// it without NestJS); re-exported so that services keep importing them from here.
export * from '@stratavore/logging';
