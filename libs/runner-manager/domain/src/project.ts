import {
  type EnvEntryInput,
  type EnvEntryReply,
  PROJECT_NAME_PATTERN,
  type ProjectReply,
} from '@stratavore/contracts';

import { RunnerException } from './runner.exception';

/** One environment variable of a project; a secret's value is stored but never shown. */
export interface EnvEntry {
  readonly name: string;
  readonly value: string;
  readonly secret: boolean;
}

export interface Project {
  readonly id: string;
  readonly name: string;
  readonly path: string;
  readonly description: string;
  /** Default agent command (argv). */
  readonly command: readonly string[];
  readonly maxRunners: number;
  readonly env: readonly EnvEntry[];
  /** Default launch estimate reserved in the project's budgets; `null`: none (0). */
  readonly estimateTokens: number | null;
  readonly estimateUsd: number | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly archivedAt: Date | null;
}

export function isProjectNameValid(name: string): boolean {
  return PROJECT_NAME_PATTERN.test(name);
}

/** Throws ValidationFailed naming the `name` field unless the project name rule holds. */
export function assertProjectName(name: string): void {
  if (!isProjectNameValid(name)) {
    throw RunnerException.validationFailed([
      {
        field: 'name',
        message: `expected a project name matching ${PROJECT_NAME_PATTERN.source}, got "${name}"`,
      },
    ]);
  }
}

/** The env as the API shows it: secret values become `null`. */
export function redactEnv(env: readonly EnvEntry[]): EnvEntryReply[] {
  return env.map((entry) => ({
    name: entry.name,
    value: entry.secret ? null : entry.value,
    secret: entry.secret,
  }));
}

/** The env as a process environment (name -> value), secrets included: for the launcher only. */
export function envToProcessEnv(env: readonly EnvEntry[]): Record<string, string> {
  return Object.fromEntries(env.map((entry) => [entry.name, entry.value]));
}

/**
 * The new env list of an update. An entry without `value` keeps the stored value of the same
 * name, which must exist: clients never see secret values, so they cannot send them back.
 */
export function applyEnvUpdate(
  current: readonly EnvEntry[],
  update: readonly EnvEntryInput[],
): EnvEntry[] {
  const stored = new Map(current.map((entry) => [entry.name, entry]));
  const issues: Array<{ field: string; message: string }> = [];
  const next = update.map((entry, index): EnvEntry => {
    if (entry.value !== undefined) {
      return { name: entry.name, value: entry.value, secret: entry.secret };
    }
    const previous = stored.get(entry.name);
    if (!previous) {
      issues.push({
        field: `env.${index}.value`,
        message: `expected a value: ${entry.name} has no stored value to keep`,
      });
      return { name: entry.name, value: '', secret: entry.secret };
    }
    return { name: entry.name, value: previous.value, secret: entry.secret };
  });
  if (issues.length > 0) throw RunnerException.validationFailed(issues);
  return next;
}

export function toProjectReply(project: Project): ProjectReply {
  return {
    id: project.id,
    name: project.name,
    path: project.path,
    description: project.description,
    command: [...project.command],
    maxRunners: project.maxRunners,
    env: redactEnv(project.env),
    createdAt: project.createdAt.toISOString(),
    updatedAt: project.updatedAt.toISOString(),
    archivedAt: project.archivedAt?.toISOString() ?? null,
    estimateTokens: project.estimateTokens,
    estimateUsd: project.estimateUsd,
  };
}
