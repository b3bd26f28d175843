import { type HeartbeatAnswer, type HeartbeatRequest } from '@stratavore/contracts/heartbeat';

/** The one call the agent makes. */
export interface HeartbeatClient {
  /**
   * Reports the runner's state.
   *
   * @throws NetworkError when heartbeat-ingest could not be reached or did not answer in time.
   * @throws ApiError for any other answer than `200` (`401`, `403`, `409`, `400`, `5xx`).
   */
  sendHeartbeat(body: HeartbeatRequest): Promise<HeartbeatAnswer>;
}
