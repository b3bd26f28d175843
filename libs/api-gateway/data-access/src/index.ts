export * from './api-key.record';
export * from './gateway-database';
