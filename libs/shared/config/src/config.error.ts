/** One invalid or missing environment variable. */
export interface ConfigProblem {
  /** The variable's name, or `(config)` for a rule that spans several variables. */
  readonly variable: string;
  /** What the variable must hold, e.g. `expected an integer between 1 and 65535`. */
  readonly expected: string;
  /** What was given, already safe to print: the value quoted, `(hidden)` or `(not set)`. */
  readonly given: string;
}

/**
 * Thrown by `loadConfig` when the environment does not satisfy the schema. The message lists
 * every problem at once, one line per variable, so an operator fixes them in one go.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    readonly app: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(
      [
        `Invalid configuration for ${app} (${problems.length} problem${problems.length === 1 ? '' : 's'}):`,
        ...problems.map((p) => `  - ${p.variable}: ${p.expected}; given ${p.given}`),
      ].join('\n'),
    );
  }
}
