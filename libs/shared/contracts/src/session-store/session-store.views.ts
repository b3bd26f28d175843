import { z } from 'zod';

import {
  runnerOutcomesSchema,
  runnersStatsReplySchema,
  sessionDetailSchema,
  sessionSummarySchema,
  usageByReplySchema,
  usageRowSchema,
} from './session-store.replies';

/*
 * What the HTTP API answers for sessions and statistics: session-store's replies with the
 * project's name added by the gateway (from runner-manager; `null` when it is not known, e.g.
 * runner-manager did not answer).
 */

export const projectRefViewSchema = z.object({ id: z.uuid(), name: z.string().nullable() });

export const sessionViewSchema = sessionSummarySchema.extend({ project: projectRefViewSchema });
export const sessionListViewSchema = z.object({ sessions: z.array(sessionViewSchema) });
export const sessionDetailViewSchema = sessionDetailSchema.extend({
  project: projectRefViewSchema,
});

/** A `usage` row; `name` is the project's name when grouped by project, else `null`. */
export const usageRowViewSchema = usageRowSchema.extend({ name: z.string().nullable() });
export const usageViewSchema = usageByReplySchema.extend({ rows: z.array(usageRowViewSchema) });

export const runnersStatsViewSchema = runnersStatsReplySchema.extend({
  projects: z.array(runnerOutcomesSchema.extend({ project: projectRefViewSchema })),
});

export type ProjectRefView = z.output<typeof projectRefViewSchema>;
export type SessionView = z.output<typeof sessionViewSchema>;
export type SessionListView = z.output<typeof sessionListViewSchema>;
export type SessionDetailView = z.output<typeof sessionDetailViewSchema>;
export type UsageRowView = z.output<typeof usageRowViewSchema>;
export type UsageView = z.output<typeof usageViewSchema>;
export type RunnersStatsView = z.output<typeof runnersStatsViewSchema>;
