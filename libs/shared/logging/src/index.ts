// Kept free of NestJS and of anything heavy to load: the agent imports it on its way to its first
// heartbeat (docs/benchmarks.md, "launch"). @stratavore/observability re-exports it for services.
export * from './correlation';
export * from './logger';
