/**
 * The `messaging` schema belongs to the messaging library, not to a service: every service
 * writes its outbox rows into `messaging.outbox` inside its own business transaction (one
 * database, one schema for the whole event pipeline), the relay drains that table, and every
 * consumer records what it processed in `messaging.inbox`. Run {@link messagingMigrations} with
 * a DataSource on schema `messaging` (see `createMessagingDataSource`) at boot of any process
 * that uses them; the migration lock makes concurrent boots safe.
 */
export const MESSAGING_SCHEMA = 'messaging';

/** The channel the outbox insert trigger notifies. */
export const OUTBOX_NOTIFY_CHANNEL = 'stratavore_outbox';
