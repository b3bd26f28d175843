/** What went wrong in the agent before it could supervise its child. */
export enum AgentErrorCode {
  /** A command-line flag is unknown, lacks its value or has a bad value. */
  InvalidUsage = 'InvalidUsage',
  /** The command could not be started (not found, not executable, bad cwd). */
  SpawnFailed = 'SpawnFailed',
}

/** The agent's one exception type. */
export class AgentException extends Error {
  override readonly name = 'AgentException';

  constructor(
    readonly code: AgentErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
