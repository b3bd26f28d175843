/** What can go wrong in the Claude Code accounting library. Parsing never throws: see below. */
export enum ClaudeCodeErrorCode {
  /** A pricing override failed validation; `details.issues` names every offending field. */
  InvalidPricingConfig = 'InvalidPricingConfig',
}

/** One field that failed validation, as a dotted path. */
export interface ClaudeCodeFieldIssue {
  readonly field: string;
  readonly message: string;
}

/**
 * The library's one exception. Bad transcript or stream-json lines are never thrown: they are
 * counted and reported by the readers, because one odd line must not stop the accounting.
 */
export class ClaudeCodeException extends Error {
  override readonly name = 'ClaudeCodeException';

  constructor(
    readonly code: ClaudeCodeErrorCode,
    message: string,
    readonly details?: Readonly<{ issues?: readonly ClaudeCodeFieldIssue[] }>,
  ) {
    super(message);
  }
}
