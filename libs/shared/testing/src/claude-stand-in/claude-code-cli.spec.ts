import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  claudeCliEnv,
  claudeCodeCliPath,
  claudeCodeCliVersion,
  claudeProjectDirName,
  claudeTranscriptPath,
} from './claude-code-cli';
import { type ClaudeStandIn } from './claude-stand-in';

const workspaceRoot = join(__dirname, '..', '..', '..', '..', '..');

describe('claudeProjectDirName', () => {
  it('replaces every character other than an ASCII letter or digit with a dash', () => {
    expect(claudeProjectDirName('/tmp/x y/é.z')).toBe('-tmp-x-y---z');
    expect(claudeProjectDirName('/home/me/my_repo.git')).toBe('-home-me-my-repo-git');
  });

  it('cuts names over 200 characters and appends the hash the CLI appends', () => {
    const long = `/work/${'very-long.dir_name/'.repeat(12)}end`;

    // Expected value computed with the function copied from the 2.1.112 bundle.
    expect(claudeProjectDirName(long)).toBe(`-work-${'very-long-dir-name-'.repeat(10)}very-89sapg`);
  });

  it('puts the transcript under projects/<encoded cwd>/<session id>.jsonl', () => {
    expect(claudeTranscriptPath('/h/.claude', '/w/a.b', 'S')).toBe(
      '/h/.claude/projects/-w-a-b/S.jsonl',
    );
  });
});

describe('the installed CLI', () => {
  it('is the version package.json pins, with its cli.js entry point', () => {
    const manifest = JSON.parse(readFileSync(join(workspaceRoot, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };

    expect(claudeCodeCliVersion()).toBe(manifest.devDependencies['@anthropic-ai/claude-code']);
    expect(existsSync(claudeCodeCliPath())).toBe(true);
  });
});

describe('claudeCliEnv', () => {
  const standIn = { url: 'http://127.0.0.1:1234' } as ClaudeStandIn;
  const sandbox = { home: '/s/home', configDir: '/s/home/.claude', tmp: '/s/tmp' };

  it('builds the environment from scratch around the stand-in and the sandbox', () => {
    const saved = process.env.ANTHROPIC_API_KEY;
    process.env.ANTHROPIC_API_KEY = 'sk-ant-real-key-of-the-caller';
    try {
      const env = claudeCliEnv({ standIn, sandbox });

      expect(env).toMatchObject({
        HOME: '/s/home',
        CLAUDE_CONFIG_DIR: '/s/home/.claude',
        TMPDIR: '/s/tmp',
        ANTHROPIC_BASE_URL: standIn.url,
        HTTPS_PROXY: standIn.url,
        NO_PROXY: '127.0.0.1,localhost',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        DISABLE_AUTOUPDATER: '1',
      });
      expect(env.ANTHROPIC_API_KEY).not.toBe('sk-ant-real-key-of-the-caller');
      expect(Object.keys(env).filter((key) => !(key in expectedKeys()))).toEqual([]);
      expect(env.IS_SANDBOX).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.ANTHROPIC_API_KEY;
      else process.env.ANTHROPIC_API_KEY = saved;
    }
  });

  it('turns non-essential traffic back on and allows bypassing permissions as root on request', () => {
    const env = claudeCliEnv({
      standIn,
      sandbox,
      nonessentialTraffic: true,
      bypassPermissionsAsRoot: true,
    });

    expect(env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC).toBeUndefined();
    expect(env.IS_SANDBOX).toBe('1');
  });
});

function expectedKeys(): Record<string, true> {
  return Object.fromEntries(
    [
      'PATH',
      'HOME',
      'CLAUDE_CONFIG_DIR',
      'TMPDIR',
      'CLAUDE_CODE_TMPDIR',
      'TZ',
      'ANTHROPIC_BASE_URL',
      'ANTHROPIC_API_KEY',
      'HTTPS_PROXY',
      'HTTP_PROXY',
      'NO_PROXY',
      'DISABLE_AUTOUPDATER',
      'DISABLE_TELEMETRY',
      'DISABLE_ERROR_REPORTING',
      'DISABLE_BUG_COMMAND',
      'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC',
    ].map((key) => [key, true]),
  );
}
