import { type FieldIssue, RunnerErrorCode } from '@stratavore/contracts';

export { type FieldIssue, RunnerErrorCode };

/**
 * The one exception of runner-manager. `code` and `details` travel over the bus unchanged
 * (`{ code, message, details }`); the gateway maps the code to an HTTP status.
 */
export class RunnerException extends Error {
  constructor(
    readonly code: RunnerErrorCode,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = 'RunnerException';
  }

  static validationFailed(issues: readonly FieldIssue[], what = 'payload'): RunnerException {
    const summary = issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ');
    return new RunnerException(RunnerErrorCode.ValidationFailed, `invalid ${what}: ${summary}`, {
      issues,
    });
  }

  static projectNotFound(ref: string): RunnerException {
    return new RunnerException(RunnerErrorCode.ProjectNotFound, `project ${ref} not found`, {
      project: ref,
    });
  }

  static projectNameTaken(name: string): RunnerException {
    return new RunnerException(
      RunnerErrorCode.ProjectNameTaken,
      `a project named ${name} already exists`,
      { name },
    );
  }

  static projectArchived(name: string): RunnerException {
    return new RunnerException(RunnerErrorCode.ProjectArchived, `project ${name} is archived`, {
      project: name,
    });
  }

  static runnerNotFound(id: string): RunnerException {
    return new RunnerException(RunnerErrorCode.RunnerNotFound, `runner ${id} not found`, {
      runner: id,
    });
  }

  static queuedLaunchNotFound(id: string): RunnerException {
    return new RunnerException(
      RunnerErrorCode.QueuedLaunchNotFound,
      `queued launch ${id} not found`,
      { queuedLaunch: id },
    );
  }

  static runnerLogUnavailable(id: string, host: string | null): RunnerException {
    return new RunnerException(
      RunnerErrorCode.RunnerLogUnavailable,
      `the log of runner ${id} is on host ${host ?? '(unknown)'}, which this runner-manager cannot read`,
      { runner: id, host },
    );
  }
}
