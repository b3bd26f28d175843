import { Flags } from '@oclif/core';
import { RUNNER_LIST_MAX_LIMIT, type RunnerReply, runnerStateSchema } from '@stratavore/contracts';

import { renderRunnersTable } from '../support/runner-views';
import { StratavoreCommand } from '../support/stratavore-command';

export default class Runners extends StratavoreCommand {
  static override description = 'List runners, newest first.';

  static override examples = [
    '<%= config.bin %> runners',
    '<%= config.bin %> runners --project web-app --state running',
    '<%= config.bin %> runners --state failed --json',
  ];

  static override flags = {
    project: Flags.string({ description: 'only this project', helpValue: 'PROJECT' }),
    state: Flags.string({
      description: 'only runners in this state (repeatable)',
      options: [...runnerStateSchema.options],
      multiple: true,
    }),
    limit: Flags.integer({
      description: `at most this many runners (pages of up to ${RUNNER_LIST_MAX_LIMIT} are fetched)`,
      default: 100,
      min: 1,
      helpValue: 'N',
    }),
  };

  async run(): Promise<RunnerReply[]> {
    const { flags } = await this.parse(Runners);
    const client = await this.client();
    const states = flags.state?.map((state) => runnerStateSchema.parse(state));
    const runners = await this.callApi('Fetching runners', async () => {
      const found: RunnerReply[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listRunners({
          project: flags.project,
          states,
          limit: Math.min(flags.limit - found.length, RUNNER_LIST_MAX_LIMIT),
          cursor,
        });
        found.push(...page.runners);
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined && found.length < flags.limit);
      return found;
    });
    if (runners.length === 0) {
      this.log('No runners match.');
      return runners;
    }
    this.log(renderRunnersTable(runners, this.paint, Date.now()));
    return runners;
  }
}
