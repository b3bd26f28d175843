import { Args, Flags } from '@oclif/core';
import { type BudgetScopeInput } from '@stratavore/api-client';
import { type BudgetView } from '@stratavore/contracts';

import { describeScope, loadProjectNames } from '../../support/budget-views';
import { StratavoreCommand } from '../../support/stratavore-command';

export default class BudgetsRm extends StratavoreCommand {
  static override description =
    'Remove a budget, by id or by scope. Without a budget a scope is unlimited.';

  static override examples = [
    '<%= config.bin %> budgets rm 3f2b9c1e-6d1a-4c1b-9f8e-2a7d5c4b3e21',
    '<%= config.bin %> budgets rm --global',
    '<%= config.bin %> budgets rm --project web-app',
  ];

  static override args = {
    id: Args.string({ description: 'budget id (see `stratavore budgets --json`)' }),
  };

  static override flags = {
    global: Flags.boolean({ description: 'the global budget', exclusive: ['project'] }),
    project: Flags.string({
      description: "the project's budget",
      helpValue: 'NAME',
      exclusive: ['global'],
    }),
  };

  static override usage = 'budgets rm ID|--global|--project NAME';

  async run(): Promise<BudgetView> {
    const { args, flags } = await this.parse(BudgetsRm);
    const given = [args.id !== undefined, flags.global === true, flags.project !== undefined];
    if (given.filter(Boolean).length !== 1) {
      this.usageError('Name the budget: give its ID, --global or --project NAME (exactly one)');
    }
    const target: string | BudgetScopeInput =
      args.id ??
      (flags.project === undefined
        ? { kind: 'global' }
        : { kind: 'project', project: flags.project });
    const client = await this.client();
    const { removed } = await this.callApi('Removing the budget', () =>
      client.removeBudget(target),
    );
    const names =
      removed.scope.kind === 'project' && flags.project !== undefined
        ? new Map([[removed.scope.projectId, flags.project]])
        : await this.callApi('Fetching projects', () =>
            loadProjectNames(
              client,
              removed.scope.kind === 'project' ? [removed.scope.projectId] : [],
            ),
          );
    this.log(`Removed the ${describeScope(removed, names)} budget ${removed.id}.`);
    return removed;
  }
}
