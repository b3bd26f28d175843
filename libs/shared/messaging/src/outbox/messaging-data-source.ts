import { createDataSource } from '@stratavore/persistence';
import { type DataSource } from 'typeorm';

import { InboxEntity } from '../inbox/inbox.entity';
import { MESSAGING_SCHEMA } from './messaging-schema';
import { MessagingOutboxInbox1764000000000 } from './migrations/1764000000000-messaging-outbox-inbox.migration';
import { MessagingOutboxLeaseOwner1764750000000 } from './migrations/1764750000000-messaging-outbox-lease-owner.migration';
import { OutboxEntity } from './outbox.entity';

/** Entities of the `messaging` schema. */
export const messagingEntities = [OutboxEntity, InboxEntity];

/** Migrations of the `messaging` schema, oldest first. */
export const messagingMigrations = [
  MessagingOutboxInbox1764000000000,
  MessagingOutboxLeaseOwner1764750000000,
];

export interface MessagingDataSourceOptions {
  readonly url: string;
  readonly poolSize?: number;
  readonly applicationName?: string;
}

/**
 * A DataSource on the `messaging` schema with its entities and migrations; pass it to
 * `runMigrations` from `@stratavore/persistence` at boot.
 */
export function createMessagingDataSource(options: MessagingDataSourceOptions): DataSource {
  return createDataSource({
    url: options.url,
    schema: MESSAGING_SCHEMA,
    entities: messagingEntities,
    migrations: messagingMigrations,
    poolSize: options.poolSize,
    applicationName: options.applicationName,
  });
}
