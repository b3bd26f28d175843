import { type z } from 'zod';

import { ConfigError, type ConfigProblem } from './config.error';

/** Variables whose values are never printed in an error message. */
const SECRET_NAME = /SECRET|KEY|PASSWORD|TOKEN/i;
const MAX_SHOWN_LENGTH = 80;

export type Environment = Readonly<Record<string, string | undefined>>;

export interface LoadConfigOptions {
  /** Names the application in the error message (`Invalid configuration for <app>`). */
  readonly app: string;
}

/**
 * Validates the environment against `schema` once, at boot, and returns the typed result.
 * `schema` is usually a `z.object` (for instance `commonConfigSchema.extend({...})`); any zod
 * schema over the environment object works, which lets cross-variable rules run too.
 *
 * @throws ConfigError listing every problem at once, one line per variable: the variable, what
 * was expected and what was given (values of variables named like SECRET, KEY, PASSWORD or
 * TOKEN are shown as `(hidden)`).
 */
export function loadConfig<S extends z.ZodType<unknown, Record<string, unknown>>>(
  schema: S,
  env: Environment = process.env,
  options: LoadConfigOptions = { app: 'stratavore' },
): z.output<S> {
  const result = schema.safeParse({ ...env }, { error: describeIssue });
  if (result.success) return result.data;
  throw new ConfigError(options.app, collectProblems(result.error.issues, env));
}

function collectProblems(issues: readonly z.core.$ZodIssue[], env: Environment): ConfigProblem[] {
  const byVariable = new Map<string, string[]>();
  for (const issue of issues) {
    const variable = issue.path.length > 0 ? String(issue.path[0]) : '(config)';
    const messages = byVariable.get(variable) ?? [];
    if (!messages.includes(issue.message)) messages.push(issue.message);
    byVariable.set(variable, messages);
  }
  return [...byVariable].map(([variable, messages]) => ({
    variable,
    expected: messages.join('; '),
    given: variable === '(config)' ? '(several variables)' : showValue(variable, env[variable]),
  }));
}

function showValue(variable: string, value: string | undefined): string {
  if (value === undefined) return '(not set)';
  if (SECRET_NAME.test(variable)) return '(hidden)';
  const shown = value.length > MAX_SHOWN_LENGTH ? `${value.slice(0, MAX_SHOWN_LENGTH)}…` : value;
  return JSON.stringify(shown);
}

/** Turns zod's generic messages into `expected ...` phrases; builder messages pass through. */
function describeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.input === undefined && issue.code === 'invalid_type')
    return 'expected a value (required)';
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'too_small':
      return issue.origin === 'string'
        ? `expected at least ${String(issue.minimum)} characters`
        : `expected at least ${String(issue.minimum)}`;
    case 'too_big':
      return issue.origin === 'string'
        ? `expected at most ${String(issue.maximum)} characters`
        : `expected at most ${String(issue.maximum)}`;
    case 'invalid_format':
      return `expected ${issue.format === 'regex' ? 'the documented format' : `a valid ${issue.format}`}`;
    default:
      return undefined;
  }
}
