import { type RunnersStatusReply } from '@stratavore/contracts';

import { StratavoreCommand } from '../support/stratavore-command';
import { renderTable } from '../support/terminal-output';

type ProjectStatus = RunnersStatusReply['projects'][number];

export default class Status extends StratavoreCommand {
  static override description = 'Show active runners and queued launches per project.';

  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json'];

  async run(): Promise<RunnersStatusReply> {
    await this.parse(Status);
    const client = await this.client();
    const status = await this.callApi('Fetching status', () => client.getStatus());
    if (status.projects.length === 0) {
      this.log('No projects yet: create one with `stratavore new <project>`.');
      return status;
    }
    const paint = this.paint;
    this.log(
      renderTable<ProjectStatus>(
        [
          { header: 'PROJECT', value: (p) => p.project.name },
          {
            header: 'ACTIVE',
            value: (p) => {
              const text = `${p.active}/${p.maxRunners}`;
              return p.active >= p.maxRunners ? paint('yellow', text) : text;
            },
            align: 'right',
          },
          { header: 'RUNNING', value: (p) => String(p.byState.running), align: 'right' },
          // Claude Code waiting for a person, or done with its turn (hooks).
          { header: 'WAITING', value: (p) => String(p.byState.waiting ?? 0), align: 'right' },
          { header: 'IDLE', value: (p) => String(p.byState.idle ?? 0), align: 'right' },
          { header: 'PENDING', value: (p) => String(p.byState.pending), align: 'right' },
          { header: 'STARTING', value: (p) => String(p.byState.starting), align: 'right' },
          { header: 'STOPPING', value: (p) => String(p.byState.stopping), align: 'right' },
          { header: 'QUEUED', value: (p) => String(p.queued.length), align: 'right' },
        ],
        status.projects,
        paint,
      ),
    );
    return status;
  }
}
