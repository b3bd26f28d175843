import { z } from 'zod';

import {
  ClaudeCodeErrorCode,
  ClaudeCodeException,
  type ClaudeCodeFieldIssue,
} from './claude-code.exception';
import { DEFAULT_PRICING_DATA } from './pricing-table.data';

/**
 * A request whose prompt (input + cache writes + cache reads) is above this many tokens is billed
 * at its model's long-context rates, for all of its tokens. The ledger splits usage on it.
 */
export const LONG_CONTEXT_THRESHOLD_TOKENS = 200_000;

/** USD per million tokens of each kind. */
export interface TokenRates {
  readonly input: number;
  readonly output: number;
  readonly cacheWrite5m: number;
  readonly cacheWrite1h: number;
  readonly cacheRead: number;
}

/** Prices of the models whose id matches `match`. */
export interface ModelPricing {
  readonly id: string;
  readonly label: string;
  readonly match: RegExp;
  readonly rates: TokenRates;
  /** Rates for requests above {@link LONG_CONTEXT_THRESHOLD_TOKENS}; null: no such tier. */
  readonly longContext: TokenRates | null;
}

/** A resolved pricing table: the shipped one, or the shipped one with overrides applied. */
export interface PricingTable {
  readonly source: string;
  readonly checkedOn: string;
  /** USD per 1,000 web search requests. */
  readonly webSearchPerThousand: number;
  /** Tried in order; the first match prices the model. */
  readonly models: readonly ModelPricing[];
}

const rate = () => z.number().finite().nonnegative();

const ratesSchema = z.strictObject({
  input: rate(),
  output: rate(),
  cacheWrite5m: rate(),
  cacheWrite1h: rate(),
  cacheRead: rate(),
});

function isRegExpSource(source: string): boolean {
  try {
    new RegExp(source, 'i');
    return true;
  } catch {
    return false;
  }
}

const modelPricingConfigSchema = z.strictObject({
  /** Same id as a shipped entry: replaces it (keeping its `match` and `label` if omitted). */
  id: z.string().min(1).max(100),
  label: z.string().min(1).max(200).optional(),
  /** Case-insensitive regular expression tested against the model id. */
  match: z
    .string()
    .min(1)
    .max(500)
    .refine(isRegExpSource, { error: 'expected a valid regular expression' })
    .optional(),
  rates: ratesSchema,
  /** null removes a shipped entry's long-context tier. */
  longContext: ratesSchema.nullable().optional(),
});

/**
 * Configuration of the pricing table. Every field is optional: `{}` is the shipped table.
 * New model ids are tried before the shipped ones, so a specific override wins.
 */
export const pricingConfigSchema = z.strictObject({
  source: z.string().min(1).max(500).optional(),
  checkedOn: z.string().min(1).max(100).optional(),
  webSearchPerThousand: rate().optional(),
  /** Drop the shipped entries: only `models` prices anything. */
  replaceDefaults: z.boolean().optional(),
  models: z.array(modelPricingConfigSchema).max(500).optional(),
});
export type PricingConfig = z.input<typeof pricingConfigSchema>;

function compile(entry: {
  id: string;
  label?: string | undefined;
  match: string;
  rates: TokenRates;
  longContext?: TokenRates | null | undefined;
}): ModelPricing {
  return {
    id: entry.id,
    label: entry.label ?? entry.id,
    match: new RegExp(entry.match, 'i'),
    rates: { ...entry.rates },
    longContext: entry.longContext ? { ...entry.longContext } : null,
  };
}

/** The table shipped with the library (see `pricing-table.data.ts` for its source and date). */
export const DEFAULT_PRICING_TABLE: PricingTable = Object.freeze({
  source: DEFAULT_PRICING_DATA.source,
  checkedOn: DEFAULT_PRICING_DATA.checkedOn,
  webSearchPerThousand: DEFAULT_PRICING_DATA.webSearchPerThousand,
  models: Object.freeze(DEFAULT_PRICING_DATA.models.map((entry) => compile(entry))),
});

/**
 * Applies a pricing configuration (e.g. from a JSON file or an environment variable) to `base`.
 *
 * @throws ClaudeCodeException `InvalidPricingConfig` naming every offending field
 *   (`models.2.rates.output: expected number`).
 */
export function resolvePricingTable(
  config: unknown,
  base: PricingTable = DEFAULT_PRICING_TABLE,
): PricingTable {
  const parsed = pricingConfigSchema.safeParse(config ?? {});
  if (!parsed.success) {
    throw invalidConfig(
      parsed.error.issues.map((issue) => ({
        field: issue.path.length === 0 ? '(config)' : issue.path.map(String).join('.'),
        message: issue.message,
      })),
    );
  }
  const { models = [], replaceDefaults = false } = parsed.data;
  const inherited = new Map(
    (replaceDefaults ? [] : base.models).map((entry) => [entry.id, entry] as const),
  );
  const issues: ClaudeCodeFieldIssue[] = [];
  const seen = new Set<string>();
  models.forEach((entry, index) => {
    if (seen.has(entry.id)) {
      issues.push({ field: `models.${index}.id`, message: `duplicate model id ${entry.id}` });
    }
    seen.add(entry.id);
    if (entry.match === undefined && !inherited.has(entry.id)) {
      issues.push({
        field: `models.${index}.match`,
        message: `required: ${entry.id} is not in the ${replaceDefaults ? 'configured' : 'shipped'} table`,
      });
    }
  });
  if (issues.length > 0) throw invalidConfig(issues);

  const replacements = new Map<string, ModelPricing>();
  const added: ModelPricing[] = [];
  for (const entry of models) {
    const shipped = inherited.get(entry.id);
    const resolved: ModelPricing = {
      id: entry.id,
      label: entry.label ?? shipped?.label ?? entry.id,
      match:
        entry.match === undefined
          ? (shipped as ModelPricing).match
          : compile({ ...entry, match: entry.match }).match,
      rates: { ...entry.rates },
      longContext:
        entry.longContext === undefined
          ? (shipped?.longContext ?? null)
          : entry.longContext === null
            ? null
            : { ...entry.longContext },
    };
    if (shipped === undefined) added.push(resolved);
    else replacements.set(entry.id, resolved);
  }
  const kept = (replaceDefaults ? [] : base.models).map(
    (entry) => replacements.get(entry.id) ?? entry,
  );
  return {
    source:
      parsed.data.source ?? (models.length > 0 ? `${base.source} (with overrides)` : base.source),
    checkedOn: parsed.data.checkedOn ?? base.checkedOn,
    webSearchPerThousand: parsed.data.webSearchPerThousand ?? base.webSearchPerThousand,
    models: [...added, ...kept],
  };
}

function invalidConfig(issues: readonly ClaudeCodeFieldIssue[]): ClaudeCodeException {
  return new ClaudeCodeException(
    ClaudeCodeErrorCode.InvalidPricingConfig,
    `invalid pricing configuration: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
    { issues },
  );
}

/** The entry that prices `model`, or null when the table does not know it. */
export function findModelPricing(
  model: string,
  table: PricingTable = DEFAULT_PRICING_TABLE,
): ModelPricing | null {
  return table.models.find((entry) => entry.match.test(model)) ?? null;
}
