/**
 * Prices per model, for agents that report no cost of their own (Codex, Gemini CLI, Copilot CLI
 * with your own provider; Claude Code and opencode price their calls themselves). USD per million
 * tokens: input (not cached), cached input (cache reads), output. The repo config's
 * `usage.prices` adds models or overrides these (docs/config.md).
 *
 * A model matches the longest key that is its name or a prefix of it followed by "-" or "@"
 * (`claude-sonnet-4-5-20250929` is `claude-sonnet-4-5`). A model with no price costs nothing
 * and the lane's usage says so (`unpriced`).
 */
import type { ModelUsage, TokenCounts } from './types.js';

export interface ModelPrice {
  /** USD per million input tokens not read from a cache */
  input: number;
  /** USD per million input tokens read from a cache */
  cachedInput: number;
  /** USD per million output tokens (reasoning included) */
  output: number;
}

/** When the table below was taken, and from where. */
export const PRICES_AS_OF = '2025-11-01';
export const PRICES_SOURCE =
  "the vendors' published API price lists (anthropic.com/pricing, openai.com/api/pricing, ai.google.dev/gemini-api/docs/pricing) as of 2025-11-01; standard tier, short-context prices; not checked again since";

export const BUILTIN_PRICES: Readonly<Record<string, ModelPrice>> = {
  // Anthropic
  'claude-opus-4-5': { input: 5, cachedInput: 0.5, output: 25 },
  'claude-opus-4-1': { input: 15, cachedInput: 1.5, output: 75 },
  'claude-opus-4': { input: 15, cachedInput: 1.5, output: 75 },
  'claude-sonnet-4-5': { input: 3, cachedInput: 0.3, output: 15 },
  'claude-sonnet-4': { input: 3, cachedInput: 0.3, output: 15 },
  'claude-3-7-sonnet': { input: 3, cachedInput: 0.3, output: 15 },
  'claude-haiku-4-5': { input: 1, cachedInput: 0.1, output: 5 },
  'claude-3-5-haiku': { input: 0.8, cachedInput: 0.08, output: 4 },
  // OpenAI
  'gpt-5': { input: 1.25, cachedInput: 0.125, output: 10 },
  'gpt-5-codex': { input: 1.25, cachedInput: 0.125, output: 10 },
  'gpt-5-mini': { input: 0.25, cachedInput: 0.025, output: 2 },
  'gpt-5-nano': { input: 0.05, cachedInput: 0.005, output: 0.4 },
  'gpt-4.1': { input: 2, cachedInput: 0.5, output: 8 },
  'gpt-4.1-mini': { input: 0.4, cachedInput: 0.1, output: 1.6 },
  'gpt-4o': { input: 2.5, cachedInput: 1.25, output: 10 },
  'gpt-4o-mini': { input: 0.15, cachedInput: 0.075, output: 0.6 },
  o3: { input: 2, cachedInput: 0.5, output: 8 },
  'o4-mini': { input: 1.1, cachedInput: 0.275, output: 4.4 },
  // Google
  'gemini-2.5-pro': { input: 1.25, cachedInput: 0.125, output: 10 },
  'gemini-2.5-flash': { input: 0.3, cachedInput: 0.03, output: 2.5 },
  'gemini-2.5-flash-lite': { input: 0.1, cachedInput: 0.01, output: 0.4 },
  'gemini-2.0-flash': { input: 0.1, cachedInput: 0.025, output: 0.4 },
};

/** The price of `model` in `table` (longest matching key), or null. */
export function priceOf(model: string, table: Readonly<Record<string, ModelPrice>>): ModelPrice | null {
  const name = model.toLowerCase().replace(/^.*\//, ''); // "openai/gpt-5" -> "gpt-5"
  let best: string | null = null;
  for (const key of Object.keys(table)) {
    const k = key.toLowerCase();
    const hit = name === k || (name.startsWith(k) && /[-@:]/.test(name[k.length] ?? ''));
    if (hit && (best === null || k.length > best.length)) best = key;
  }
  return best === null ? null : table[best];
}

/** USD for `tokens` at `price`. */
export function costOf(tokens: TokenCounts, price: ModelPrice): number {
  const cached = Math.min(tokens.cachedInputTokens, tokens.inputTokens);
  return (
    ((tokens.inputTokens - cached) * price.input + cached * price.cachedInput + tokens.outputTokens * price.output) /
    1e6
  );
}

/** Where a lane's cost figure came from: the agent's own records, or this table (or the repo's). */
export type PricedBy = 'agent' | 'table';

export interface PricedUsage extends TokenCounts {
  /** USD: the agent's figure for models it priced, the table's for the rest */
  costUsd: number;
  /** "agent" when the agent priced every model it used; else "table" */
  priced: PricedBy;
  /** models with tokens that neither the agent nor the table priced (they count 0 USD) */
  unpriced: string[];
  /** tokens and cost per model */
  models: (ModelUsage & { costUsd: number; priced: PricedBy | null })[];
}

/** Totals of a lane's per-model usage, priced: the agent's cost where it gave one, else the table's. */
export function priceUsage(models: readonly ModelUsage[], table: Readonly<Record<string, ModelPrice>>): PricedUsage {
  const out: PricedUsage = {
    inputTokens: 0,
    cachedInputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
    priced: 'agent',
    unpriced: [],
    models: [],
  };
  for (const m of models) {
    out.inputTokens += m.inputTokens;
    out.cachedInputTokens += m.cachedInputTokens;
    out.outputTokens += m.outputTokens;
    let cost = 0;
    let by: PricedBy | null = null;
    if (m.agentCostUsd !== null) {
      cost = m.agentCostUsd;
      by = 'agent';
      const price = m.uncovered ? priceOf(m.model, table) : null;
      if (m.uncovered && price) cost += costOf(m.uncovered, price);
    } else {
      const price = priceOf(m.model, table);
      out.priced = 'table';
      if (price) {
        cost = costOf(m, price);
        by = 'table';
      } else if (m.inputTokens + m.outputTokens > 0) out.unpriced.push(m.model);
    }
    out.costUsd += cost;
    out.models.push({ ...m, costUsd: cost, priced: by });
  }
  if (models.length === 0) out.priced = 'table';
  return out;
}
