import { Logger } from '@nestjs/common';
import { type Budget, type UsageEntry, usdToMicros } from '@stratavore/budget-service-domain';
import { type EventDataOf, type EventEnvelope, type usageReportedV1 } from '@stratavore/contracts';
import { type DeliveredEvent, type HandlerResult } from '@stratavore/messaging';

import { BudgetBook } from './budget-book';
import { BUDGET_SERVICE_NAME, type BudgetServiceDeps } from './budget-service.deps';

/** The consumer (queue and inbox) name of budget-service. */
export const BUDGET_SERVICE_CONSUMER = BUDGET_SERVICE_NAME;

/** What budget-service hears: usage to book, and runners that ended (their reservations go). */
export const BUDGET_EVENT_PATTERNS = [
  'usage.reported',
  'runner.completed',
  'runner.failed',
  'runner.stopped',
] as const;

/** The `usage.reported` event as a ledger entry. */
export function usageEntryOf(envelope: EventEnvelope, bookedAt: Date): UsageEntry {
  const data = envelope.data as EventDataOf<typeof usageReportedV1>;
  return {
    eventId: envelope.id,
    runnerId: data.runnerId,
    projectId: data.projectId,
    sessionId: data.sessionId ?? null,
    model: data.model ?? null,
    usage: {
      input: data.inputTokens,
      output: data.outputTokens,
      cacheCreation: data.cacheCreationTokens,
      cacheRead: data.cacheReadTokens,
      usdMicros: data.costUsd === undefined ? 0 : usdToMicros(data.costUsd),
    },
    hasCost: data.costUsd !== undefined,
    observedAt: new Date(data.observedAt),
    bookedAt,
  };
}

/**
 * Books `usage.reported` (ledger, covering budgets, the runner's reservations, thresholds) and
 * releases the reservations of runners that ended, each once per event: the inbox row and the
 * change commit together, and the ledger is keyed by the event id besides.
 */
export class BudgetEventsConsumer {
  private readonly book: BudgetBook;
  private readonly logger = new Logger('BudgetEventsConsumer');

  constructor(private readonly deps: BudgetServiceDeps) {
    this.book = new BudgetBook(deps);
  }

  readonly handle = async ({ envelope }: DeliveredEvent): Promise<HandlerResult> => {
    switch (envelope.type) {
      case 'usage.reported':
        if (envelope.dataversion !== 1) return 'dead-letter';
        await this.bookUsage(envelope);
        return 'ack';
      case 'runner.completed':
      case 'runner.failed':
      case 'runner.stopped':
        await this.releaseRunner(envelope);
        return 'ack';
      default:
        this.logger.debug(`${envelope.type} is not for budget-service`);
        return 'ack';
    }
  };

  /** Books one usage event once: the budgets it was booked into, `null` when already booked. */
  async bookUsage(envelope: EventEnvelope): Promise<readonly Budget[] | null> {
    const entry = usageEntryOf(envelope, this.deps.clock.now());
    const ctx = { correlationId: envelope.correlationId };
    const booked = await this.deps.store.transaction(async (tx) => {
      if (!(await tx.claimInbox(BUDGET_SERVICE_CONSUMER, envelope.id))) return null;
      return this.book.bookUsage(tx, entry, ctx);
    });
    this.deps.metrics.usageEvents.inc({ outcome: booked === null ? 'duplicate' : 'booked' });
    return booked;
  }

  private async releaseRunner(envelope: EventEnvelope): Promise<void> {
    const runnerId = (envelope.data as { runnerId: string }).runnerId;
    const now = this.deps.clock.now();
    const released = await this.deps.store.transaction(async (tx) => {
      if (!(await tx.claimInbox(BUDGET_SERVICE_CONSUMER, envelope.id))) return [];
      return tx.releaseReservations({ runnerId }, now, 'runner_ended');
    });
    if (released.length > 0) {
      this.deps.metrics.reservationsReleased.inc({ reason: 'runner_ended' }, released.length);
    }
  }
}
