import { Inject, Injectable } from '@nestjs/common';
import { type ProjectRefView } from '@stratavore/contracts';
import { z } from 'zod';

import { RunnerManagerClient } from './runner-manager.client';

/**
 * Project names for views of other services, which know projects by id only, and project
 * references in queries (`?project=web-app`) turned into ids. Names come from runner-manager:
 * when it does not answer, views show `name: null` rather than fail.
 */
@Injectable()
export class ProjectNames {
  constructor(@Inject(RunnerManagerClient) private readonly runnerManager: RunnerManagerClient) {}

  /** Every project's name by id (archived included), or an empty map when unavailable. */
  async all(): Promise<ReadonlyMap<string, string>> {
    try {
      const { projects } = await this.runnerManager.request('projects.list', {
        includeArchived: true,
      });
      return new Map(projects.map((p) => [p.id, p.name]));
    } catch {
      return new Map();
    }
  }

  /** One project's name, `null` when unknown or unavailable. */
  async one(id: string): Promise<string | null> {
    try {
      return (await this.runnerManager.request('projects.get', { project: id })).name;
    } catch {
      return null;
    }
  }

  /** The id of a project given by id or name; runner-manager's PROJECT_NOT_FOUND otherwise. */
  async resolve(ref: string): Promise<string> {
    if (z.uuid().safeParse(ref).success) return ref;
    return (await this.runnerManager.request('projects.get', { project: ref })).id;
  }

  static view(id: string, names: ReadonlyMap<string, string>): ProjectRefView {
    return { id, name: names.get(id) ?? null };
  }
}
