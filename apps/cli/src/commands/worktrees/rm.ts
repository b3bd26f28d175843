import { Args, Flags } from '@oclif/core';
import { type WorktreeReply } from '@stratavore/contracts';

import { StratavoreCommand } from '../../support/stratavore-command';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export default class WorktreesRm extends StratavoreCommand {
  static override description =
    "Remove the git worktree made for a runner, and its branch stratavore/<runner-id>. Refused (exit 4) while a runner works in it, and when it has uncommitted changes or commits the project's HEAD does not have, unless --force; exit 3 when the runner has no worktree.";

  static override examples = [
    '<%= config.bin %> worktrees rm 0b6c7a44-5d7e-4a54-9a3f-1f0c3a3e2b10',
    '<%= config.bin %> worktrees rm 0b6c7a44-5d7e-4a54-9a3f-1f0c3a3e2b10 --force',
  ];

  static override args = {
    'runner-id': Args.string({
      description: 'the runner the worktree was made for (see `stratavore worktrees`)',
      required: true,
    }),
  };

  static override flags = {
    force: Flags.boolean({
      description: 'remove it even with uncommitted changes or unmerged commits (they are lost)',
    }),
  };

  async run(): Promise<WorktreeReply> {
    const { args, flags } = await this.parse(WorktreesRm);
    const runnerId = args['runner-id'].trim();
    if (!UUID.test(runnerId)) {
      this.usageError(`RUNNER-ID must be a runner id (a uuid), got "${runnerId}"`);
    }
    const client = await this.client();
    const { removed } = await this.callApi(`Removing the worktree of runner ${runnerId}`, () =>
      client.removeWorktree(runnerId, { force: flags.force === true }),
    );
    this.log(`Removed the worktree ${removed.path} and its branch ${removed.branch}.`);
    return removed;
  }
}
