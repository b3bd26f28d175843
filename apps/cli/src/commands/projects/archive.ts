import { Args } from '@oclif/core';
import { type ProjectReply } from '@stratavore/contracts';

import { StratavoreCommand } from '../../support/stratavore-command';

export default class ProjectsArchive extends StratavoreCommand {
  static override description =
    'Archive a project: no more launches; refused (exit 4) while runners are active.';

  static override examples = ['<%= config.bin %> projects archive web-app'];

  static override args = {
    name: Args.string({ description: 'project name', required: true }),
  };

  async run(): Promise<ProjectReply> {
    const { args } = await this.parse(ProjectsArchive);
    const client = await this.client();
    const project = await this.callApi(`Archiving ${args.name}`, () =>
      client.archiveProject(args.name),
    );
    this.log(`Archived project ${project.name}`);
    return project;
  }
}
