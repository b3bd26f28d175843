import { Flags } from '@oclif/core';
import { usageGroupings, type UsageView } from '@stratavore/contracts';

import { loadProjectNames, renderBudgetSection, scopedProjectIds } from '../support/budget-views';
import { renderUsageTable } from '../support/session-views';
import { StratavoreCommand } from '../support/stratavore-command';
import { parseSince, utcDay } from '../support/time-flags';

export default class Usage extends StratavoreCommand {
  static override description =
    'Tokens by kind and cost per project, model or day (UTC days, both ends included).';

  static override examples = [
    '<%= config.bin %> usage',
    '<%= config.bin %> usage --by model --since 7d',
    '<%= config.bin %> usage --by day --project web-app --since 2026-03-01 --until 2026-03-31 --json',
  ];

  static override flags = {
    by: Flags.string({
      description: 'group by',
      options: [...usageGroupings],
      default: 'project',
    }),
    since: Flags.string({
      description: 'first day: 7d, 2w, 2026-03-01 (default: the last 30 days)',
      helpValue: 'WHEN',
    }),
    until: Flags.string({ description: 'last day (default today)', helpValue: 'WHEN' }),
    project: Flags.string({ description: 'only this project', helpValue: 'PROJECT' }),
  };

  async run(): Promise<UsageView> {
    const { flags } = await this.parse(Usage);
    const now = new Date();
    const day = (flag: 'since' | 'until', value: string | undefined) => {
      if (value === undefined) return undefined;
      try {
        return utcDay(parseSince(value, now));
      } catch (error) {
        return this.usageError(`--${flag}: ${(error as Error).message}`);
      }
    };
    const by = usageGroupings.find((grouping) => grouping === flags.by) ?? 'project';
    const client = await this.client();
    const usage = await this.callApi('Fetching usage', () =>
      client.getUsage({
        by,
        from: day('since', flags.since),
        to: day('until', flags.until),
        project: flags.project,
      }),
    );
    // One section per source; budget consumption joins for people (`budgets --json` has it).
    const sections = [
      `Usage from ${usage.from} to ${usage.to} (UTC)`,
      usage.rows.length === 0 ? 'No usage in this range.' : renderUsageTable(usage, this.paint),
    ];
    if (!this.jsonEnabled()) {
      const { budgets } = await this.callApi('Fetching budgets', () =>
        client.listBudgets({ project: flags.project }),
      );
      const names = await this.callApi('Fetching projects', () =>
        loadProjectNames(client, scopedProjectIds(budgets)),
      );
      sections.push(renderBudgetSection(budgets, names, this.paint));
    }
    this.log(sections.join('\n\n'));
    return usage;
  }
}
