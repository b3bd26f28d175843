export * from './api-client.errors';
export * from './cli-settings';
export * from './gateway-schemas';
export * from './json-request';
export * from './server-sent-events';
export * from './stratavore-api-client';
export * from './transcript-upload';
