import { BudgetErrorCode } from '@stratavore/budget-service-domain';
import { createTestDatabase, type TestDatabase } from '@stratavore/testing';

import { BudgetServiceRequestHandler } from './budget-service.handler';
import {
  type BudgetHarness,
  migrateMessaging,
  openHarness,
  setRequest,
} from './budget-service.int-test-support';

/**
 * The handler's listener is how the module wakes the period roller: a set budget may end its
 * open period sooner than the roller planned to look. Nothing else tells it anything.
 */
describe('BudgetServiceRequestHandler listener', () => {
  let db: TestDatabase;
  let h: BudgetHarness;
  const meta = { correlationId: 'test' };

  beforeAll(async () => {
    db = await createTestDatabase('budget_handler');
    await migrateMessaging(db.url);
    h = await openHarness(db.url, '2026-11-24T12:00:00.000Z');
  });

  afterAll(async () => {
    await h?.close();
    await db?.drop();
  });

  it('hears of each budget set once it is committed, not of reads or removals', async () => {
    const changed = jest.fn();
    const handler = new BudgetServiceRequestHandler(h.deps, { changed });
    const scope = { kind: 'global' as const };

    await handler.handle('budgets.set', setRequest({ scope, limitTokens: 1000 }), meta);
    expect(changed).toHaveBeenCalledTimes(1);
    await handler.handle('budgets.set', setRequest({ scope, period: 'weekly' }), meta);
    expect(changed).toHaveBeenCalledTimes(2);

    await handler.handle('budgets.list', {}, meta);
    await handler.handle('budgets.get', { scope }, meta);
    await handler.handle('budgets.remove', { scope }, meta);
    expect(changed).toHaveBeenCalledTimes(2);
  });

  it('does not hear of a set that fails', async () => {
    const changed = jest.fn();
    const handler = new BudgetServiceRequestHandler(h.deps, { changed });
    await expect(
      handler.handle('budgets.set', { scope: { kind: 'global' }, period: 'daily' }, meta),
    ).rejects.toMatchObject({ code: BudgetErrorCode.ValidationFailed });
    expect(changed).not.toHaveBeenCalled();
  });
});
