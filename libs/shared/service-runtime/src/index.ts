export * from './bootstrap-service';
export * from './run-service';
export * from './runtime.tokens';
export * from './service-config';
export * from './service-runtime.module';
