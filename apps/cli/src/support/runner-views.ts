import { type ProjectReply, type RunnerReply } from '@stratavore/contracts';

import { formatRestarts, showsRestarts } from './restart-views';
import { type Paint, renderTable, type TableColumn } from './terminal-output';

const TERMINAL_STATES = new Set(['completed', 'failed', 'stopped']);

export function paintState(state: RunnerReply['state'], paint: Paint): string {
  switch (state) {
    case 'running':
      return paint('green', state);
    case 'waiting':
      // Claude Code needs a person: the state to catch the eye.
      return paint('bold', paint('cyan', state));
    case 'idle':
      return paint('cyan', state);
    case 'pending':
    case 'starting':
    case 'stopping':
      return paint('yellow', state);
    case 'failed':
      return paint('red', state);
    case 'completed':
    case 'stopped':
      return paint('dim', state);
  }
}

/** What a `waiting` runner waits for, from its Notification type. */
function waitingFor(reason: string): string {
  switch (reason) {
    case 'permission_prompt':
    case 'worker_permission_prompt':
      return 'permission';
    case 'elicitation_dialog':
      return 'question';
    case 'idle_prompt':
      return 'input';
    default:
      return reason;
  }
}

/** The state, and for a waiting runner what it waits for: `waiting (permission)`. */
export function describeState(runner: RunnerReply, paint: Paint): string {
  const state = paintState(runner.state, paint);
  if (runner.state !== 'waiting' || !runner.activity) return state;
  return `${state} ${paint('dim', `(${waitingFor(runner.activity.reason)})`)}`;
}

export function isTerminal(state: RunnerReply['state']): boolean {
  return TERMINAL_STATES.has(state);
}

/** `1.5 GiB`, `12.0 MiB`, `-` when unknown. */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit] ?? ''}`;
}

/** `12.5%`, `-` when unknown. */
export function formatPercent(value: number | null): string {
  return value === null ? '-' : `${value.toFixed(1)}%`;
}

/** `950`, `12.3k`, `4.1M`. */
export function formatCount(value: number): string {
  if (value < 1000) return String(value);
  if (value < 1_000_000) return `${(value / 1000).toFixed(1)}k`;
  return `${(value / 1_000_000).toFixed(1)}M`;
}

export function totalTokens(runner: RunnerReply): number {
  const t = runner.tokens;
  return t.inputTokens + t.outputTokens + t.cacheCreationTokens + t.cacheReadTokens;
}

/** `4s ago`, `3m ago`, `2h ago`, `never`. */
export function formatAge(timestamp: string | null, nowMs: number): string {
  if (timestamp === null) return 'never';
  const seconds = Math.max(0, Math.round((nowMs - Date.parse(timestamp)) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86_400)}d ago`;
}

function dash(value: number | string | null): string {
  return value === null ? '-' : String(value);
}

/** The runners table of `runners` and `watch`. */
export function renderRunnersTable(
  runners: readonly RunnerReply[],
  paint: Paint,
  nowMs: number,
): string {
  const columns: TableColumn<RunnerReply>[] = [
    { header: 'ID', value: (r) => r.id },
    { header: 'PROJECT', value: (r) => r.project.name, maxWidth: 24 },
    { header: 'STATE', value: (r) => describeState(r, paint) },
    { header: 'PID', value: (r) => dash(r.pid), align: 'right' },
    { header: 'CPU', value: (r) => formatPercent(r.cpuPercent), align: 'right' },
    { header: 'MEM', value: (r) => formatBytes(r.memoryBytes), align: 'right' },
    { header: 'TOKENS', value: (r) => formatCount(totalTokens(r)), align: 'right' },
    { header: 'HEARTBEAT', value: (r) => formatAge(r.lastHeartbeatAt, nowMs) },
    { header: 'EXIT', value: (r) => dash(r.exitCode ?? r.signal), align: 'right' },
  ];
  if (showsRestarts(runners)) {
    columns.push({ header: 'RESTARTS', value: (r) => formatRestarts(r, nowMs) });
  }
  return renderTable(columns, runners, paint);
}

/** A project's default launch estimate: `50.0k tokens, $2.00`, `-` when none. */
export function describeEstimate(
  project: Pick<ProjectReply, 'estimateTokens' | 'estimateUsd'>,
): string {
  const parts: string[] = [];
  if (typeof project.estimateTokens === 'number')
    parts.push(`${formatCount(project.estimateTokens)} tokens`);
  if (typeof project.estimateUsd === 'number') parts.push(`$${project.estimateUsd.toFixed(2)}`);
  return parts.length === 0 ? '-' : parts.join(', ');
}

/** Key/value lines of `projects show` and `new`. */
export function describeProject(project: ProjectReply, paint: Paint): string {
  const env =
    project.env.length === 0
      ? '-'
      : project.env
          .map((entry) => `${entry.name}=${entry.secret ? '(secret)' : (entry.value ?? '')}`)
          .join(', ');
  const rows: Array<[string, string]> = [
    ['Name', project.name],
    ['Path', project.path],
    ['Description', project.description || '-'],
    ['Command', project.command.join(' ')],
    ['Max runners', String(project.maxRunners)],
    ['Launch estimate', describeEstimate(project)],
    ['Env', env],
    ['Created', project.createdAt],
    ['Archived', project.archivedAt ?? 'no'],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${paint('bold', label.padEnd(width))}  ${value}`).join('\n');
}
