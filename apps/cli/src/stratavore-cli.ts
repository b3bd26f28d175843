import { Config, flush, handle, type Interfaces, run, settings } from '@oclif/core';

/**
 * What oclif would read from the CLI's package.json. The workspace's package.json is shared,
 * so the CLI hands oclif this one: commands come from the explicit list in `commands.ts`.
 */
export const CLI_PJSON: Interfaces.PJSON = {
  name: 'stratavore',
  version: '0.1.0',
  description: 'Control plane for fleets of AI coding agents',
  oclif: {
    bin: 'stratavore',
    dirname: 'stratavore',
    topicSeparator: ' ',
    commands: { strategy: 'explicit', target: './commands', identifier: 'COMMANDS' },
    topics: {
      config: { description: 'Show and change the CLI settings.' },
      projects: { description: 'List, show, update and archive projects.' },
      budgets: { description: 'List, set and remove token and USD budgets; their consumption.' },
      worktrees: { description: 'List and remove the git worktrees of runners.' },
      keys: { description: 'List, create and revoke API keys; generate one offline.' },
    },
    // Everything the user typed wrong exits 2; commands choose 1, 3 or 4 themselves.
    exitCodes: {
      default: 2,
      failedFlagParsing: 2,
      failedFlagValidation: 2,
      invalidArgsSpec: 2,
      nonExistentFlag: 2,
      requiredArgs: 2,
      unexpectedArgs: 2,
      violatedFlagConstraint: 2,
    },
  },
};

/** Loads the oclif configuration rooted at this directory (src in tests, dist when built). */
export function loadCliConfig(): Promise<Config> {
  // Commands are compiled JavaScript (or transformed by Jest); never ts-node.
  settings.enableAutoTranspile = false;
  return Config.load({ root: __dirname, pjson: structuredClone(CLI_PJSON) });
}

/** Runs the CLI as `stratavore <argv...>`; resolves when output is flushed. */
export async function runCli(argv: string[]): Promise<void> {
  try {
    await run(argv, await loadCliConfig());
    await flush();
  } catch (error) {
    await handle(error as Error);
  }
}
