import { setTimeout as delay } from 'node:timers/promises';

import { Args, Flags } from '@oclif/core';
import { ApiError, NetworkError, type StratavoreApiClient } from '@stratavore/api-client';
import {
  RUNNER_LOG_MAX_LIMIT_BYTES,
  RUNNER_LOG_MAX_TAIL_LINES,
  type RunnerLogsReply,
} from '@stratavore/contracts';
import { z } from 'zod';

import { describeApiError, ExitCode, exitCodeFor } from '../support/exit-codes';
import { StratavoreCommand } from '../support/stratavore-command';

const runnerIdSchema = z.uuid();

/** Idle polls back off up to this (or the poll interval, when that is longer). */
const MAX_IDLE_POLL_MS = 2_000;

interface LogsJson {
  readonly runnerId: string;
  readonly content: string;
  readonly nextOffset: number;
  readonly ended: boolean;
}

export default class Logs extends StratavoreCommand {
  static override description =
    "Print a runner's output (its command's stdout and stderr). --follow keeps printing until the runner ends, then exits 0; Ctrl-C stops following.";

  static override examples = [
    '<%= config.bin %> logs 0b6c7a44-5d7e-4a54-9a3f-1f0c3a3e2b10',
    '<%= config.bin %> logs 0b6c7a44-5d7e-4a54-9a3f-1f0c3a3e2b10 --follow',
    '<%= config.bin %> logs 0b6c7a44-5d7e-4a54-9a3f-1f0c3a3e2b10 --tail 50 --follow',
    '<%= config.bin %> logs 0b6c7a44-5d7e-4a54-9a3f-1f0c3a3e2b10 --json',
  ];

  static override args = {
    'runner-id': Args.string({ description: 'runner id (uuid)', required: true }),
  };

  static override flags = {
    follow: Flags.boolean({
      char: 'f',
      description: 'keep printing new output until the runner ends',
    }),
    tail: Flags.integer({
      description: 'start with the last N lines instead of the whole log',
      helpValue: 'N',
      min: 0,
      max: RUNNER_LOG_MAX_TAIL_LINES,
    }),
    'poll-interval': Flags.integer({
      description: 'milliseconds between polls while following (idle polls back off)',
      default: 500,
      min: 10,
      max: 60_000,
      hidden: true,
    }),
  };

  async run(): Promise<LogsJson> {
    const { args, flags } = await this.parse(Logs);
    const id = args['runner-id'];
    if (!runnerIdSchema.safeParse(id).success) {
      this.usageError(`RUNNER-ID must be a runner id (uuid), got "${id}"`);
    }
    const client = await this.client();
    const json = this.jsonEnabled();
    let collected = '';
    let printedAny = false;
    const print = (text: string) => {
      if (text === '') return;
      printedAny = true;
      if (json) collected += text;
      else process.stdout.write(text);
    };

    let reply = await this.callApi(`Reading the log of ${id}`, () =>
      client.runnerLogs(id, {
        limit: RUNNER_LOG_MAX_LIMIT_BYTES,
        ...(flags.tail === undefined ? {} : { tail: flags.tail }),
      }),
    );
    print(reply.content);
    // Everything the log held at the first read, in windows.
    const target = reply.size;
    while (!reply.ended && reply.nextOffset < target) {
      const offset = reply.nextOffset;
      reply = await this.callApi(`Reading the log of ${id}`, () =>
        client.runnerLogs(id, { offset, limit: RUNNER_LOG_MAX_LIMIT_BYTES }),
      );
      print(reply.content);
      if (reply.nextOffset === offset) break;
    }

    if (flags.follow && !reply.ended) {
      reply = await this.follow(client, id, reply, flags['poll-interval'], print);
    }
    if (!json) {
      if (reply.ended) {
        this.logToStderr(`-- runner ${id} ended (${reply.runnerState})`);
      } else if (!printedAny && !flags.follow) {
        this.logToStderr(`-- no output yet (runner ${id} is ${reply.runnerState})`);
      }
    }
    process.exitCode = ExitCode.Ok;
    return { runnerId: id, content: collected, nextOffset: reply.nextOffset, ended: reply.ended };
  }

  /**
   * Polls from `nextOffset` until the runner ended and everything was read, or Ctrl-C. A poll
   * that brought nothing doubles the wait (up to 2 s); a server that is briefly away (restart,
   * 5xx) is polled again rather than given up on.
   */
  private async follow(
    client: StratavoreApiClient,
    id: string,
    last: RunnerLogsReply,
    pollMs: number,
    print: (text: string) => void,
  ): Promise<RunnerLogsReply> {
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    let reply = last;
    let wait = pollMs;
    let warned = false;
    try {
      while (!controller.signal.aborted) {
        await delay(wait, undefined, { signal: controller.signal }).catch(() => undefined);
        if (controller.signal.aborted) break;
        const offset = reply.nextOffset;
        try {
          reply = await client.runnerLogs(id, { offset, limit: RUNNER_LOG_MAX_LIMIT_BYTES });
        } catch (error) {
          if (!(error instanceof ApiError || error instanceof NetworkError)) throw error;
          if (error instanceof ApiError && !error.retryable) {
            this.error(describeApiError(error), { exit: exitCodeFor(error), code: error.code });
          }
          if (!warned) this.logToStderr(`-- ${error.message}; still trying`);
          warned = true;
          wait = idle(wait, pollMs);
          continue;
        }
        warned = false;
        print(reply.content);
        if (reply.ended) break;
        if (reply.nextOffset < reply.size) wait = 0;
        else wait = reply.nextOffset > offset ? pollMs : idle(wait, pollMs);
      }
    } finally {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
    }
    return reply;
  }
}

function idle(wait: number, pollMs: number): number {
  return Math.max(pollMs, Math.min(Math.max(wait, 1) * 2, MAX_IDLE_POLL_MS));
}
