export * from './bus';
export * from './inbox';
export * from './outbox';
