// First: every module after this one compiles with the V8 code cache (compile-cache.ts).
import './install-compile-cache';

// The light entry point: no Claude Code adapter, no zod before the first heartbeat.
import { deferredPinoLogger, runAgent } from '@stratavore/agent/detached';

import { exitWith, startAgent } from './agent-start';

async function main(): Promise<number> {
  const start = startAgent(process.argv.slice(2), process.env);
  if (start.kind === 'exit') return start.code;
  const { args: parsed, config } = start;

  // stderr: the child's output goes to its log file, the agent's own lines to the launcher.
  // pino is loaded after the first heartbeat (DeferredLogger); the lines before it keep their time.
  const logger = deferredPinoLogger({
    level: config.STRATAVORE_AGENT_LOG_LEVEL,
    runnerId: config.STRATAVORE_RUNNER_ID,
    destination: process.stderr,
  });

  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'agent asked to stop');
    stop.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    const outcome = await runAgent({
      args: parsed,
      config,
      logger,
      stopSignal: stop.signal,
      onFirstHeartbeat: () => logger.start(),
    });
    logger.info({ exitCode: outcome.exitCode, finalReport: outcome.finalReport }, 'agent done');
    return outcome.exitCode;
  } finally {
    // Every line is written before the agent exits, with or without a heartbeat.
    logger.start();
  }
}

exitWith(main);
