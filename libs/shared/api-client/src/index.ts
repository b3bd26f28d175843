export * from './api-client.errors';
export * from './json-request';
export * from './stratavore-api-client';
