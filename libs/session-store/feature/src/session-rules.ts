import {
  type HeartbeatSession,
  type ModelUsage,
  type SessionModelUsage,
  type SessionTokens,
} from '@stratavore/contracts';
import {
  type DailyUsage,
  type RunRecord,
  type SessionRecord,
  type TokenCounts,
} from '@stratavore/session-store-data-access';

/** The token kinds of a model's usage, in the order reports list them. */
export const TOKEN_KINDS = [
  'input',
  'output',
  'cacheCreation5m',
  'cacheCreation1h',
  'cacheRead',
  'webSearchRequests',
] as const satisfies ReadonlyArray<keyof ModelUsage>;

export const ZERO_TOKENS: TokenCounts = Object.freeze({
  input: 0,
  output: 0,
  cacheCreation5m: 0,
  cacheCreation1h: 0,
  cacheRead: 0,
  webSearchRequests: 0,
});

/** List price (USD) of each model's tokens, used only as weights to split a run's cost. */
export type PriceWeights = (
  tokensByModel: Readonly<Record<string, TokenCounts>>,
) => Record<string, number>;

const USD_ROUNDING = 1e10;

/** Sub-nanodollar noise of floating-point arithmetic is rounded away. */
export function roundUsd(value: number): number {
  const rounded = Math.round(value * USD_ROUNDING) / USD_ROUNDING;
  return rounded === 0 ? 0 : rounded;
}

export function addTokens(a: TokenCounts, b: TokenCounts): TokenCounts {
  return {
    input: a.input + b.input,
    output: a.output + b.output,
    cacheCreation5m: a.cacheCreation5m + b.cacheCreation5m,
    cacheCreation1h: a.cacheCreation1h + b.cacheCreation1h,
    cacheRead: a.cacheRead + b.cacheRead,
    webSearchRequests: a.webSearchRequests + b.webSearchRequests,
  };
}

function tokensOnly(usage: ModelUsage): TokenCounts {
  return {
    input: usage.input,
    output: usage.output,
    cacheCreation5m: usage.cacheCreation5m,
    cacheCreation1h: usage.cacheCreation1h,
    cacheRead: usage.cacheRead,
    webSearchRequests: usage.webSearchRequests,
  };
}

/** Growth per kind; a counter that went down is a reset and grows by 0. */
export function tokenGrowth(last: TokenCounts, current: TokenCounts): TokenCounts {
  const growth = { ...ZERO_TOKENS };
  for (const kind of TOKEN_KINDS) growth[kind] = Math.max(0, current[kind] - last[kind]);
  return growth;
}

function hasTokens(tokens: TokenCounts): boolean {
  return TOKEN_KINDS.some((kind) => tokens[kind] > 0);
}

function tokenTotal(tokens: TokenCounts): number {
  return TOKEN_KINDS.reduce((sum, kind) => sum + tokens[kind], 0);
}

/** The API's view of tokens: by kind, with `cacheCreation` = 5 minutes + 1 hour. */
export function sessionTokens(tokens: TokenCounts): SessionTokens {
  return {
    input: tokens.input,
    output: tokens.output,
    cacheCreation: tokens.cacheCreation5m + tokens.cacheCreation1h,
    cacheCreation5m: tokens.cacheCreation5m,
    cacheCreation1h: tokens.cacheCreation1h,
    cacheRead: tokens.cacheRead,
    webSearchRequests: tokens.webSearchRequests,
  };
}

/**
 * Splits `usd` over models in proportion to `weights` (rounded, the remainder on the heaviest
 * model so the parts add up to `usd`). Falls back to `fallback` weights, then to the first model
 * alphabetically, when no weight is positive.
 */
export function splitCost(
  usd: number,
  weights: Readonly<Record<string, number>>,
  fallback: Readonly<Record<string, number>>,
  models: readonly string[],
): Record<string, number> {
  const positive = (w: Readonly<Record<string, number>>) =>
    Object.entries(w).filter(([, value]) => value > 0);
  let entries = positive(weights);
  if (entries.length === 0) entries = positive(fallback);
  if (entries.length === 0) {
    const first = [...models].sort()[0] ?? '';
    return usd > 0 ? { [first]: usd } : {};
  }
  const total = entries.reduce((sum, [, value]) => sum + value, 0);
  const heaviest = entries.reduce((a, b) => (b[1] > a[1] ? b : a))[0];
  const parts: Record<string, number> = {};
  let assigned = 0;
  for (const [model, weight] of entries) {
    if (model === heaviest) continue;
    parts[model] = roundUsd((usd * weight) / total);
    assigned += parts[model];
  }
  parts[heaviest] = roundUsd(usd - assigned);
  return parts;
}

/** One heartbeat's snapshot of a runner's part of a session (`session.reported`). */
export interface Snapshot {
  readonly runnerId: string;
  readonly projectId: string;
  readonly seq: number;
  readonly observedAt: Date;
  readonly session: HeartbeatSession;
}

export type EndReason = 'result' | 'runner_ended';

export type SnapshotOutcome =
  | { readonly applied: false }
  | {
      readonly applied: true;
      readonly created: boolean;
      readonly session: SessionRecord;
      readonly run: RunRecord;
      /** Growth booked into the daily ledger. */
      readonly usage: readonly DailyUsage[];
      /** Set when this snapshot ended the session (it was running or new). */
      readonly ended: EndReason | null;
    };

/** `YYYY-MM-DD` of an instant, in UTC. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/**
 * The run after a newer snapshot, and the growth it brings: tokens per model since the run's
 * previous snapshot, and the run's cost growth split over the models by the list prices of their
 * token growth (the agent reports one cost per run). What the run already has attributed is the
 * base, so a cost that went down books nothing and an unknown cost (`null`) keeps the base.
 */
export function advanceRun(
  previous: RunRecord | undefined,
  snapshot: Snapshot,
  weigh: PriceWeights,
): { run: RunRecord; usage: DailyUsage[] } {
  const { session } = snapshot;
  const before = previous?.models ?? {};
  const names = [...new Set([...Object.keys(before), ...Object.keys(session.models)])].sort();
  const growth: Record<string, TokenCounts> = {};
  for (const name of names) {
    const now = session.models[name];
    const last = before[name];
    growth[name] = now
      ? tokenGrowth(last ? tokensOnly(last) : ZERO_TOKENS, tokensOnly(now))
      : ZERO_TOKENS;
  }
  const attributed = Object.values(before).reduce((sum, m) => sum + (m.costUsd ?? 0), 0);
  const costGrowth =
    session.costUsd === null ? 0 : Math.max(0, roundUsd(session.costUsd - attributed));
  const split =
    costGrowth > 0
      ? splitCost(
          costGrowth,
          weigh(growth),
          Object.fromEntries(names.map((n) => [n, tokenTotal(growth[n] ?? ZERO_TOKENS)])),
          names,
        )
      : {};

  const models: Record<string, SessionModelUsage> = {};
  for (const name of new Set([...names, ...Object.keys(split)])) {
    const now = session.models[name];
    const last = before[name];
    const tokens = now ? tokensOnly(now) : last ? tokensOnly(last) : ZERO_TOKENS;
    const added = split[name];
    const priced = last?.costUsd ?? null;
    const costUsd =
      added === undefined
        ? session.costUsd === null
          ? priced
          : (priced ?? 0)
        : roundUsd((priced ?? 0) + added);
    models[name] = { ...tokens, costUsd };
  }

  const day = utcDay(snapshot.observedAt);
  const usage: DailyUsage[] = [];
  for (const name of Object.keys(models).sort()) {
    const tokens = growth[name] ?? ZERO_TOKENS;
    const costUsd = split[name] ?? 0;
    if (hasTokens(tokens) || costUsd > 0) {
      usage.push({ day, projectId: snapshot.projectId, model: name, tokens, costUsd });
    }
  }

  return {
    run: {
      sessionId: session.sessionId,
      runnerId: snapshot.runnerId,
      projectId: snapshot.projectId,
      seq: snapshot.seq,
      firstSeenAt: previous?.firstSeenAt ?? snapshot.observedAt,
      observedAt: snapshot.observedAt,
      models,
      turns: session.turns,
      costUsd: session.costUsd,
      reportedCostUsd: session.reportedCostUsd,
      cwd: session.cwd,
      transcriptPath: session.transcriptPath,
      resumedFrom: session.resumedFrom,
      waitingForInput: session.waitingForInput,
      result: session.result,
    },
    usage,
  };
}

function sumNullable(values: readonly (number | null)[]): number | null {
  if (values.length === 0 || values.some((v) => v === null)) return null;
  return roundUsd(values.reduce<number>((sum, v) => sum + (v ?? 0), 0));
}

/** The run seen last (the later of two at the same instant: the later first seen). */
function latestRun(runs: readonly RunRecord[]): RunRecord | undefined {
  return runs.reduce<RunRecord | undefined>(
    (latest, run) => (latest === undefined || run.observedAt >= latest.observedAt ? run : latest),
    undefined,
  );
}

export interface SessionState {
  readonly endedAt: Date | null;
  readonly reason: EndReason | null;
}

/**
 * Whether a session is over: its latest run has a result, or every runner it ran in has ended.
 * A session that was over stays over from the same instant; a resumed one (a newer run without
 * a result, in a runner still going) is running again.
 */
export function sessionState(
  previousEndedAt: Date | null,
  runs: readonly RunRecord[],
  endedRunners: ReadonlySet<string>,
  at: Date,
): SessionState {
  const latest = latestRun(runs);
  let reason: EndReason | null = null;
  if (latest?.result) reason = 'result';
  else if (runs.length > 0 && runs.every((run) => endedRunners.has(run.runnerId))) {
    reason = 'runner_ended';
  }
  if (reason === null) return { endedAt: null, reason: null };
  return { endedAt: previousEndedAt ?? at, reason };
}

/** A session's totals from its runs: tokens, turns and costs summed; state from the latest. */
export function sumRuns(
  base: Pick<SessionRecord, 'id' | 'projectId' | 'firstRunnerId' | 'startedAt'>,
  runs: readonly RunRecord[],
  lastSeenAt: Date,
  endedAt: Date | null,
): SessionRecord {
  const models: Record<string, SessionModelUsage> = {};
  const modelCosts: Record<string, (number | null)[]> = {};
  let tokens = ZERO_TOKENS;
  for (const run of runs) {
    for (const [name, usage] of Object.entries(run.models)) {
      const sum = addTokens(models[name] ?? ZERO_TOKENS, tokensOnly(usage));
      models[name] = { ...sum, costUsd: null };
      (modelCosts[name] ??= []).push(usage.costUsd);
      tokens = addTokens(tokens, tokensOnly(usage));
    }
  }
  for (const [name, costs] of Object.entries(modelCosts)) {
    const usage = models[name];
    if (usage) models[name] = { ...usage, costUsd: sumNullable(costs) };
  }
  const reported = runs.map((r) => r.reportedCostUsd).filter((v): v is number => v !== null);
  const latest = latestRun(runs);
  return {
    ...base,
    cwd: latest?.cwd ?? runs.find((r) => r.cwd !== null)?.cwd ?? null,
    models,
    tokens,
    turns: runs.reduce((sum, r) => sum + r.turns, 0),
    costUsd: sumNullable(runs.map((r) => r.costUsd)),
    reportedCostUsd: reported.length === 0 ? null : roundUsd(reported.reduce((a, b) => a + b, 0)),
    result: latest?.result ?? null,
    resumedFrom: runs.find((r) => r.resumedFrom !== null)?.resumedFrom ?? null,
    waitingForInput: latest?.waitingForInput ?? false,
    lastSeenAt,
    endedAt,
  };
}

/**
 * Applies a snapshot to its session: ignored when the run already has this seq or a newer one
 * (redelivery, reordering); otherwise the run is replaced, the session's totals recomputed from
 * all its runs, and the growth returned for the ledger.
 */
export function applySnapshot(
  current: { readonly session: SessionRecord; readonly runs: readonly RunRecord[] } | null,
  snapshot: Snapshot,
  endedRunners: ReadonlySet<string>,
  weigh: PriceWeights,
): SnapshotOutcome {
  const previous = current?.runs.find((run) => run.runnerId === snapshot.runnerId);
  if (previous && previous.seq >= snapshot.seq) return { applied: false };
  const { run, usage } = advanceRun(previous, snapshot, weigh);
  const runs = previous
    ? (current?.runs ?? []).map((r) => (r.runnerId === run.runnerId ? run : r))
    : [...(current?.runs ?? []), run];
  const previousEnd = current?.session.endedAt ?? null;
  const state = sessionState(previousEnd, runs, endedRunners, snapshot.observedAt);
  const lastSeen = current?.session.lastSeenAt;
  const session = sumRuns(
    current?.session ?? {
      id: snapshot.session.sessionId,
      projectId: snapshot.projectId,
      firstRunnerId: snapshot.runnerId,
      startedAt: snapshot.observedAt,
    },
    runs,
    lastSeen && lastSeen > snapshot.observedAt ? lastSeen : snapshot.observedAt,
    state.endedAt,
  );
  return {
    applied: true,
    created: current === null,
    session,
    run,
    usage,
    ended: previousEnd === null && state.endedAt !== null ? state.reason : null,
  };
}
