import { apiUsageSchema, applyDeltaUsage, toTokenUsage } from './api-usage.schema';
import { usage } from './fixtures.test-support';
import { encodeProjectDirectory, transcriptRelativePath } from './transcript-location';
import { findUsageLimitNotice } from './usage-limit';

describe('toTokenUsage', () => {
  it('splits cache writes by lifetime, counting an unsplit remainder as 5-minute writes', () => {
    const read = (value: unknown) => toTokenUsage(apiUsageSchema.parse(value));
    expect(
      read({
        input_tokens: 3,
        output_tokens: 13,
        cache_creation_input_tokens: 13_835,
        cache_read_input_tokens: 11_515,
        cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 13_835 },
        server_tool_use: { web_search_requests: 2, web_fetch_requests: 1 },
        service_tier: 'standard',
      }),
    ).toEqual(
      usage({
        inputTokens: 3,
        outputTokens: 13,
        cacheCreation1hTokens: 13_835,
        cacheReadTokens: 11_515,
        webSearchRequests: 2,
      }),
    );
    expect(read({ input_tokens: 1, output_tokens: 2, cache_creation_input_tokens: 25 })).toEqual(
      usage({ inputTokens: 1, outputTokens: 2, cacheCreation5mTokens: 25 }),
    );
    expect(
      read({
        input_tokens: 1,
        output_tokens: 2,
        cache_creation_input_tokens: 100,
        cache_creation: { ephemeral_1h_input_tokens: 60 },
        cache_read_input_tokens: null,
      }),
    ).toEqual(
      usage({
        inputTokens: 1,
        outputTokens: 2,
        cacheCreation5mTokens: 40,
        cacheCreation1hTokens: 60,
      }),
    );
  });

  it('refuses what the accounting relies on when it is missing or wrong', () => {
    expect(apiUsageSchema.safeParse({ input_tokens: 1 }).success).toBe(false);
    expect(apiUsageSchema.safeParse({ input_tokens: 1.5, output_tokens: 1 }).success).toBe(false);
  });
});

describe('applyDeltaUsage', () => {
  it('replaces the counts a message_delta gives and keeps the others', () => {
    const started = usage({
      inputTokens: 12,
      outputTokens: 1,
      cacheCreation1hTokens: 50,
      cacheReadTokens: 100,
    });
    expect(applyDeltaUsage(started, { output_tokens: 42 })).toEqual({
      ...started,
      outputTokens: 42,
    });
    expect(
      applyDeltaUsage(started, {
        output_tokens: 42,
        cache_creation_input_tokens: 80,
        input_tokens: 12,
      }),
    ).toEqual({ ...started, outputTokens: 42, cacheCreation5mTokens: 30 });
  });
});

describe('findUsageLimitNotice', () => {
  it('reads the reset time of the pipe notice, in seconds or milliseconds', () => {
    expect(findUsageLimitNotice('Claude AI usage limit reached|1750003200', false)).toEqual({
      resetsAt: new Date('2025-06-15T16:00:00Z'),
    });
    expect(findUsageLimitNotice('Claude AI usage limit reached|1750003200000', false)).toEqual({
      resetsAt: new Date('2025-06-15T16:00:00Z'),
    });
    expect(findUsageLimitNotice('Claude AI usage limit reached.', false)).toEqual({
      resetsAt: null,
    });
  });

  it('trusts the looser wordings only in texts that can only be Claude Code’s own', () => {
    const text = '5-hour limit reached ∙ resets 3pm';
    expect(findUsageLimitNotice(text, true)).toEqual({ resetsAt: null });
    expect(findUsageLimitNotice(text, false)).toBeNull();
    expect(findUsageLimitNotice("You've hit your limit · resets 3pm", true)).toEqual({
      resetsAt: null,
    });
  });
});

describe('transcriptRelativePath', () => {
  it('encodes the working directory as Claude Code names its project folders', () => {
    // From the samples: /private/tmp/claude-hook-schema-test has its transcript under
    // projects/-private-tmp-claude-hook-schema-test/<session>.jsonl.
    expect(transcriptRelativePath('/private/tmp/claude-hook-schema-test', 'a135d3b1')).toBe(
      'projects/-private-tmp-claude-hook-schema-test/a135d3b1.jsonl',
    );
    expect(encodeProjectDirectory('/home/me/my_repo.git')).toBe('-home-me-my-repo-git');
  });

  it('cuts a name above 200 characters and appends a base-36 hash of the path', () => {
    // '/' + 'a' x 300: encoded '-' + 'a' x 199 after the cut. The hash (Java-style
    // h = 31h + c over the path, 32-bit) of '/' followed by a's is checked against an
    // independent computation with BigInt arithmetic here.
    const path = `/${'a'.repeat(300)}`;
    let h = 0n;
    for (const c of path) h = BigInt.asIntN(32, h * 31n + BigInt(c.charCodeAt(0)));
    const expectedHash = (h < 0n ? -h : h).toString(36);
    expect(encodeProjectDirectory(path)).toBe(`-${'a'.repeat(199)}-${expectedHash}`);
  });
});
