import { costOf } from '@stratavore/claude-code';

import { type PriceWeights } from './session-rules';

/**
 * Weights from Stratavore's default pricing table (`@stratavore/claude-code`): what each model's
 * tokens would cost at list price. Only the proportions matter: they split the one cost the agent
 * reports per run over its models. A model the table does not know weighs 0.
 */
export const listPriceWeights: PriceWeights = (tokensByModel) => {
  const report = costOf(
    Object.fromEntries(
      Object.entries(tokensByModel).map(([model, t]) => [
        model,
        {
          inputTokens: t.input,
          outputTokens: t.output,
          cacheCreation5mTokens: t.cacheCreation5m,
          cacheCreation1hTokens: t.cacheCreation1h,
          cacheReadTokens: t.cacheRead,
          webSearchRequests: t.webSearchRequests,
        },
      ]),
    ),
  );
  return Object.fromEntries(
    Object.entries(report.models).map(([model, cost]) => [model, cost.usd ?? 0]),
  );
};
