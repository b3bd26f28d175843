// `@stratavore/api-client/heartbeat`: what the agent needs to report, without the rest of the
// client and the contracts it validates (docs/benchmarks.md, "launch").
export * from '../api-client.errors';
export * from './heartbeat-client';
export * from './http-heartbeat-client';
