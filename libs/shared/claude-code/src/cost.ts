import {
  DEFAULT_PRICING_TABLE,
  findModelPricing,
  type PricingTable,
  type TokenRates,
} from './pricing';
import { isZeroUsage, subtractUsage, type TokenUsage, ZERO_TOKEN_USAGE } from './token-usage';

/**
 * One model's usage with the part that came from long-context requests (prompt above
 * {@link LONG_CONTEXT_THRESHOLD_TOKENS}) counted separately: `longContextUsage` is included in
 * `usage`, not added to it.
 */
export interface TieredUsage {
  readonly usage: TokenUsage;
  readonly longContextUsage: TokenUsage;
}

/** What one model cost. */
export interface ModelCost {
  /** The pricing entry used; null when the table does not know the model. */
  readonly pricingId: string | null;
  /** null: the model is unknown to the table (never a silent 0). */
  readonly usd: number | null;
}

/** What a set of models cost. */
export interface CostReport {
  readonly models: Readonly<Record<string, ModelCost>>;
  /** Sum over all models; null as soon as one model with usage is unknown. */
  readonly totalUsd: number | null;
  /** Sum over the models the table knows. */
  readonly pricedUsd: number;
  /** Models with usage that the table cannot price: report them, add them to the config. */
  readonly unknownModels: readonly string[];
}

/** Sub-nanodollar noise from floating point is rounded away. */
const ROUNDING = 1e10;

function roundUsd(value: number): number {
  return Math.round(value * ROUNDING) / ROUNDING;
}

function tokensCost(usage: TokenUsage, rates: TokenRates): number {
  return (
    (usage.inputTokens * rates.input +
      usage.outputTokens * rates.output +
      usage.cacheCreation5mTokens * rates.cacheWrite5m +
      usage.cacheCreation1hTokens * rates.cacheWrite1h +
      usage.cacheReadTokens * rates.cacheRead) /
    1_000_000
  );
}

function isTieredUsage(value: TieredUsage | TokenUsage): value is TieredUsage {
  return 'usage' in value;
}

/**
 * Prices usage per model: standard tokens at the model's rates, the long-context part at its
 * long-context rates (or the standard ones when the model has no such tier), web searches per
 * 1,000. A model the table does not know costs null and is listed in `unknownModels`; a model
 * with no usage at all costs 0 whatever it is.
 */
export function costOf(
  usageByModel: Readonly<Record<string, TieredUsage | TokenUsage>>,
  table: PricingTable = DEFAULT_PRICING_TABLE,
): CostReport {
  const models: Record<string, ModelCost> = {};
  const unknownModels: string[] = [];
  let pricedUsd = 0;
  for (const [model, value] of Object.entries(usageByModel)) {
    const { usage, longContextUsage } = isTieredUsage(value)
      ? value
      : { usage: value, longContextUsage: ZERO_TOKEN_USAGE };
    const pricing = findModelPricing(model, table);
    if (pricing === null) {
      if (isZeroUsage(usage)) {
        models[model] = { pricingId: null, usd: 0 };
      } else {
        models[model] = { pricingId: null, usd: null };
        unknownModels.push(model);
      }
      continue;
    }
    const standard = subtractUsage(usage, longContextUsage);
    const usd = roundUsd(
      tokensCost(standard, pricing.rates) +
        tokensCost(longContextUsage, pricing.longContext ?? pricing.rates) +
        (usage.webSearchRequests * table.webSearchPerThousand) / 1_000,
    );
    models[model] = { pricingId: pricing.id, usd };
    pricedUsd += usd;
  }
  pricedUsd = roundUsd(pricedUsd);
  return {
    models,
    totalUsd: unknownModels.length === 0 ? pricedUsd : null,
    pricedUsd,
    unknownModels,
  };
}
