import { Flags } from '@oclif/core';
import { type ProjectReply } from '@stratavore/contracts';

import { StratavoreCommand } from '../../support/stratavore-command';
import { renderTable } from '../../support/terminal-output';

export default class Projects extends StratavoreCommand {
  static override description = 'List projects.';

  static override examples = [
    '<%= config.bin %> projects',
    '<%= config.bin %> projects --archived --json',
  ];

  static override flags = {
    archived: Flags.boolean({ description: 'include archived projects' }),
  };

  async run(): Promise<ProjectReply[]> {
    const { flags } = await this.parse(Projects);
    const client = await this.client();
    const { projects } = await this.callApi('Fetching projects', () =>
      client.listProjects({ includeArchived: flags.archived }),
    );
    if (projects.length === 0) {
      this.log('No projects yet: create one with `stratavore new <project>`.');
      return projects;
    }
    const paint = this.paint;
    this.log(
      renderTable<ProjectReply>(
        [
          { header: 'NAME', value: (p) => (p.archivedAt ? paint('dim', p.name) : p.name) },
          { header: 'MAX', value: (p) => String(p.maxRunners), align: 'right' },
          { header: 'COMMAND', value: (p) => p.command.join(' '), maxWidth: 30 },
          { header: 'PATH', value: (p) => p.path },
          { header: 'DESCRIPTION', value: (p) => p.description, maxWidth: 40 },
        ],
        projects,
        paint,
      ),
    );
    return projects;
  }
}
