export * from './heartbeat-ingest-events';
