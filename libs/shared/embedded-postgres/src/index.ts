export * from './data-dir';
export * from './databases';
export * from './embedded-postgres';
export * from './embedded-postgres.error';
export * from './postgres-binaries';
export * from './service-user';
