export { HEARTBEAT_SCHEMA } from './heartbeat-schema';
export {
  heartbeatDataSource,
  heartbeatMigrations,
  HeartbeatStore,
  type HeartbeatStoreOptions,
  type StoredLiveness,
} from './heartbeat-store';
export * from './heartbeat-store.types';
