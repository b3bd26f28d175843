import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { runInteractiveAgent } from '@stratavore/agent';
import { createLogger } from '@stratavore/logging';

import { exitWith, startAgent } from './agent-start';

/**
 * `stratavore-agent` for an attached runner (`stratavore run`): the same arguments and
 * environment as the detached agent (`main.ts`), but the command runs in the terminal the agent
 * was started in. The terminal belongs to the command: the agent's own lines go to
 * `<STRATAVORE_LOG_DIR>/<runner-id>.agent.log`, the terminal's Ctrl-C and Ctrl-\ are the
 * command's (the agent ignores SIGINT and SIGQUIT), SIGTERM stops the command, and a closed
 * terminal (SIGHUP, which reaches the command too) is reported when the command has ended.
 */
async function main(): Promise<number> {
  const start = startAgent(process.argv.slice(2), process.env);
  if (start.kind === 'exit') return start.code;
  const { args: parsed, config } = start;

  mkdirSync(config.STRATAVORE_LOG_DIR, { recursive: true });
  const logFile = join(config.STRATAVORE_LOG_DIR, `${config.STRATAVORE_RUNNER_ID}.agent.log`);
  const logger = createLogger({
    level: config.STRATAVORE_AGENT_LOG_LEVEL,
    service: 'stratavore-agent',
    destination: createWriteStream(logFile, { flags: 'a' }),
  }).child({ runnerId: config.STRATAVORE_RUNNER_ID, interactive: true });

  const stop = new AbortController();
  process.on('SIGTERM', () => {
    logger.info({ signal: 'SIGTERM' }, 'agent asked to stop');
    stop.abort();
  });
  for (const signal of ['SIGINT', 'SIGQUIT'] as const) {
    process.on(signal, () => logger.info({ signal }, "the terminal's signal is the command's"));
  }
  process.on('SIGHUP', () => logger.info({ signal: 'SIGHUP' }, 'the terminal was closed'));

  const outcome = await runInteractiveAgent({
    args: parsed,
    config,
    logger,
    stopSignal: stop.signal,
  });
  logger.info({ exitCode: outcome.exitCode, finalReport: outcome.finalReport }, 'agent done');
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
  return outcome.exitCode;
}

exitWith(main);
