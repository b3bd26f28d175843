import { Flags } from '@oclif/core';
import { type UsageSummaryReply } from '@stratavore/contracts';

import {
  loadProjectNames,
  renderBudgetsTable,
  renderUsageDays,
  scopedProjectIds,
} from '../../support/budget-views';
import { StratavoreCommand } from '../../support/stratavore-command';

export default class BudgetsUsage extends StratavoreCommand {
  static override description =
    'Budget consumption: each budget in its current period, then the tokens and dollars booked per day and project, with totals.';

  static override examples = [
    '<%= config.bin %> budgets usage',
    '<%= config.bin %> budgets usage --project web-app --days 30 --tz Europe/Berlin',
    '<%= config.bin %> budgets usage --from 2026-11-01T00:00:00Z --to 2026-12-01T00:00:00Z --json',
  ];

  static override flags = {
    project: Flags.string({ description: 'only this project', helpValue: 'NAME' }),
    days: Flags.integer({ description: 'days back from now (default 7)', min: 1, max: 366 }),
    from: Flags.string({ description: 'start, an ISO 8601 date-time', helpValue: 'TIME' }),
    to: Flags.string({
      description: 'end, an ISO 8601 date-time (default now)',
      helpValue: 'TIME',
    }),
    tz: Flags.string({
      description: 'IANA time zone days are cut in (default UTC)',
      helpValue: 'ZONE',
    }),
  };

  async run(): Promise<UsageSummaryReply> {
    const { flags } = await this.parse(BudgetsUsage);
    const client = await this.client();
    const summary = await this.callApi('Fetching usage', () =>
      client.budgetUsage({
        project: flags.project,
        from: flags.from,
        to: flags.to,
        days: flags.days,
        timeZone: flags.tz,
      }),
    );
    // Names are for people; the JSON carries the project ids.
    if (this.jsonEnabled()) return summary;
    const names = await this.callApi('Fetching projects', () =>
      loadProjectNames(client, [
        ...scopedProjectIds(summary.budgets),
        ...summary.days.map((day) => day.projectId),
      ]),
    );
    this.log(
      summary.budgets.length === 0
        ? 'No budgets: spending is unlimited.'
        : renderBudgetsTable(summary.budgets, names, this.paint),
    );
    this.log('');
    this.log(`Usage from ${summary.from} to ${summary.to} (days in ${summary.timeZone}):`);
    this.log(renderUsageDays(summary.days, summary.totals, names, this.paint));
    return summary;
  }
}
