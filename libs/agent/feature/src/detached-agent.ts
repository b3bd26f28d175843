// `@stratavore/agent/detached`: what the detached agent's `main.ts` needs, without the rest of the
// library (the Claude Code adapter, the interactive agent), so that its first heartbeat leaves
// with as little loaded as possible (docs/benchmarks.md, "launch"). Keep it to these modules:
// `apps/agent/src/start-up-footprint.spec.ts` fails if zod, or a heavy entry point, is loaded.
export * from './agent.exception';
export * from './agent-args';
export * from './agent-config';
export * from './deferred-logger';
export * from './run-agent';
