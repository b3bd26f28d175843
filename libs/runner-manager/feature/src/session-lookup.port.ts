/** What runner-manager needs of a session to resume it (session-store's `sessions.get`). */
export interface SessionToResume {
  /** Claude Code's session id. */
  readonly id: string;
  readonly projectId: string;
  /** The working directory Claude Code reported; `null`: unknown (the project's path is used). */
  readonly cwd: string | null;
}

export type SessionLookupOutcome =
  | { readonly status: 'found'; readonly session: SessionToResume }
  | { readonly status: 'not-found' }
  | { readonly status: 'unavailable'; readonly reason: string };

/** Finds a session in session-store; never throws. */
export interface SessionLookup {
  find(sessionId: string, ctx: { readonly correlationId: string }): Promise<SessionLookupOutcome>;
}
