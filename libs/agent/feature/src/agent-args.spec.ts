import { ConfigError } from '@stratavore/config';

import { AgentErrorCode } from './agent.exception';
import { parseAgentArgs } from './agent-args';
import { loadAgentConfig } from './agent-config';
import { fullJitterDelay } from './backoff';
import { childEnvironment } from './child-process';

function usageMessage(argv: string[]): string {
  try {
    parseAgentArgs(argv);
  } catch (error) {
    expect(error).toMatchObject({ code: AgentErrorCode.InvalidUsage });
    return (error as Error).message;
  }
  throw new Error('expected a usage error');
}

describe('parseAgentArgs', () => {
  it('reads both flag spellings and keeps the command, flags included, after --', () => {
    expect(
      parseAgentArgs(['--interval', '200ms', '--stop-timeout=2s', '--', 'claude', '--interval']),
    ).toEqual({
      kind: 'run',
      intervalMs: 200,
      stopTimeoutMs: 2_000,
      finalReportTimeoutMs: 300_000,
      command: ['claude', '--interval'],
    });
    expect(parseAgentArgs(['echo', 'hi'])).toMatchObject({
      intervalMs: 10_000,
      command: ['echo', 'hi'],
    });
    expect(parseAgentArgs(['--help', '--', 'x'])).toEqual({ kind: 'help' });
  });

  it('names the bad flag', () => {
    expect(usageMessage(['--intervall', '1s', '--', 'x'])).toBe('unknown option --intervall');
    expect(usageMessage(['--stop-timeout'])).toBe('--stop-timeout needs a value');
    expect(usageMessage(['--interval', 'soon', '--', 'x'])).toContain(
      '--interval: expected a duration',
    );
    expect(usageMessage(['--interval', '5ms', '--', 'x'])).toContain(
      '--interval: expected at least 100ms',
    );
    expect(usageMessage(['--interval', '1s', '--'])).toBe('missing the command to run after --');
  });
});

describe('loadAgentConfig', () => {
  it('names every problem at once and never prints the token', () => {
    let error: unknown;
    try {
      loadAgentConfig({
        STRATAVORE_RUNNER_ID: 'nope',
        STRATAVORE_RUNNER_TOKEN: 'tok-secret-value',
        STRATAVORE_HEARTBEAT_URL: 'ftp://x',
        STRATAVORE_LOG_DIR: 'relative/dir',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable)).toEqual([
      'STRATAVORE_RUNNER_ID',
      'STRATAVORE_HEARTBEAT_URL',
      'STRATAVORE_LOG_DIR',
    ]);
    expect((error as Error).message).not.toContain('tok-secret-value');
  });

  it('hides the token when it is the problem', () => {
    expect(() => loadAgentConfig({})).toThrow(
      /STRATAVORE_RUNNER_TOKEN: expected a value \(required\)/,
    );
  });
});

describe('childEnvironment', () => {
  it('passes everything on except the runner token', () => {
    expect(
      childEnvironment({ PATH: '/bin', STRATAVORE_RUNNER_TOKEN: 't', STRATAVORE_RUNNER_ID: 'r' }),
    ).toEqual({
      PATH: '/bin',
      STRATAVORE_RUNNER_ID: 'r',
    });
  });
});

describe('fullJitterDelay', () => {
  const options = { baseMs: 1_000, capMs: 30_000 };

  it('draws from [0, base * 2^(n-1)) and never above the cap', () => {
    expect(fullJitterDelay(1, options, () => 0)).toBe(0);
    expect(fullJitterDelay(1, options, () => 0.999_999)).toBe(999);
    expect(fullJitterDelay(3, options, () => 0.999_999)).toBe(3_999);
    expect(fullJitterDelay(5, options, () => 0.999_999)).toBe(15_999);
    expect(fullJitterDelay(6, options, () => 0.999_999)).toBe(29_999);
    expect(fullJitterDelay(1_000, options, () => 0.999_999)).toBe(29_999);
  });

  it('spreads delays over the whole range', () => {
    const seen = [0.1, 0.5, 0.9].map((r) => fullJitterDelay(4, options, () => r));
    expect(seen).toEqual([800, 4_000, 7_200]);
  });
});
