import { resolve } from 'node:path';

import { Args, Flags } from '@oclif/core';
import { type ProjectReply } from '@stratavore/contracts';

import { tokensFlag, usdFlag } from '../support/budget-flags';
import { commandFlag, envFlag, maxRunnersFlag, secretEnvFlag } from '../support/flag-parsers';
import { describeProject } from '../support/runner-views';
import { StratavoreCommand } from '../support/stratavore-command';

export default class New extends StratavoreCommand {
  static override description =
    'Create a project: a directory, the agent command its runners run, and how many may run at once.';

  static override examples = [
    '<%= config.bin %> new web-app',
    '<%= config.bin %> new web-app --path ~/src/web-app --max-runners 3',
    '<%= config.bin %> new api --command "claude --verbose" --env NODE_ENV=test --secret-env TOKEN=abc',
    '<%= config.bin %> new api --estimate-tokens 200k --estimate-usd 2',
  ];

  static override args = {
    project: Args.string({
      description: 'project name (lowercase letters, digits, dashes)',
      required: true,
    }),
  };

  static override flags = {
    path: Flags.string({
      description: 'project directory (default: the current directory)',
      helpValue: 'DIR',
    }),
    'max-runners': maxRunnersFlag({
      description: 'concurrent runners allowed (1..1000, default 1)',
    }),
    command: commandFlag({ description: 'agent command (default: claude)' }),
    env: envFlag({ description: 'environment variable for runners (repeatable)' }),
    'secret-env': secretEnvFlag({
      description: 'secret variable: stored, never shown (repeatable)',
    }),
    description: Flags.string({ description: 'what the project is for' }),
    'estimate-tokens': tokensFlag({
      description: "tokens each launch reserves in the project's budgets (default 0)",
    }),
    'estimate-usd': usdFlag({
      description: "USD each launch reserves in the project's budgets (default 0)",
    }),
  };

  async run(): Promise<ProjectReply> {
    const { args, flags } = await this.parse(New);
    const client = await this.client();
    const project = await this.callApi(`Creating ${args.project}`, () =>
      client.createProject({
        name: args.project,
        path: resolve(flags.path ?? process.cwd()),
        description: flags.description,
        command: flags.command,
        maxRunners: flags['max-runners'],
        env: [...(flags.env ?? []), ...(flags['secret-env'] ?? [])],
        estimateTokens: flags['estimate-tokens'],
        estimateUsd: flags['estimate-usd'],
      }),
    );
    this.log(`Created project ${this.paint('bold', project.name)}`);
    this.log(describeProject(project, this.paint));
    return project;
  }
}
