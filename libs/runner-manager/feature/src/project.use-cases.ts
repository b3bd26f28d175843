import {
  type ArchiveProjectRequest,
  type CreateProjectRequest,
  type GetProjectRequest,
  type ListProjectsRequest,
  type ProjectListReply,
  type ProjectReply,
  type UpdateProjectRequest,
} from '@stratavore/contracts';
import { type RunnerManagerReads } from '@stratavore/runner-manager-data-access';
import {
  applyEnvUpdate,
  type Project,
  projectHasActiveRunners,
  RunnerException,
  toProjectReply,
} from '@stratavore/runner-manager-domain';

import { type RequestContext, RunnerLifecycle, type RunnerManagerDeps } from './runner-lifecycle';

/** Resolves a project by id or name; ProjectNotFound otherwise. */
export async function requireProject(reads: RunnerManagerReads, ref: string): Promise<Project> {
  const project = await reads.projects.resolve(ref);
  if (!project) throw RunnerException.projectNotFound(ref);
  return project;
}

/** Creates a project; ProjectNameTaken when a non-archived project has the name. */
export class CreateProject {
  constructor(private readonly deps: RunnerManagerDeps) {}

  async execute(request: CreateProjectRequest): Promise<ProjectReply> {
    const now = this.deps.clock.now();
    const project: Project = {
      id: this.deps.ids.uuid(),
      name: request.name,
      path: request.path,
      description: request.description,
      command: request.command,
      maxRunners: request.maxRunners,
      env: request.env.map((entry) => ({
        name: entry.name,
        value: entry.value ?? '',
        secret: entry.secret,
      })),
      createdAt: now,
      updatedAt: now,
      archivedAt: null,
      estimateTokens: request.estimateTokens ?? null,
      estimateUsd: request.estimateUsd ?? null,
    };
    await this.deps.store.transaction(async (tx) => {
      if (await tx.projects.findActiveByName(project.name)) {
        throw RunnerException.projectNameTaken(project.name);
      }
      // The partial unique index settles a race between two creators of the same name.
      await tx.projects.insert(project);
    });
    return toProjectReply(project);
  }
}

/**
 * Updates a project; a rename keeps the name rule, a larger `maxRunners` admits queued launches
 * at once.
 */
export class UpdateProject {
  private readonly lifecycle: RunnerLifecycle;

  constructor(private readonly deps: RunnerManagerDeps) {
    this.lifecycle = new RunnerLifecycle(deps);
  }

  async execute(request: UpdateProjectRequest, ctx: RequestContext): Promise<ProjectReply> {
    const { project, admitted } = await this.deps.store.transaction(async (tx) => {
      const found = await requireProject(tx, request.project);
      await tx.lockProject(found.id);
      const current = (await tx.projects.findById(found.id)) ?? found;
      if (current.archivedAt !== null) throw RunnerException.projectArchived(current.name);
      if (request.name !== undefined && request.name !== current.name) {
        if (await tx.projects.findActiveByName(request.name)) {
          throw RunnerException.projectNameTaken(request.name);
        }
      }
      const next: Project = {
        ...current,
        ...(request.name === undefined ? {} : { name: request.name }),
        ...(request.path === undefined ? {} : { path: request.path }),
        ...(request.description === undefined ? {} : { description: request.description }),
        ...(request.command === undefined ? {} : { command: request.command }),
        ...(request.maxRunners === undefined ? {} : { maxRunners: request.maxRunners }),
        ...(request.env === undefined ? {} : { env: applyEnvUpdate(current.env, request.env) }),
        ...(request.estimateTokens === undefined ? {} : { estimateTokens: request.estimateTokens }),
        ...(request.estimateUsd === undefined ? {} : { estimateUsd: request.estimateUsd }),
        updatedAt: this.deps.clock.now(),
      };
      await tx.projects.save(next);
      const admittedNow =
        next.maxRunners > current.maxRunners
          ? await this.lifecycle.admitQueued(tx, next.id, ctx)
          : [];
      return { project: next, admitted: admittedNow };
    });
    await this.lifecycle.startAgents(admitted, ctx);
    return toProjectReply(project);
  }
}

/** Archives a project: refused while runners hold slots; drops its queued launches. */
export class ArchiveProject {
  constructor(private readonly deps: RunnerManagerDeps) {}

  async execute(request: ArchiveProjectRequest): Promise<ProjectReply> {
    const project = await this.deps.store.transaction(async (tx) => {
      const found = await requireProject(tx, request.project);
      await tx.lockProject(found.id);
      const current = (await tx.projects.findById(found.id)) ?? found;
      if (current.archivedAt !== null) return current;
      const holders = await tx.runners.activeOf(current.id);
      if (holders.length > 0) throw projectHasActiveRunners(current, holders);
      await tx.queue.removeAllOf(current.id);
      const now = this.deps.clock.now();
      const archived: Project = { ...current, archivedAt: now, updatedAt: now };
      await tx.projects.save(archived);
      return archived;
    });
    return toProjectReply(project);
  }
}

/** Lists projects, secret env values redacted. */
export class ListProjects {
  constructor(private readonly deps: RunnerManagerDeps) {}

  async execute(request: ListProjectsRequest): Promise<ProjectListReply> {
    const projects = await this.deps.store.read((reads) =>
      reads.projects.list({ includeArchived: request.includeArchived }),
    );
    return { projects: projects.map(toProjectReply) };
  }
}

/** One project by id or name, secret env values redacted. */
export class GetProject {
  constructor(private readonly deps: RunnerManagerDeps) {}

  async execute(request: GetProjectRequest): Promise<ProjectReply> {
    return toProjectReply(
      await this.deps.store.read((reads) => requireProject(reads, request.project)),
    );
  }
}
