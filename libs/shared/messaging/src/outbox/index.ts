export * from './messaging-data-source';
export * from './messaging-schema';
export * from './migrations/1764000000000-messaging-outbox-inbox.migration';
export * from './outbox.entity';
export * from './outbox.ports';
export * from './outbox-listener';
export * from './outbox-writer';
export * from './postgres-outbox-store';
