/** The PostgreSQL schema heartbeat-ingest owns: its runner registry and their liveness. */
export const HEARTBEAT_SCHEMA = 'heartbeat';
