import { budgetEvents } from './budget-events';
import { EventCatalog } from './event-contract';
import { heartbeatIngestEvents } from './heartbeat-ingest';
import { runnerEvents } from './runner-events';
import { sessionStoreEvents } from './session-store/session-events';

const allEvents = [
  ...runnerEvents,
  ...budgetEvents,
  ...heartbeatIngestEvents,
  ...sessionStoreEvents,
] as const;

/** Every event contract Stratavore publishes. */
export type StratavoreEvent = (typeof allEvents)[number];

/** The catalog producers and consumers validate against. */
export const stratavoreEvents = new EventCatalog<StratavoreEvent>(allEvents);
