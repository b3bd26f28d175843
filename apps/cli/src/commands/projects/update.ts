import { resolve } from 'node:path';

import { Args, Flags } from '@oclif/core';
import { type UpdateProjectInput } from '@stratavore/api-client';
import { type ProjectReply } from '@stratavore/contracts';

import { tokensOrNoneFlag, usdOrNoneFlag } from '../../support/budget-flags';
import { commandFlag, envFlag, maxRunnersFlag, secretEnvFlag } from '../../support/flag-parsers';
import { describeProject } from '../../support/runner-views';
import { StratavoreCommand } from '../../support/stratavore-command';

export default class ProjectsUpdate extends StratavoreCommand {
  static override description =
    'Change a project. --env/--secret-env replace the whole variable list.';

  static override examples = [
    '<%= config.bin %> projects update web-app --max-runners 4',
    '<%= config.bin %> projects update web-app --rename web --description "the shop"',
    '<%= config.bin %> projects update web-app --estimate-tokens 300k --estimate-usd none',
  ];

  static override args = {
    name: Args.string({ description: 'project name', required: true }),
  };

  static override flags = {
    rename: Flags.string({ description: 'new project name', helpValue: 'NAME' }),
    path: Flags.string({ description: 'new project directory', helpValue: 'DIR' }),
    'max-runners': maxRunnersFlag({ description: 'concurrent runners allowed (1..1000)' }),
    command: commandFlag({ description: 'new agent command' }),
    env: envFlag({ description: 'environment variable (repeatable; replaces the list)' }),
    'secret-env': secretEnvFlag({ description: 'secret variable (repeatable; replaces the list)' }),
    description: Flags.string({ description: 'new description' }),
    'estimate-tokens': tokensOrNoneFlag({
      description: 'tokens each launch reserves in the budgets (none clears)',
    }),
    'estimate-usd': usdOrNoneFlag({
      description: 'USD each launch reserves in the budgets (none clears)',
    }),
  };

  async run(): Promise<ProjectReply> {
    const { args, flags } = await this.parse(ProjectsUpdate);
    const changes: UpdateProjectInput = {
      name: flags.rename,
      path: flags.path === undefined ? undefined : resolve(flags.path),
      description: flags.description,
      command: flags.command,
      maxRunners: flags['max-runners'],
      env:
        flags.env || flags['secret-env']
          ? [...(flags.env ?? []), ...(flags['secret-env'] ?? [])]
          : undefined,
      estimateTokens: flags['estimate-tokens'],
      estimateUsd: flags['estimate-usd'],
    };
    if (Object.values(changes).every((value) => value === undefined)) {
      this.usageError(
        'Nothing to change: give at least one of --rename, --path, --max-runners, --command, --env, --secret-env, --description, --estimate-tokens, --estimate-usd',
      );
    }
    const client = await this.client();
    const project = await this.callApi(`Updating ${args.name}`, () =>
      client.updateProject(args.name, changes),
    );
    this.log(`Updated project ${this.paint('bold', project.name)}`);
    this.log(describeProject(project, this.paint));
    return project;
  }
}
