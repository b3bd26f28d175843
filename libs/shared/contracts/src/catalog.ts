import { budgetEvents } from './budget-events';
import { EventCatalog } from './event-contract';
import { runnerEvents } from './runner-events';

const allEvents = [...runnerEvents, ...budgetEvents] as const;

/** Every event contract Stratavore publishes. */
export type StratavoreEvent = (typeof allEvents)[number];

/** The catalog producers and consumers validate against. */
export const stratavoreEvents = new EventCatalog<StratavoreEvent>(allEvents);
