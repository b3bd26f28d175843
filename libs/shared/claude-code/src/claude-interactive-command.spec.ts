import { claudeSessionChoice, withClaudeSessionId } from './claude-interactive-command';

const ID = '7d0c2a8e-3b4f-4d6a-9e1c-5f2b8a7c6d40';
const OLD = '11111111-2222-4333-8444-555555555555';

describe('claudeSessionChoice', () => {
  it('reads the session options of an interactive command line', () => {
    expect(claudeSessionChoice(['claude'])).toEqual({
      sessionId: null,
      resumedFrom: null,
      picksSession: false,
      print: false,
    });
    expect(claudeSessionChoice(['claude', '--session-id', ID, '--model', 'opus'])).toMatchObject({
      sessionId: ID,
      picksSession: false,
    });
    expect(claudeSessionChoice(['claude', `--session-id=${ID}`])?.sessionId).toBe(ID);
    expect(claudeSessionChoice(['claude', '--resume', OLD])).toEqual({
      sessionId: OLD,
      resumedFrom: OLD,
      picksSession: false,
      print: false,
    });
    expect(claudeSessionChoice(['claude', '-r', OLD, '--fork-session'])).toEqual({
      sessionId: null,
      resumedFrom: OLD,
      picksSession: true,
      print: false,
    });
    expect(claudeSessionChoice(['claude', '--continue'])?.picksSession).toBe(true);
    expect(claudeSessionChoice(['claude', '--resume'])).toMatchObject({
      sessionId: null,
      picksSession: true,
    });
    expect(claudeSessionChoice(['node', '/x/@anthropic-ai/claude-code/cli.js', '-p'])?.print).toBe(
      true,
    );
  });

  it('stops at -- and knows nothing of other commands', () => {
    expect(claudeSessionChoice(['claude', '--', '--resume', OLD])?.resumedFrom).toBeNull();
    expect(claudeSessionChoice(['bash', '--resume', OLD])).toBeNull();
  });
});

describe('withClaudeSessionId', () => {
  it('fixes the session id right after the program', () => {
    expect(withClaudeSessionId(['claude', 'fix the bug'], ID)).toEqual([
      'claude',
      '--session-id',
      ID,
      'fix the bug',
    ]);
    expect(
      withClaudeSessionId(['npx', '@anthropic-ai/claude-code', '--model', 'opus'], ID),
    ).toEqual(['npx', '@anthropic-ai/claude-code', '--session-id', ID, '--model', 'opus']);
  });

  it('leaves a command alone that picks its own session, or is not Claude Code', () => {
    for (const command of [
      ['claude', '--session-id', OLD],
      ['claude', '--resume', OLD],
      ['claude', '--continue'],
      ['claude', '-r'],
      ['bash', '-l'],
    ]) {
      expect(withClaudeSessionId(command, ID)).toBe(command);
    }
  });
});
