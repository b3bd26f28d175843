import { Flags } from '@oclif/core';
import { type WorktreeReply } from '@stratavore/contracts';

import { StratavoreCommand } from '../../support/stratavore-command';
import { renderWorktreesTable, statusNotes } from '../../support/worktree-views';

export default class Worktrees extends StratavoreCommand {
  static override description =
    "List the git worktrees of runners launched with --worktree, oldest first: the runner and its state, project, branch, whether the tree has uncommitted changes, how many commits the branch is ahead of its base (and how many of them the project's HEAD does not have), when it was made, and its path. A worktree stays after its runner ended until `worktrees rm`.";

  static override examples = [
    '<%= config.bin %> worktrees',
    '<%= config.bin %> worktrees --project web-app --json',
    '<%= config.bin %> worktrees --all',
  ];

  static override flags = {
    project: Flags.string({ description: 'only this project', helpValue: 'PROJECT' }),
    all: Flags.boolean({ description: 'also the worktrees already removed' }),
  };

  async run(): Promise<WorktreeReply[]> {
    const { flags } = await this.parse(Worktrees);
    const client = await this.client();
    const { worktrees } = await this.callApi('Fetching worktrees', () =>
      client.listWorktrees({ project: flags.project, includeRemoved: flags.all === true }),
    );
    if (worktrees.length === 0) {
      this.log('No worktrees.');
      return worktrees;
    }
    this.log(renderWorktreesTable(worktrees, this.paint, Date.now()));
    for (const note of statusNotes(worktrees)) this.log(this.paint('dim', `? ${note}`));
    return worktrees;
  }
}
