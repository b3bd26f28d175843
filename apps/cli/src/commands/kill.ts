import { Args, Flags } from '@oclif/core';
import { type RunnerReply } from '@stratavore/contracts';
import { z } from 'zod';

import { StratavoreCommand } from '../support/stratavore-command';

const runnerIdSchema = z.uuid();

export default class Kill extends StratavoreCommand {
  static override description =
    'Stop a runner: SIGTERM to its agent, SIGKILL after the grace period; --force kills at once.';

  static override examples = [
    '<%= config.bin %> kill 0b6c7a44-5d7e-4a54-9a3f-1f0c3a3e2b10',
    '<%= config.bin %> kill 0b6c7a44-5d7e-4a54-9a3f-1f0c3a3e2b10 --force',
  ];

  static override args = {
    'runner-id': Args.string({ description: 'runner id (uuid)', required: true }),
  };

  static override flags = {
    force: Flags.boolean({ description: 'SIGKILL instead of SIGTERM' }),
  };

  async run(): Promise<RunnerReply> {
    const { args, flags } = await this.parse(Kill);
    const id = args['runner-id'];
    if (!runnerIdSchema.safeParse(id).success) {
      this.usageError(`RUNNER-ID must be a runner id (uuid), got "${id}"`);
    }
    const client = await this.client();
    const runner = await this.callApi(`Stopping ${id}`, () =>
      client.stopRunner(id, { force: flags.force }),
    );
    this.log(`${flags.force ? 'Killing' : 'Stopping'} runner ${runner.id} (${runner.state})`);
    return runner;
  }
}
