import { Args } from '@oclif/core';
import { type SessionDetailView } from '@stratavore/contracts';

import { describeSession } from '../../support/session-views';
import { StratavoreCommand } from '../../support/stratavore-command';

export default class SessionsShow extends StratavoreCommand {
  static override description =
    'Show one session: tokens by model and kind, cost, turns, result, runners and transcripts.';

  static override examples = [
    '<%= config.bin %> sessions show 4d5611e5-241a-462a-8d15-5122611a9569',
  ];

  static override args = {
    id: Args.string({ description: "Claude Code's session id", required: true }),
  };

  async run(): Promise<SessionDetailView> {
    const { args } = await this.parse(SessionsShow);
    const client = await this.client();
    const session = await this.callApi(`Fetching session ${args.id}`, () =>
      client.getSession(args.id),
    );
    this.log(describeSession(session, this.paint));
    return session;
  }
}
