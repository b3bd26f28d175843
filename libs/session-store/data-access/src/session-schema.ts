/** The PostgreSQL schema session-store owns: sessions, their runs, transcripts, statistics. */
export const SESSION_SCHEMA = 'session';
