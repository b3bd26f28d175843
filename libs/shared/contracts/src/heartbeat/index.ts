export * from './heartbeat.schema';
