import { livenessReplySchema, runnerListReplySchema } from '@stratavore/contracts';
import { z } from 'zod';

import { runnerReply } from '../api/runner-reply.test-support';
import { compileShapeCheck } from './reply-shape';

const runner = runnerReply({ cpuPercent: 1.5, restart: null, worktree: null });

describe('compileShapeCheck', () => {
  const listShape = compileShapeCheck(runnerListReplySchema);

  it('accepts what the contract accepts, optional and nullable fields included', () => {
    expect(runnerListReplySchema.safeParse({ runners: [runner] }).success).toBe(true);
    expect(listShape({ runners: [runner] })).toBeNull();
    expect(listShape({ runners: [], nextCursor: null })).toBeNull();
    expect(listShape({ runners: [{ ...runner, attached: true, restarts: 2 }] })).toBeNull();
  });

  it('names the first place where a type, a required field or an enum value is wrong', () => {
    const { tokens: _tokens, ...withoutTokens } = runner;
    expect(listShape(null)).toBe('$: expected object, got null');
    expect(listShape({ runners: {} })).toBe('$.runners: expected array, got object');
    expect(listShape({ runners: [withoutTokens] })).toBe('$.runners[0].tokens: required');
    expect(listShape({ runners: [runner, { ...runner, pid: '3030' }] })).toBe(
      '$.runners[1].pid: expected integer, got string',
    );
    expect(listShape({ runners: [{ ...runner, pid: 1.5 }] })).toBe(
      '$.runners[0].pid: expected integer, got number',
    );
    expect(listShape({ runners: [{ ...runner, state: 'asleep' }] })).toBe(
      '$.runners[0].state: unexpected value "asleep"',
    );
    expect(listShape({ runners: [{ ...runner, project: null }] })).toBe(
      '$.runners[0].project: expected object, got null',
    );
    expect(listShape({ runners: [{ ...runner, command: [1] }] })).toBe(
      '$.runners[0].command[0]: expected string, got number',
    );
  });

  it('checks unions branch by branch', () => {
    const check = compileShapeCheck(
      z.union([
        z.object({ kind: z.literal('a'), n: z.number() }),
        z.object({ kind: z.literal('b') }),
      ]),
    );
    expect(check({ kind: 'a', n: 1 })).toBeNull();
    expect(check({ kind: 'b' })).toBeNull();
    expect(check({ kind: 'a' })).toBe('$: matches none of 2 alternatives');
  });

  it('checks a liveness reply', () => {
    const check = compileShapeCheck(livenessReplySchema);
    expect(check({ runners: [{ runnerId: runner.id }] })).toBe(
      '$.runners[0].lastHeartbeatAt: required',
    );
  });
});
