import { Args } from '@oclif/core';
import { type ProjectReply } from '@stratavore/contracts';

import { describeProject } from '../../support/runner-views';
import { StratavoreCommand } from '../../support/stratavore-command';

export default class ProjectsShow extends StratavoreCommand {
  static override description = 'Show one project; secret variables are never shown.';

  static override examples = ['<%= config.bin %> projects show web-app'];

  static override args = {
    name: Args.string({ description: 'project name', required: true }),
  };

  async run(): Promise<ProjectReply> {
    const { args } = await this.parse(ProjectsShow);
    const client = await this.client();
    const project = await this.callApi(`Fetching ${args.name}`, () => client.getProject(args.name));
    this.log(describeProject(project, this.paint));
    return project;
  }
}
