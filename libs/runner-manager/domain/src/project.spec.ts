import {
  applyEnvUpdate,
  assertProjectName,
  envToProcessEnv,
  isProjectNameValid,
  type Project,
  redactEnv,
  toProjectReply,
} from './project';
import { RunnerErrorCode, type RunnerException } from './runner.exception';

describe('project rules', () => {
  it('accepts names matching ^[a-z0-9][a-z0-9-]{0,62}$ only', () => {
    for (const good of ['a', 'web-app', '9lives', 'a'.repeat(63)]) {
      expect(isProjectNameValid(good)).toBe(true);
    }
    for (const bad of ['', '-x', 'Web', 'a_b', 'a'.repeat(64), 'a b']) {
      expect(isProjectNameValid(bad)).toBe(false);
    }
    expect(() => assertProjectName('Bad Name')).toThrow(/name: expected a project name matching/);
  });

  it('redacts secret values for output and keeps them for the process env', () => {
    const env = [
      { name: 'PLAIN', value: 'visible', secret: false },
      { name: 'API_KEY', value: 'hunter2', secret: true },
    ];
    expect(redactEnv(env)).toEqual([
      { name: 'PLAIN', value: 'visible', secret: false },
      { name: 'API_KEY', value: null, secret: true },
    ]);
    expect(envToProcessEnv(env)).toEqual({ PLAIN: 'visible', API_KEY: 'hunter2' });
    const project: Project = {
      id: '00000000-0000-4000-8000-000000000001',
      name: 'p',
      path: '/tmp/p',
      description: '',
      command: ['claude'],
      maxRunners: 2,
      env,
      createdAt: new Date('2026-01-01T00:00:00Z'),
      updatedAt: new Date('2026-01-01T00:00:00Z'),
      archivedAt: null,
      estimateTokens: 50_000,
      estimateUsd: null,
    };
    expect(JSON.stringify(toProjectReply(project))).not.toContain('hunter2');
  });

  it('keeps a stored value when an update omits it, and names the field when there is none', () => {
    const current = [{ name: 'API_KEY', value: 'hunter2', secret: true }];
    expect(
      applyEnvUpdate(current, [
        { name: 'API_KEY', secret: true },
        { name: 'NEW', value: 'x', secret: false },
      ]),
    ).toEqual([
      { name: 'API_KEY', value: 'hunter2', secret: true },
      { name: 'NEW', value: 'x', secret: false },
    ]);
    try {
      applyEnvUpdate(current, [{ name: 'OTHER', secret: true }]);
      throw new Error('expected a refusal');
    } catch (error) {
      expect((error as RunnerException).code).toBe(RunnerErrorCode.ValidationFailed);
      expect((error as RunnerException).details).toEqual({
        issues: [
          {
            field: 'env.0.value',
            message: 'expected a value: OTHER has no stored value to keep',
          },
        ],
      });
    }
  });
});
