export * from './outbox-relay';
export * from './outbox-relay.metrics';
export * from './outbox-relay.module';
export * from './outbox-relay.options';
export * from './outbox-relay.runtime';
