import {
  claudeHeadlessCommand,
  claudeProgramIndex,
  isClaudeCodeCommand,
  resumedSessionOf,
} from './claude-command-line';

const CLI = '/opt/app/node_modules/@anthropic-ai/claude-code/cli.js';

describe('claudeProgramIndex', () => {
  it.each([
    [['claude'], 0],
    [['/usr/local/bin/claude', '--model', 'opus'], 0],
    [['C:\\tools\\claude.exe'], 0],
    [['node', CLI], 1],
    [['/usr/bin/node', CLI, '-p'], 1],
    [['npx', '@anthropic-ai/claude-code'], 1],
    [['bunx', 'claude'], 1],
  ])('finds Claude Code in %j at %i', (command, index) => {
    expect(claudeProgramIndex(command)).toBe(index);
    expect(isClaudeCodeCommand(command)).toBe(true);
  });

  it.each([
    [[]],
    [['bash', '-c', 'claude -p hi']],
    [['node', 'server.js']],
    [['node']],
    [['claude-dev']],
    [['/home/me/claude/run.sh']],
  ])('does not take %j for Claude Code', (command) => {
    expect(claudeProgramIndex(command)).toBe(-1);
    expect(isClaudeCodeCommand(command)).toBe(false);
  });
});

describe('claudeHeadlessCommand', () => {
  it('adds -p, stream-json and --verbose to a bare claude', () => {
    expect(claudeHeadlessCommand(['claude'])).toEqual([
      'claude',
      '-p',
      '--output-format',
      'stream-json',
      '--verbose',
    ]);
  });

  it('appends every option in a fixed order, tools last and comma-joined', () => {
    expect(
      claudeHeadlessCommand(['node', CLI], {
        model: 'claude-sonnet-4-5',
        maxTurns: 12,
        allowedTools: ['Bash(git *)', 'Read'],
        permissionMode: 'acceptEdits',
        resume: 'a1b2c3',
      }),
    ).toEqual([
      'node',
      CLI,
      '-p',
      '--output-format',
      'stream-json',
      '--verbose',
      '--resume',
      'a1b2c3',
      '--model',
      'claude-sonnet-4-5',
      '--max-turns',
      '12',
      '--permission-mode',
      'acceptEdits',
      '--allowedTools',
      'Bash(git *),Read',
    ]);
  });

  it("keeps the project's own flags and replaces the ones the launch sets", () => {
    expect(
      claudeHeadlessCommand(
        [
          'claude',
          '--model',
          'opus',
          '--print',
          '--output-format=json',
          '--allowed-tools',
          'Edit',
          'Write',
          '--add-dir',
          '/data',
          '--verbose',
        ],
        { model: 'sonnet', allowedTools: ['Read'] },
      ),
    ).toEqual([
      'claude',
      '--print',
      '--add-dir',
      '/data',
      '--verbose',
      '--output-format',
      'stream-json',
      '--model',
      'sonnet',
      '--allowedTools',
      'Read',
    ]);
  });

  it('leaves options the launch does not set as they are', () => {
    expect(claudeHeadlessCommand(['claude', '--model=opus', '--max-turns', '3'])).toEqual([
      'claude',
      '--model=opus',
      '--max-turns',
      '3',
      '-p',
      '--output-format',
      'stream-json',
      '--verbose',
    ]);
  });

  it('replaces any earlier choice of session when resuming', () => {
    for (const choice of [
      ['--resume', 'old'],
      ['-r', 'old'],
      ['--resume=old'],
      ['-c'],
      ['--continue'],
      ['--session-id', '0b6c7a44-5d7e-4a54-9a3f-1f0c3a3e2b10'],
      ['-r'],
    ]) {
      const built = claudeHeadlessCommand(['claude', ...choice, '-p', '--verbose'], {
        resume: 'new',
      });
      expect(built).toEqual([
        'claude',
        '-p',
        '--verbose',
        '--output-format',
        'stream-json',
        '--resume',
        'new',
      ]);
      expect(resumedSessionOf(built ?? [])).toBe('new');
    }
  });

  it('puts its options before a `--` and leaves what follows it alone', () => {
    expect(claudeHeadlessCommand(['claude', '--', '--model', 'x'], { model: 'y' })).toEqual([
      'claude',
      '-p',
      '--output-format',
      'stream-json',
      '--verbose',
      '--model',
      'y',
      '--',
      '--model',
      'x',
    ]);
  });

  it('changes nothing when built again, and keeps a stream-json format where it is', () => {
    const options = { model: 'sonnet', maxTurns: 3, allowedTools: ['Read'], resume: 's' };
    const once = claudeHeadlessCommand(['claude', '--add-dir', '/x'], options) ?? [];
    expect(claudeHeadlessCommand(once, options)).toEqual(once);
    expect(claudeHeadlessCommand(['claude', '--output-format=stream-json', '--print'])).toEqual([
      'claude',
      '--output-format=stream-json',
      '--print',
      '--verbose',
    ]);
  });

  it('returns null for anything that is not Claude Code', () => {
    expect(claudeHeadlessCommand(['bash', '-c', 'make'], { model: 'x' })).toBeNull();
    expect(claudeHeadlessCommand([])).toBeNull();
  });
});

describe('resumedSessionOf', () => {
  it('reads the session a command resumes', () => {
    expect(resumedSessionOf(['claude', '-p', '--resume', 's1'])).toBe('s1');
    expect(resumedSessionOf(['node', CLI, '-r', 's2', '-p'])).toBe('s2');
    expect(resumedSessionOf(['claude', '--resume=s3'])).toBe('s3');
    expect(resumedSessionOf(['claude', '-r', '-p'])).toBeNull();
    expect(resumedSessionOf(['claude', '-p'])).toBeNull();
    expect(resumedSessionOf(['bash', '--resume', 's4'])).toBeNull();
  });
});
