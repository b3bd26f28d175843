import { Flags } from '@oclif/core';
import { type BudgetView } from '@stratavore/contracts';

import { loadProjectNames, renderBudgetsTable, scopedProjectIds } from '../../support/budget-views';
import { StratavoreCommand } from '../../support/stratavore-command';

export default class Budgets extends StratavoreCommand {
  static override description =
    'List budgets with their current period: limit (with what rolled over), used, reserved, left, when the period ends, and status.';

  static override examples = [
    '<%= config.bin %> budgets',
    '<%= config.bin %> budgets --project web-app',
    '<%= config.bin %> budgets --json',
  ];

  static override flags = {
    project: Flags.string({
      description: 'only the budgets covering this project (global and its own)',
      helpValue: 'NAME',
    }),
  };

  async run(): Promise<BudgetView[]> {
    const { flags } = await this.parse(Budgets);
    const client = await this.client();
    const { budgets } = await this.callApi('Fetching budgets', () =>
      client.listBudgets({ project: flags.project }),
    );
    if (budgets.length === 0) {
      this.log(
        'No budgets: spending is unlimited. Set one with `stratavore budgets set --global --tokens 5M --period daily`.',
      );
      return budgets;
    }
    // Names are for people; the JSON carries the project ids.
    if (this.jsonEnabled()) return budgets;
    const names = await this.callApi('Fetching projects', () =>
      loadProjectNames(client, scopedProjectIds(budgets)),
    );
    this.log(renderBudgetsTable(budgets, names, this.paint));
    return budgets;
  }
}
