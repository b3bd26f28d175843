/** Nest injection token of the TypeORM DataSource on the `messaging` schema (outbox, inbox). */
export const MESSAGING_DATA_SOURCE = Symbol('MESSAGING_DATA_SOURCE');

/** Nest injection token of the process's {@link MessageBus} (RabbitMQ, or in-process in the daemon). */
export const MESSAGE_BUS = Symbol('MESSAGE_BUS');
