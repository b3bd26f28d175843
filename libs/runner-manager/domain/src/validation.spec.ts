import {
  createProjectRequestSchema,
  launchRunnerRequestSchema,
  runnerManagerPatterns,
  runnerManagerReplySchemas,
  stopRunnerRequestSchema,
} from '@stratavore/contracts';

import { quotaExceeded } from './runner';
import { RunnerErrorCode, RunnerException } from './runner.exception';
import { parsePayload } from './validation';

function issuesOf(run: () => unknown): Array<{ field: string; message: string }> {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(RunnerException);
    expect((error as RunnerException).code).toBe(RunnerErrorCode.ValidationFailed);
    return (error as RunnerException).details?.issues as Array<{ field: string; message: string }>;
  }
  throw new Error('expected ValidationFailed');
}

describe('request validation', () => {
  it('applies the defaults of projects.create', () => {
    expect(parsePayload(createProjectRequestSchema, { name: 'web', path: '/srv/web' })).toEqual({
      name: 'web',
      path: '/srv/web',
      description: '',
      command: ['claude'],
      maxRunners: 1,
      env: [],
    });
  });

  it('names every offending field and what was expected', () => {
    const issues = issuesOf(() =>
      parsePayload(createProjectRequestSchema, {
        name: 'Bad Name',
        path: 'relative/dir',
        maxRunners: 0,
        env: [{ name: 'A', value: '1' }, { name: 'A', value: '2' }, { name: 'B' }],
        colour: 'red',
      }),
    );
    const byField = Object.fromEntries(issues.map((issue) => [issue.field, issue.message]));
    expect(byField['name']).toMatch(/expected a project name matching/);
    expect(byField['path']).toBe('expected an absolute path (starting with /)');
    expect(byField['maxRunners']).toBe('expected an integer from 1 to 1000');
    expect(byField['env.1.name']).toBe('expected unique names; A appears twice');
    expect(byField['env.2.value']).toBe('expected a string value');
    expect(issues.some((issue) => issue.message.includes('colour'))).toBe(true);
  });

  it('validates runner ids and the launch flags', () => {
    expect(issuesOf(() => parsePayload(stopRunnerRequestSchema, { runner: 'nope' }))).toEqual([
      { field: 'runner', message: 'expected a runner id (uuid)' },
    ]);
    expect(issuesOf(() => parsePayload(launchRunnerRequestSchema, {}))[0]).toEqual({
      field: 'project',
      message: 'expected a project id or name',
    });
    expect(issuesOf(() => parsePayload(launchRunnerRequestSchema, 'x'))[0]?.field).toBe(
      '(payload)',
    );
  });

  it('has a reply schema per pattern', () => {
    expect(Object.keys(runnerManagerReplySchemas).sort()).toEqual(
      [...runnerManagerPatterns].sort(),
    );
  });
});

describe('quota message', () => {
  it('names the quota and who holds it', () => {
    const error = quotaExceeded({ id: 'pid', name: 'p', maxRunners: 2 }, [
      { id: 'r1', state: 'running' },
      { id: 'r2', state: 'starting' },
    ]);
    expect(error.code).toBe(RunnerErrorCode.QuotaExceeded);
    expect(error.message).toBe(
      'project p allows 2 concurrent runners; held by r1 (running), r2 (starting)',
    );
    expect(error.details).toMatchObject({
      maxRunners: 2,
      holders: [
        { id: 'r1', state: 'running' },
        { id: 'r2', state: 'starting' },
      ],
    });
  });
});
