export * from './heartbeat-ingest-events';
export * from './liveness';
