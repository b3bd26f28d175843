export * from './bus';
export * from './inbox';
export * from './messaging.tokens';
export * from './outbox';
