import { type HeartbeatAnswer, heartbeatAnswerSchema } from '@stratavore/contracts/heartbeat';

import { errorFromAnswer, successBody } from '../json-request';

/**
 * How `HttpHeartbeatClient` reads an answer other than the usual 200 (see `usualAnswer` there):
 * as `StratavoreApiClient` reads it, with the zod schemas. The client loads this module only
 * then, so the agent's first heartbeat goes without zod (docs/benchmarks.md, "launch").
 *
 * @throws ApiError for any answer that is not a `2xx` with a valid body.
 */
export function readHeartbeatAnswer(path: string, status: number, text: string): HeartbeatAnswer {
  if (status < 200 || status > 299) throw errorFromAnswer(status, text);
  return successBody({ method: 'POST', path, schema: heartbeatAnswerSchema }, status, text);
}
