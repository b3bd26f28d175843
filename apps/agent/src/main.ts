// First: every module after this one compiles with the V8 code cache (compile-cache.ts).
import './install-compile-cache';

// The light entry point: no Claude Code adapter, no zod before the first heartbeat.
import {
  AGENT_USAGE,
  AgentErrorCode,
  AgentException,
  deferredPinoLogger,
  isConfigError,
  loadAgentConfig,
  parseAgentArgs,
  runAgent,
} from '@stratavore/agent/detached';

const EXIT_USAGE = 2;
const EXIT_CONFIG = 78; // EX_CONFIG

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseAgentArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof AgentException && error.code === AgentErrorCode.InvalidUsage) {
      process.stderr.write(`stratavore-agent: ${error.message}\n\n${AGENT_USAGE}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(`${AGENT_USAGE}\n`);
    return 0;
  }

  let config;
  try {
    config = loadAgentConfig(process.env);
  } catch (error) {
    if (isConfigError(error)) {
      process.stderr.write(`${error.message}\n`);
      return EXIT_CONFIG;
    }
    throw error;
  }

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

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `stratavore-agent: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
