import { Flags } from '@oclif/core';
import { type RunnerReply, runnerStateSchema } from '@stratavore/contracts';

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
  };

  async run(): Promise<RunnerReply[]> {
    const { flags } = await this.parse(Runners);
    const client = await this.client();
    const { runners } = await this.callApi('Fetching runners', () =>
      client.listRunners({
        project: flags.project,
        states: flags.state?.map((state) => runnerStateSchema.parse(state)),
      }),
    );
    if (runners.length === 0) {
      this.log('No runners match.');
      return runners;
    }
    this.log(renderRunnersTable(runners, this.paint, Date.now()));
    return runners;
  }
}
