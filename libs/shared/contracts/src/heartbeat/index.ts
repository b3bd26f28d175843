// Also the entry point `@stratavore/contracts/heartbeat`, which the agent imports so that it builds
// these schemas only, not every contract (docs/benchmarks.md, "launch"): keep it free of imports
// from the rest of the library.
export * from './heartbeat.schema';
