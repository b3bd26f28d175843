export * from './blob/blob-store';
export * from './blob/local-filesystem-blob-store';
export * from './blob/s3-blob-store';
export {
  SessionDatabase,
  type SessionDatabaseOptions,
  sessionDataSource,
  type SessionFilter,
  sessionMigrations,
} from './session-database';
export * from './session-database.types';
export { SESSION_SCHEMA } from './session-schema';
