import { Flags } from '@oclif/core';
import { SESSIONS_MAX_LIMIT } from '@stratavore/contracts';

import { renderSessionsTable, sessionJson } from '../../support/session-views';
import { StratavoreCommand } from '../../support/stratavore-command';
import { parseSince } from '../../support/time-flags';

export default class Sessions extends StratavoreCommand {
  static override description =
    'List Claude Code sessions, newest activity first: tokens, cost, turns and state.';

  static override examples = [
    '<%= config.bin %> sessions',
    '<%= config.bin %> sessions --project web-app --since 7d',
    '<%= config.bin %> sessions --runner 0b6c7a44-5d7e-4a54-9a3f-1f0c3a3e2b10 --json',
  ];

  static override flags = {
    project: Flags.string({ description: 'only this project', helpValue: 'PROJECT' }),
    runner: Flags.string({
      description: 'only sessions this runner took part in',
      helpValue: 'ID',
    }),
    since: Flags.string({
      description: 'only sessions active since: 12h, 7d, 2026-03-01 or an ISO time',
      helpValue: 'WHEN',
    }),
    limit: Flags.integer({
      description: `at most this many (default 50)`,
      min: 1,
      max: SESSIONS_MAX_LIMIT,
    }),
  };

  async run(): Promise<Record<string, unknown>[]> {
    const { flags } = await this.parse(Sessions);
    let since: string | undefined;
    if (flags.since !== undefined) {
      try {
        since = parseSince(flags.since, new Date()).toISOString();
      } catch (error) {
        this.usageError(`--since: ${(error as Error).message}`);
      }
    }
    const client = await this.client();
    const { sessions } = await this.callApi('Fetching sessions', () =>
      client.listSessions({
        project: flags.project,
        runner: flags.runner,
        since,
        limit: flags.limit,
      }),
    );
    if (sessions.length === 0) this.log('No sessions match.');
    else this.log(renderSessionsTable(sessions, this.paint, Date.now()));
    return sessions.map(sessionJson);
  }
}
