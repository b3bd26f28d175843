import {
  launchRunnerReplySchema,
  projectListReplySchema,
  projectReplySchema,
  queuedLaunchReplySchema,
  runnerListReplySchema,
  runnerReplySchema,
} from '@stratavore/contracts';
import { z } from 'zod';

/*
 * The gateway answers with the runner-manager reply schemas. Where the HTTP shape may differ from
 * the bus reply (a bare array instead of a wrapper, a bare runner for 201 or a bare queue entry
 * for 202) these schemas accept both and normalize to the contract's type.
 */

export const projectListAnswerSchema = z.union([
  projectListReplySchema,
  z.array(projectReplySchema).transform((projects) => ({ projects })),
]);

export const runnerListAnswerSchema = z.union([
  runnerListReplySchema,
  z.array(runnerReplySchema).transform((runners) => ({ runners })),
]);

export const launchAnswerSchema = z.union([
  launchRunnerReplySchema,
  runnerReplySchema.transform((runner) => ({ status: 'launched' as const, runner })),
  queuedLaunchReplySchema.transform((queuedLaunch) => ({
    status: 'queued' as const,
    queuedLaunch,
  })),
]);

/** One event of `GET /api/v1/events`: the envelope's JSON, or the raw text when not JSON. */
export interface GatewayEvent {
  readonly id: string | undefined;
  readonly type: string;
  readonly data: unknown;
}
