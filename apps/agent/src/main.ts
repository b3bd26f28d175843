// First: every module after this one compiles with the V8 code cache (compile-cache.ts).
import './install-compile-cache';

import {
  AGENT_USAGE,
  AgentErrorCode,
  AgentException,
  loadAgentConfig,
  parseAgentArgs,
  runAgent,
} from '@stratavore/agent';
import { ConfigError } from '@stratavore/config';
import { createLogger } from '@stratavore/logging';

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
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return EXIT_CONFIG;
    }
    throw error;
  }

  // stderr: the child's output goes to its log file, the agent's own lines to the launcher.
  const logger = createLogger({
    level: config.STRATAVORE_AGENT_LOG_LEVEL,
    service: 'stratavore-agent',
    destination: process.stderr,
  }).child({ runnerId: config.STRATAVORE_RUNNER_ID });

  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'agent asked to stop');
    stop.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const outcome = await runAgent({ args: parsed, config, logger, stopSignal: stop.signal });
  logger.info({ exitCode: outcome.exitCode, finalReport: outcome.finalReport }, 'agent done');
  return outcome.exitCode;
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
