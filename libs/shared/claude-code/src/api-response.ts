import { type TokenUsage } from './token-usage';

/**
 * One copy of one API response's usage, as read from a transcript line or a stream-json
 * `assistant` event. Claude Code writes a response as several lines (one per content block),
 * and the same response again in a resumed or forked session's file, so the ledger receives
 * many copies of one response and must count it once.
 */
export interface ApiResponseCopy {
  /** `message.id` (`msg_...`): the response's identity. */
  readonly messageId: string | null;
  /** `requestId` (`req_...`) of transcripts; stream-json events carry none. */
  readonly requestId: string | null;
  /** `message.model`. */
  readonly model: string | null;
  readonly usage: TokenUsage;
  /** From a subagent: `isSidechain` in transcripts, a `parent_tool_use_id` in stream-json. */
  readonly sidechain: boolean;
  /** The subagent's id (`agentId` of its transcript lines). */
  readonly agentId: string | null;
  /** Claude's session id; subagent files share their parent's. */
  readonly sessionId: string | null;
  readonly timestamp: string | null;
  /** The line's own `uuid`: the identity of a copy that has no `message.id`. */
  readonly lineId: string | null;
}

/** Claude Code's model name for messages it makes up itself (API errors, interruptions). */
export const SYNTHETIC_MODEL = '<synthetic>';

/** The model key of usage whose model is not known. */
export const UNKNOWN_MODEL = '<unknown>';
