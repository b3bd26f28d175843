import { setTimeout as delay } from 'node:timers/promises';

import { Flags } from '@oclif/core';
import { type StratavoreApiClient } from '@stratavore/api-client';
import { type RunnerReply } from '@stratavore/contracts';

import { ExitCode } from '../support/exit-codes';
import { renderRunnersTable } from '../support/runner-views';
import { StratavoreCommand } from '../support/stratavore-command';

type EventsState = 'connecting' | 'live' | 'offline';

export default class Watch extends StratavoreCommand {
  static override description =
    'Live table of runners (state, CPU, memory, tokens, heartbeat age), refreshed from the event stream and every --interval seconds. Ctrl-C quits.';

  static override examples = [
    '<%= config.bin %> watch',
    '<%= config.bin %> watch --project web-app --interval 2',
    '<%= config.bin %> watch --once --json',
  ];

  static override flags = {
    project: Flags.string({ description: 'only this project', helpValue: 'PROJECT' }),
    interval: Flags.integer({
      description: 'seconds between full refreshes',
      default: 5,
      min: 1,
      max: 3600,
    }),
    once: Flags.boolean({ description: 'print one frame and exit (for scripts)' }),
  };

  async run(): Promise<RunnerReply[]> {
    const { flags } = await this.parse(Watch);
    if (this.jsonEnabled() && !flags.once) {
      this.usageError('--json needs --once (a live table is for people)');
    }
    const client = await this.client();
    // The 100 newest, as before the API's default page became 50.
    const fetchRunners = async () =>
      (await client.listRunners({ project: flags.project, limit: 100 })).runners;

    if (flags.once) {
      const runners = await this.callApi('Fetching runners', fetchRunners);
      this.log(this.frame(runners, undefined));
      return runners;
    }
    return this.watchLive(client, fetchRunners, flags.interval * 1000);
  }

  private async watchLive(
    client: StratavoreApiClient,
    fetchRunners: () => Promise<RunnerReply[]>,
    intervalMs: number,
  ): Promise<RunnerReply[]> {
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);

    const tty = process.stdout.isTTY === true;
    let runners = await this.callApi('Fetching runners', fetchRunners);
    let events: EventsState = 'connecting';
    let problem: string | undefined;
    let linesDrawn = 0;

    const draw = () => {
      if (controller.signal.aborted) return;
      const status = problem ? this.paint('red', problem) : `events: ${events}`;
      const text = this.frame(runners, status);
      if (tty) {
        // Back to the top of the previous frame, clear it, draw the new one.
        const up = linesDrawn > 0 ? `\u001b[${linesDrawn}F\u001b[J` : '';
        process.stdout.write(`${up}${text}\n`);
      } else {
        process.stdout.write(`${text}\n\n`);
      }
      linesDrawn = text.split('\n').length;
    };

    let inFlight: Promise<void> | undefined;
    let again = false;
    const refresh = (): Promise<void> => {
      if (inFlight) {
        again = true;
        return inFlight;
      }
      inFlight = (async () => {
        do {
          again = false;
          try {
            runners = await fetchRunners();
            problem = undefined;
          } catch (error) {
            problem = `refresh failed: ${(error as Error).message}`;
          }
          draw();
        } while (again && !controller.signal.aborted);
      })().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    };

    const follow = async () => {
      while (!controller.signal.aborted) {
        try {
          for await (const event of client.streamEvents({ signal: controller.signal })) {
            if (events !== 'live') {
              events = 'live';
              draw();
            }
            if (event.type.startsWith('runner.') || event.type.startsWith('heartbeat')) {
              await refresh();
            }
          }
        } catch (error) {
          problem = `events: ${(error as Error).message}`;
        }
        if (controller.signal.aborted) return;
        events = 'offline';
        draw();
        await delay(intervalMs, undefined, { signal: controller.signal }).catch(() => undefined);
      }
    };

    if (tty) process.stdout.write('\u001b[?25l');
    draw();
    const timer = setInterval(() => void refresh(), intervalMs);
    const following = follow();
    try {
      await new Promise<void>((resolve) => {
        if (controller.signal.aborted) resolve();
        controller.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      clearInterval(timer);
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      await following;
      await inFlight;
      if (tty) process.stdout.write('\u001b[?25h');
    }
    process.exitCode = ExitCode.Ok;
    return runners;
  }

  private frame(runners: readonly RunnerReply[], status: string | undefined): string {
    const now = new Date();
    const head = [
      this.paint('bold', 'stratavore watch'),
      `${runners.length} runner${runners.length === 1 ? '' : 's'}`,
      `at ${now.toISOString().slice(11, 19)}Z`,
      ...(status ? [status, 'Ctrl-C to quit'] : []),
    ].join('  ·  ');
    const body =
      runners.length === 0 ? 'No runners.' : renderRunnersTable(runners, this.paint, now.getTime());
    return `${head}\n${body}`;
  }
}
