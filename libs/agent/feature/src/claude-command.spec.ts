import { parseClaudeHeadlessCommand } from './claude-command';

describe('parseClaudeHeadlessCommand', () => {
  it.each([
    [['claude', '-p', 'fix it', '--output-format', 'stream-json', '--verbose']],
    [['/usr/local/bin/claude', '--print', '--output-format=stream-json', 'hi']],
    [
      [
        'node',
        '/opt/node_modules/@anthropic-ai/claude-code/cli.js',
        '-p',
        'x',
        '--output-format',
        'stream-json',
      ],
    ],
    [['npx', '@anthropic-ai/claude-code', '-p', 'x', '--output-format', 'stream-json']],
  ])('recognises a headless stream-json run: %j', (command) => {
    expect(parseClaudeHeadlessCommand(command)).toEqual({ resumed: false, resumedFrom: null });
  });

  it.each([
    [['claude']],
    [['claude', '-p', 'hi']],
    [['claude', '-p', 'hi', '--output-format', 'json']],
    [['claude', '--output-format', 'stream-json', 'hi']],
    [['bash', '-c', 'claude -p hi --output-format stream-json']],
    [['node', 'server.js', '-p', '--output-format', 'stream-json']],
    [[]],
  ])('leaves anything else alone: %j', (command) => {
    expect(parseClaudeHeadlessCommand(command)).toBeNull();
  });

  it('reads --resume with its session id, and --continue without one', () => {
    const base = ['claude', '-p', 'go on', '--output-format', 'stream-json'];
    expect(parseClaudeHeadlessCommand([...base, '--resume', 'abc-123'])).toEqual({
      resumed: true,
      resumedFrom: 'abc-123',
    });
    expect(parseClaudeHeadlessCommand([...base, '--resume=abc-123'])).toEqual({
      resumed: true,
      resumedFrom: 'abc-123',
    });
    expect(
      parseClaudeHeadlessCommand([
        'claude',
        '-r',
        'abc',
        '-p',
        'x',
        '--output-format',
        'stream-json',
      ]),
    ).toEqual({
      resumed: true,
      resumedFrom: 'abc',
    });
    expect(parseClaudeHeadlessCommand([...base, '-c'])).toEqual({
      resumed: true,
      resumedFrom: null,
    });
  });
});
