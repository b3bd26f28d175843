import { open } from 'node:fs/promises';

import { Args, Flags } from '@oclif/core';
import {
  TRANSCRIPT_MAX_LIMIT_BYTES,
  transcriptKindRefSchema,
  type TranscriptMetadata,
} from '@stratavore/contracts';

import { StratavoreCommand } from '../../support/stratavore-command';

/** What `sessions transcript --json` prints: the stored transcript and where it was written. */
export interface TranscriptDownload {
  readonly session: string;
  readonly transcript: TranscriptMetadata;
  readonly bytes: number;
  readonly output: string | null;
}

export default class SessionsTranscript extends StratavoreCommand {
  static override description =
    "Print a session's stored transcript (JSONL), or write it to a file with --output.";

  static override examples = [
    '<%= config.bin %> sessions transcript 4d5611e5-241a-462a-8d15-5122611a9569',
    '<%= config.bin %> sessions transcript 4d5611e5-241a-462a-8d15-5122611a9569 --kind subagent-a2898e3',
    '<%= config.bin %> sessions transcript 4d5611e5-241a-462a-8d15-5122611a9569 --output session.jsonl',
  ];

  static override args = {
    id: Args.string({ description: "Claude Code's session id", required: true }),
  };

  static override flags = {
    kind: Flags.string({
      description: 'main (default) or subagent-<agentId>',
      helpValue: 'KIND',
      default: 'main',
    }),
    output: Flags.string({ char: 'o', description: 'write to this file', helpValue: 'FILE' }),
  };

  async run(): Promise<TranscriptDownload> {
    const { args, flags } = await this.parse(SessionsTranscript);
    if (!transcriptKindRefSchema.safeParse(flags.kind).success) {
      this.usageError(`--kind: expected main or subagent-<agentId>, got "${flags.kind}"`);
    }
    const client = await this.client();
    const file = flags.output === undefined ? null : await open(flags.output, 'w');
    try {
      let offset = 0;
      let bytes = 0;
      for (;;) {
        const window = await this.callApi('Fetching the transcript', () =>
          client.sessionTranscript(args.id, {
            kind: flags.kind,
            offset,
            limit: TRANSCRIPT_MAX_LIMIT_BYTES,
          }),
        );
        const chunk = Buffer.from(window.content, 'utf8');
        bytes += chunk.length;
        if (file) await file.write(chunk);
        else if (!this.jsonEnabled()) process.stdout.write(chunk);
        if (window.eof || window.nextOffset <= offset) {
          return {
            session: args.id,
            transcript: window.transcript,
            bytes,
            output: flags.output ?? null,
          };
        }
        offset = window.nextOffset;
      }
    } finally {
      await file?.close();
    }
  }
}
