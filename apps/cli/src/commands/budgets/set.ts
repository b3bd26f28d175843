import { Flags } from '@oclif/core';
import { type BudgetScopeInput, type SetBudgetInput } from '@stratavore/api-client';
import {
  BUDGET_PERIODS,
  type BudgetView,
  ENFORCEMENT_MODES,
  type SetBudgetReply,
} from '@stratavore/contracts';

import {
  periodStartFlag,
  tokenKindsFlag,
  tokensFlag,
  tokensOrNoneFlag,
  usdFlag,
  usdOrNoneFlag,
  warnFlag,
} from '../../support/budget-flags';
import { describeScope, renderBudgetsTable } from '../../support/budget-views';
import { StratavoreCommand } from '../../support/stratavore-command';

/** The configuration of an existing budget, as `PUT /api/v1/budgets` takes it back. */
function configOf(view: BudgetView): Omit<SetBudgetInput, 'scope'> {
  return {
    ...(view.limits.tokens === null ? {} : { limitTokens: view.limits.tokens }),
    ...(view.limits.usd === null ? {} : { limitUsd: view.limits.usd }),
    tokenKinds: view.tokenKinds,
    period: view.period,
    timeZone: view.timeZone,
    periodAnchor: view.periodAnchor,
    warnThresholds: view.warnThresholds,
    rollover: {
      enabled: view.rollover.enabled,
      ...(view.rollover.capTokens === null ? {} : { capTokens: view.rollover.capTokens }),
      ...(view.rollover.capUsd === null ? {} : { capUsd: view.rollover.capUsd }),
    },
    enforcement: view.enforcement,
  };
}

function sameScope(view: BudgetView, scope: BudgetScopeInput): boolean {
  return view.scope.kind === scope.kind;
}

export default class BudgetsSet extends StratavoreCommand {
  static override description = `Create or change the budget of a scope. A new budget needs --period and a limit (--tokens, --usd or both); on an existing one only the flags given change. Changing the period, time zone or period start starts a new period from now (re-baselined).
--period-start sets where periods start: a date or date-time in the budget's zone (weeks start on its weekday, months on its day of the month, every period at its time of day; default Monday, the 1st, 00:00), or a date-time with an offset, read in the budget's zone.
--warn takes percentages of the limit (default 50,80,95; none for no warnings). --enforce hard (the default) refuses launches and stops the scope's runners once the limit is reached; soft only warns. --rollover carries what a period left unused into the next, at most --cap tokens (--cap-usd dollars).`;

  static override examples = [
    '<%= config.bin %> budgets set --global --tokens 5M --period daily',
    '<%= config.bin %> budgets set --project web-app --tokens 2000000 --usd 25 --period weekly --tz Europe/Berlin --warn 50,80,95 --enforce hard',
    '<%= config.bin %> budgets set --project web-app --rollover --cap 500k',
    '<%= config.bin %> budgets set --project web-app --period weekly --tz America/New_York --period-start 2026-03-02T09:00',
    '<%= config.bin %> budgets set --project web-app --usd none',
  ];

  static override flags = {
    global: Flags.boolean({
      description: 'the global budget (every project)',
      exclusive: ['project'],
    }),
    project: Flags.string({
      description: "a project's budget",
      helpValue: 'NAME',
      exclusive: ['global'],
    }),
    tokens: tokensOrNoneFlag({ description: 'token limit per period (500k, 2M; none removes it)' }),
    usd: usdOrNoneFlag({ description: 'USD limit per period (none removes it)' }),
    period: Flags.option({
      description: 'when the budget resets',
      options: BUDGET_PERIODS,
    })(),
    tz: Flags.string({
      description: 'IANA time zone periods are cut in (default UTC)',
      helpValue: 'ZONE',
    }),
    'period-start': periodStartFlag({
      description:
        "where periods start: 2026-03-02 or 2026-03-02T09:00 in the budget's zone, or 2026-03-02T09:00+01:00",
    }),
    warn: warnFlag({ description: 'warning thresholds in percent of the limit, or none' }),
    rollover: Flags.boolean({
      description: 'carry what a period left unused into the next (--no-rollover to stop)',
      allowNo: true,
    }),
    cap: tokensFlag({ description: 'most tokens carried into one period' }),
    'cap-usd': usdFlag({ description: 'most USD carried into one period' }),
    enforce: Flags.option({
      description: 'hard: refuse launches and stop runners at the limit; soft: warn only',
      options: ENFORCEMENT_MODES,
    })(),
    kinds: tokenKindsFlag({
      description: 'token kinds that count (input,output,cacheCreation,cacheRead; default all)',
    }),
  };

  static override usage =
    'budgets set --global|--project NAME [--tokens N] [--usd USD] [--period daily|weekly|monthly|none] [--tz ZONE] [--period-start DATE|DATETIME] [--warn 50,80,95] [--rollover [--cap N]] [--enforce hard|soft]';

  async run(): Promise<SetBudgetReply> {
    const { flags } = await this.parse(BudgetsSet);
    if (flags.global !== true && flags.project === undefined) {
      this.usageError('Name the scope: --global or --project NAME');
    }
    const scope: BudgetScopeInput =
      flags.project === undefined
        ? { kind: 'global' }
        : { kind: 'project', project: flags.project };
    const client = await this.client();
    const { budgets } = await this.callApi('Fetching the budget', () =>
      client.listBudgets({ project: flags.project }),
    );
    const current = budgets.find((view) => sameScope(view, scope));
    const base = current ? configOf(current) : undefined;
    if (base === undefined && flags.period === undefined) {
      this.usageError('A new budget needs --period (daily, weekly, monthly or none)');
    }

    const rolloverBase = base?.rollover ?? { enabled: false };
    const rolloverEnabled = flags.rollover ?? rolloverBase.enabled === true;
    if (!rolloverEnabled && (flags.cap !== undefined || flags['cap-usd'] !== undefined)) {
      this.usageError('--cap and --cap-usd need --rollover');
    }
    const { limitTokens: baseTokens, limitUsd: baseUsd, ...rest } = base ?? {};
    const limitTokens = flags.tokens === undefined ? baseTokens : flags.tokens;
    const limitUsd = flags.usd === undefined ? baseUsd : flags.usd;
    if (limitTokens == null && limitUsd == null) {
      this.usageError('A budget needs a limit: --tokens N, --usd X or both');
    }
    const input: SetBudgetInput = {
      ...rest,
      scope,
      ...(limitTokens == null ? {} : { limitTokens }),
      ...(limitUsd == null ? {} : { limitUsd }),
      ...(flags.kinds === undefined ? {} : { tokenKinds: flags.kinds }),
      period: flags.period ?? base?.period ?? 'none',
      ...(flags.tz === undefined ? {} : { timeZone: flags.tz }),
      ...(flags['period-start'] === undefined ? {} : { periodAnchor: flags['period-start'] }),
      ...(flags.warn === undefined ? {} : { warnThresholds: flags.warn }),
      rollover: rolloverEnabled
        ? {
            ...rolloverBase,
            enabled: true,
            ...(flags.cap === undefined ? {} : { capTokens: flags.cap }),
            ...(flags['cap-usd'] === undefined ? {} : { capUsd: flags['cap-usd'] }),
          }
        : { enabled: false },
      ...(flags.enforce === undefined ? {} : { enforcement: flags.enforce }),
    };

    const reply = await this.callApi('Saving the budget', () => client.setBudget(input));
    const names =
      reply.budget.scope.kind === 'project' && flags.project !== undefined
        ? new Map([[reply.budget.scope.projectId, flags.project]])
        : new Map<string, string>();
    const what = `${describeScope(reply.budget, names)} budget`;
    this.log(reply.created ? `Created the ${what}.` : `Updated the ${what}.`);
    if (reply.rebaselined) {
      this.log('The period changed: a new period started now, counting from zero.');
    }
    this.log(renderBudgetsTable([reply.budget], names, this.paint));
    return reply;
  }
}
