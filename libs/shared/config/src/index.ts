export * from './common-config.schema';
export * from './config.error';
export * from './fields';
export * from './load-config';
