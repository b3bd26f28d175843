import {
  type SessionDetailView,
  type SessionModelUsage,
  type SessionTokens,
  type SessionView,
  type UsageView,
} from '@stratavore/contracts';

import { formatAge, formatBytes, formatCount } from './runner-views';
import { type Paint, renderTable, type TableColumn } from './terminal-output';

/** `$0.42`, `$0.0042` below a cent, `-` when unknown. */
export function formatUsd(value: number | null): string {
  if (value === null) return '-';
  return `$${value.toFixed(value !== 0 && value < 0.01 ? 4 : 2)}`;
}

/** The project as people know it: its name, else its id. */
export function projectLabel(project: { id: string; name: string | null }): string {
  return project.name ?? project.id;
}

export function totalTokens(tokens: SessionTokens): number {
  return tokens.input + tokens.output + tokens.cacheCreation + tokens.cacheRead;
}

/** `running`, `waiting` (for a person), or how it ended: the result subtype or `ended`. */
export function sessionState(session: SessionView): string {
  if (session.endedAt === null) return session.waitingForInput ? 'waiting' : 'running';
  return session.result?.subtype ?? 'ended';
}

function paintState(state: string, paint: Paint): string {
  if (state === 'running') return paint('green', state);
  if (state === 'waiting') return paint('yellow', state);
  if (state === 'success') return paint('dim', state);
  return state.startsWith('error') ? paint('red', state) : paint('dim', state);
}

/**
 * What `sessions --json` prints for one session: the API's object with `project` as the
 * project's name (its id when the name is unknown) and `projectId` beside it.
 */
export function sessionJson(session: SessionView): Record<string, unknown> {
  return { ...session, project: projectLabel(session.project), projectId: session.project.id };
}

export function renderSessionsTable(
  sessions: readonly SessionView[],
  paint: Paint,
  nowMs: number,
): string {
  const columns: TableColumn<SessionView>[] = [
    { header: 'SESSION', value: (s) => s.id },
    { header: 'PROJECT', value: (s) => projectLabel(s.project), maxWidth: 24 },
    { header: 'RUNNER', value: (s) => s.runnerIds.at(-1) ?? s.runnerId },
    { header: 'STATE', value: (s) => paintState(sessionState(s), paint) },
    { header: 'TURNS', value: (s) => String(s.turns), align: 'right' },
    { header: 'TOKENS', value: (s) => formatCount(totalTokens(s.tokens)), align: 'right' },
    { header: 'COST', value: (s) => formatUsd(s.costUsd), align: 'right' },
    { header: 'LAST SEEN', value: (s) => formatAge(s.lastSeenAt, nowMs) },
  ];
  return renderTable(columns, sessions, paint);
}

interface TokenRow {
  readonly label: string;
  readonly input: number;
  readonly output: number;
  readonly cacheCreation5m: number;
  readonly cacheCreation1h: number;
  readonly cacheRead: number;
  readonly webSearchRequests: number;
  readonly costUsd: number | null;
}

function renderTokenTable(rows: readonly TokenRow[], paint: Paint, first: string): string {
  const columns: TableColumn<TokenRow>[] = [
    { header: first, value: (r) => r.label },
    { header: 'INPUT', value: (r) => formatCount(r.input), align: 'right' },
    { header: 'OUTPUT', value: (r) => formatCount(r.output), align: 'right' },
    { header: 'CACHE WRITE 5M', value: (r) => formatCount(r.cacheCreation5m), align: 'right' },
    { header: 'CACHE WRITE 1H', value: (r) => formatCount(r.cacheCreation1h), align: 'right' },
    { header: 'CACHE READ', value: (r) => formatCount(r.cacheRead), align: 'right' },
    { header: 'WEB SEARCH', value: (r) => String(r.webSearchRequests), align: 'right' },
    { header: 'COST', value: (r) => formatUsd(r.costUsd), align: 'right' },
  ];
  return renderTable(columns, rows, paint);
}

function keyValues(rows: ReadonlyArray<[string, string]>, paint: Paint): string {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${paint('bold', label.padEnd(width))}  ${value}`).join('\n');
}

function yesNo(value: boolean): string {
  return value ? 'yes' : 'no';
}

/** `sessions show`: the session, tokens by model and kind, its runs and transcripts. */
export function describeSession(session: SessionDetailView, paint: Paint): string {
  const result = session.result;
  const cost =
    session.reportedCostUsd === null
      ? formatUsd(session.costUsd)
      : `${formatUsd(session.costUsd)} (Claude Code reported ${formatUsd(session.reportedCostUsd)})`;
  const summary = keyValues(
    [
      ['Session', session.id],
      ['Project', projectLabel(session.project)],
      ['Runners', session.runnerIds.join(', ')],
      ['State', sessionState(session)],
      ['Turns', String(session.turns)],
      ['Cost', cost],
      [
        'Result',
        result === null
          ? '-'
          : `${result.subtype}${result.isError ? ' (error)' : ''}, resumable ${yesNo(result.resumable)}${result.resumeAt ? `, resume at ${result.resumeAt}` : ''}`,
      ],
      ['Waiting for input', yesNo(session.waitingForInput)],
      ['Directory', session.cwd ?? '-'],
      ['Resumed from', session.resumedFrom ?? '-'],
      ['Started', session.startedAt],
      ['Last seen', session.lastSeenAt],
      ['Ended', session.endedAt ?? '-'],
    ],
    paint,
  );
  const models = Object.entries(session.models)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([label, usage]: [string, SessionModelUsage]) => ({ label, ...usage }));
  const t = session.tokens;
  const tokens = renderTokenTable(
    [
      ...models,
      {
        label: 'TOTAL',
        input: t.input,
        output: t.output,
        cacheCreation5m: t.cacheCreation5m,
        cacheCreation1h: t.cacheCreation1h,
        cacheRead: t.cacheRead,
        webSearchRequests: t.webSearchRequests,
        costUsd: session.costUsd,
      },
    ],
    paint,
    'MODEL',
  );
  const transcripts =
    session.transcripts.length === 0
      ? 'No transcript uploaded.'
      : renderTable(
          [
            {
              header: 'TRANSCRIPT',
              value: (x: SessionDetailView['transcripts'][number]) =>
                x.kind === 'main' ? 'main' : `subagent-${x.agentId ?? ''}`,
            },
            { header: 'SIZE', value: (x) => formatBytes(x.size), align: 'right' },
            { header: 'LINES', value: (x) => String(x.lineCount), align: 'right' },
            { header: 'UPLOADED', value: (x) => x.uploadedAt },
            { header: 'SHA256', value: (x) => x.sha256 },
          ],
          session.transcripts,
          paint,
        );
  return [summary, tokens, transcripts].join('\n\n');
}

/** The first column of `usage`, by grouping. */
const USAGE_KEY_HEADER: Readonly<Record<UsageView['by'], string>> = {
  project: 'PROJECT',
  model: 'MODEL',
  day: 'DAY',
};

/** `usage`: one row per project, model or day, then the total. */
export function renderUsageTable(usage: UsageView, paint: Paint): string {
  const row = (label: string, tokens: SessionTokens, costUsd: number): TokenRow => ({
    label,
    input: tokens.input,
    output: tokens.output,
    cacheCreation5m: tokens.cacheCreation5m,
    cacheCreation1h: tokens.cacheCreation1h,
    cacheRead: tokens.cacheRead,
    webSearchRequests: tokens.webSearchRequests,
    costUsd,
  });
  return renderTokenTable(
    [
      ...usage.rows.map((r) => row(r.name ?? r.key, r.tokens, r.costUsd)),
      row('TOTAL', usage.total.tokens, usage.total.costUsd),
    ],
    paint,
    USAGE_KEY_HEADER[usage.by],
  );
}
