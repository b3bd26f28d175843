/**
 * Anthropic list prices, USD per million tokens (web search: USD per 1,000 searches).
 *
 * Source: Anthropic's pricing page, https://platform.claude.com/docs/en/about-claude/pricing
 * ("Model pricing", "Long context pricing", "Web search tool"), checked 2026-11-24. Cross-checked
 * against Claude Code's own `costUSD`: the stream-json samples in `fixtures/` (claude-opus-4-5,
 * CLI 2.1.3 and 2.1.7) cost exactly what these rates give.
 *
 * Long context: Sonnet 4 and Sonnet 4.5 bill a request whose prompt (input + cache writes +
 * cache reads) exceeds 200,000 tokens at the long-context rates, for all of its tokens, output
 * included. Opus 4.6 and Sonnet 4.6 have billed the whole 1M window at standard rates since the
 * window became generally available (2026-03-13), so they have no long-context tier here.
 *
 * Entries are matched in order against the model id (case-insensitive regular expressions, not
 * anchored: `claude-sonnet-4-5-20250929`, `anthropic.claude-sonnet-4-5-20250929-v1:0` and
 * `claude-sonnet-4-5@20250929` all match `sonnet-4-5`). Override or extend them through
 * configuration (`resolvePricingTable`), never by editing prices in code elsewhere.
 */
export const DEFAULT_PRICING_DATA = {
  source: 'https://platform.claude.com/docs/en/about-claude/pricing',
  checkedOn: '2026-11-24',
  webSearchPerThousand: 10,
  models: [
    {
      id: 'claude-opus-4-5',
      label: 'Claude Opus 4.5 to 4.8',
      match: 'opus-4-[5-8](?![0-9])',
      rates: { input: 5, output: 25, cacheWrite5m: 6.25, cacheWrite1h: 10, cacheRead: 0.5 },
    },
    {
      id: 'claude-opus-4-1',
      label: 'Claude Opus 4.1',
      match: 'opus-4-1(?![0-9])',
      rates: { input: 15, output: 75, cacheWrite5m: 18.75, cacheWrite1h: 30, cacheRead: 1.5 },
    },
    {
      id: 'claude-opus-4',
      label: 'Claude Opus 4',
      match: 'opus-4(?:-0)?(?:$|[^0-9-]|-[0-9]{8})',
      rates: { input: 15, output: 75, cacheWrite5m: 18.75, cacheWrite1h: 30, cacheRead: 1.5 },
    },
    {
      id: 'claude-sonnet-4-6',
      label: 'Claude Sonnet 4.6',
      match: 'sonnet-4-6(?![0-9])',
      rates: { input: 3, output: 15, cacheWrite5m: 3.75, cacheWrite1h: 6, cacheRead: 0.3 },
    },
    {
      id: 'claude-sonnet-4-5',
      label: 'Claude Sonnet 4.5',
      match: 'sonnet-4-5(?![0-9])',
      rates: { input: 3, output: 15, cacheWrite5m: 3.75, cacheWrite1h: 6, cacheRead: 0.3 },
      longContext: { input: 6, output: 22.5, cacheWrite5m: 7.5, cacheWrite1h: 12, cacheRead: 0.6 },
    },
    {
      id: 'claude-sonnet-4',
      label: 'Claude Sonnet 4',
      match: 'sonnet-4(?:-0)?(?:$|[^0-9-]|-[0-9]{8})',
      rates: { input: 3, output: 15, cacheWrite5m: 3.75, cacheWrite1h: 6, cacheRead: 0.3 },
      longContext: { input: 6, output: 22.5, cacheWrite5m: 7.5, cacheWrite1h: 12, cacheRead: 0.6 },
    },
    {
      id: 'claude-3-7-sonnet',
      label: 'Claude Sonnet 3.7',
      match: '3-7-sonnet',
      rates: { input: 3, output: 15, cacheWrite5m: 3.75, cacheWrite1h: 6, cacheRead: 0.3 },
    },
    {
      id: 'claude-haiku-4-5',
      label: 'Claude Haiku 4.5',
      match: 'haiku-4-5(?![0-9])',
      rates: { input: 1, output: 5, cacheWrite5m: 1.25, cacheWrite1h: 2, cacheRead: 0.1 },
    },
    {
      id: 'claude-3-5-haiku',
      label: 'Claude Haiku 3.5',
      match: '3-5-haiku',
      rates: { input: 0.8, output: 4, cacheWrite5m: 1, cacheWrite1h: 1.6, cacheRead: 0.08 },
    },
    {
      id: 'claude-3-haiku',
      label: 'Claude Haiku 3',
      match: '3-haiku',
      rates: { input: 0.25, output: 1.25, cacheWrite5m: 0.3, cacheWrite1h: 0.5, cacheRead: 0.03 },
    },
    {
      id: 'claude-3-opus',
      label: 'Claude Opus 3',
      match: '3-opus',
      rates: { input: 15, output: 75, cacheWrite5m: 18.75, cacheWrite1h: 30, cacheRead: 1.5 },
    },
  ],
} as const;
