/** Claude Code cuts project directory names longer than this and appends a hash of the path. */
const MAX_PROJECT_DIRECTORY_CHARS = 200;

/**
 * Claude Code's directory name for a project: the working directory with every character other
 * than a letter or a digit replaced by `-` (`/home/me/src/api` -> `-home-me-src-api`). A name
 * longer than 200 characters is cut to 200 and followed by `-` and a base-36 hash of the path
 * (observed with CLI 2.1.112, docs/claude-code.md).
 */
export function encodeProjectDirectory(cwd: string): string {
  const encoded = cwd.replace(/[^a-zA-Z0-9]/g, '-');
  if (encoded.length <= MAX_PROJECT_DIRECTORY_CHARS) return encoded;
  let hash = 0;
  for (let index = 0; index < cwd.length; index++) {
    hash = ((hash << 5) - hash + cwd.charCodeAt(index)) | 0;
  }
  return `${encoded.slice(0, MAX_PROJECT_DIRECTORY_CHARS)}-${Math.abs(hash).toString(36)}`;
}

/**
 * Where Claude Code writes a session's transcript, relative to its configuration directory
 * (`$CLAUDE_CONFIG_DIR`, default `~/.claude`): `projects/<encoded cwd>/<session id>.jsonl`.
 * Subagent transcripts go to `projects/<encoded cwd>/<session id>/subagents/agent-<id>.jsonl`.
 */
export function transcriptRelativePath(cwd: string, sessionId: string): string {
  return `projects/${encodeProjectDirectory(cwd)}/${sessionId}.jsonl`;
}
