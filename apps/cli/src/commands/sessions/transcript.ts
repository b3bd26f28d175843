import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';

import { Args, Flags } from '@oclif/core';
import {
  TRANSCRIPT_MAX_LIMIT_BYTES,
  transcriptKindRefSchema,
  type TranscriptMetadata,
} from '@stratavore/contracts';

import { ExitCode } from '../../support/exit-codes';
import { StratavoreCommand } from '../../support/stratavore-command';

/** What `sessions transcript --json` prints: the stored transcript and where it was written. */
export interface TranscriptDownload {
  readonly session: string;
  readonly transcript: TranscriptMetadata;
  readonly bytes: number;
  readonly output: string | null;
  /** The bytes received hash to the stored transcript's sha256. */
  readonly verified: boolean;
}

/** A file download starts over this often when an upload replaces the transcript meanwhile. */
const MAX_ATTEMPTS = 3;

export default class SessionsTranscript extends StratavoreCommand {
  static override description = `Print a session's stored transcript (JSONL), or write it to a file with --output.

The transcript is read window after window and checked against its sha256. When the agent uploads a new version meanwhile, a download to a file starts over; a download to the terminal stops with an error (run it again).`;

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
    const file = flags.output === undefined ? null : await open(flags.output, 'w');
    try {
      for (let attempt = 1; ; attempt += 1) {
        const download = await this.download(args.id, flags.kind, file);
        if (download.verified) return { ...download, output: flags.output ?? null };
        if (file === null || attempt >= MAX_ATTEMPTS) {
          this.error(
            `The ${flags.kind} transcript of session ${args.id} changed while it was read (a new version was uploaded); run the command again.`,
            { exit: ExitCode.ApiError },
          );
        }
        await file.truncate(0);
      }
    } finally {
      await file?.close();
    }
  }

  /** One pass from offset 0 to the end, hashing what it writes. */
  private async download(
    session: string,
    kind: string,
    file: FileHandle | null,
  ): Promise<Omit<TranscriptDownload, 'output'>> {
    const client = await this.client();
    const hash = createHash('sha256');
    let offset = 0;
    let bytes = 0;
    for (;;) {
      const window = await this.callApi('Fetching the transcript', () =>
        client.sessionTranscript(session, { kind, offset, limit: TRANSCRIPT_MAX_LIMIT_BYTES }),
      );
      const chunk = Buffer.from(window.content, 'utf8');
      hash.update(chunk);
      bytes += chunk.length;
      if (file) await file.write(chunk, 0, chunk.length, window.offset);
      else if (!this.jsonEnabled()) process.stdout.write(chunk);
      if (window.eof || window.nextOffset <= offset) {
        const { transcript } = window;
        const verified = bytes === transcript.size && hash.digest('hex') === transcript.sha256;
        return { session, transcript, bytes, verified };
      }
      offset = window.nextOffset;
    }
  }
}
