/** Pricing a lane's usage (lanes/usage/prices.ts): the table, the agent's own cost, and what it does not cover yet. */
import { describe, expect, it } from 'vitest';
import { BUILTIN_PRICES, PRICES_AS_OF, PRICES_SOURCE, costOf, priceOf, priceUsage } from '../../lanes/usage/prices.js';
import { parseRepoConfig } from '../../lanes/config/repoConfig.js';

describe('prices', () => {
  it('a model matches the longest key that is its name or a dated / provider-prefixed form of it', () => {
    expect(priceOf('claude-sonnet-4-5-20250929', BUILTIN_PRICES)).toEqual(BUILTIN_PRICES['claude-sonnet-4-5']);
    expect(priceOf('gpt-5-codex', BUILTIN_PRICES)).toBe(BUILTIN_PRICES['gpt-5-codex']);
    expect(priceOf('gpt-5-mini-2025-08-07', BUILTIN_PRICES)).toBe(BUILTIN_PRICES['gpt-5-mini']);
    expect(priceOf('openai/gpt-5', BUILTIN_PRICES)).toBe(BUILTIN_PRICES['gpt-5']);
    expect(priceOf('gemini-2.5-flash-lite', BUILTIN_PRICES)).toBe(BUILTIN_PRICES['gemini-2.5-flash-lite']);
    expect(priceOf('gpt-50', BUILTIN_PRICES)).toBeNull();
    expect(priceOf('scripted-model', BUILTIN_PRICES)).toBeNull();
    expect(PRICES_AS_OF).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(PRICES_SOURCE).toContain(PRICES_AS_OF);
  });

  it('input not cached, cached input and output each at their price (per million tokens)', () => {
    const u = { inputTokens: 2500, cachedInputTokens: 500, outputTokens: 57 };
    expect(costOf(u, { input: 3, cachedInput: 0.3, output: 15 })).toBeCloseTo(0.007005, 12);
  });

  it("the agent's cost where it gave one (priced: agent), the table's elsewhere (priced: table), unknown models named", () => {
    const claude = { model: 'claude-sonnet-4-5', inputTokens: 2500, cachedInputTokens: 500, outputTokens: 57 };
    expect(priceUsage([{ ...claude, agentCostUsd: 0.007005 }], BUILTIN_PRICES)).toMatchObject({
      costUsd: 0.007005,
      priced: 'agent',
      unpriced: [],
    });
    // tokens of a turn under way, not yet in Claude Code's cost-state: the table prices them
    const more = priceUsage(
      [
        {
          ...claude,
          agentCostUsd: 0.007005,
          uncovered: { inputTokens: 1000, cachedInputTokens: 0, outputTokens: 0 },
        },
      ],
      BUILTIN_PRICES,
    );
    expect(more.costUsd).toBeCloseTo(0.010005, 12);
    expect(more.priced).toBe('agent');
    const mixed = priceUsage(
      [
        { ...claude, agentCostUsd: 0.007005 },
        { model: 'gpt-5', inputTokens: 1_000_000, cachedInputTokens: 0, outputTokens: 0, agentCostUsd: null },
        { model: 'mystery', inputTokens: 5, cachedInputTokens: 0, outputTokens: 1, agentCostUsd: null },
      ],
      BUILTIN_PRICES,
    );
    expect(mixed.priced).toBe('table');
    expect(mixed.costUsd).toBeCloseTo(0.007005 + 1.25, 12);
    expect(mixed.unpriced).toEqual(['mystery']);
    expect(mixed.inputTokens).toBe(1_002_505);
  });

  it('the repo config: usage.prices over the table, usage.budget in USD, checked', () => {
    const parse = (raw: unknown) => parseRepoConfig(raw, { file: '.ao/config.json', hasTestScript: false });
    expect(parse({}).usage).toEqual({ prices: {}, budget: {} });
    const c = parse({
      usage: { prices: { 'my-model': { input: 2, output: 8 } }, budget: { laneUsd: 5, dayUsd: 50 } },
    });
    // cachedInput defaults to the input price
    expect(c.usage).toEqual({
      prices: { 'my-model': { input: 2, cachedInput: 2, output: 8 } },
      budget: { laneUsd: 5, dayUsd: 50 },
    });
    expect(() => parse({ usage: { budget: { laneUsd: 0 } } })).toThrow(/usage\.budget\.laneUsd: must be more than 0/);
    expect(() => parse({ usage: { budget: { perLane: 3 } } })).toThrow(/usage\.budget: unknown field "perLane"/);
    expect(() => parse({ usage: { prices: { m: { input: -1, output: 1 } } } })).toThrow(/usage\.prices\.m\.input/);
  });
});
