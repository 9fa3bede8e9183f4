/**
 * Step 6 of the real-agent loop (test/helpers/agentLoop.ts): the lane's stored tokens (input,
 * cached input, output) and cost equal what the scripted model server sent.
 *
 * What the server sent: the usage of each reply to a main request (one that took a script step,
 * U1..U4). Side requests (session titles, Gemini's router) are not counted: none of the five CLIs
 * puts them in its usage records (measured: Codex's title request and opencode's title request
 * reach the server but not the rollout / the session's messages).
 *
 * How each CLI counts cached tokens, and how lanes/usage/ brings them to one convention (input
 * includes the cached part, as the server's figures do):
 * - Claude Code: `input_tokens` without cache reads, `cache_read_input_tokens` apart: added back.
 * - opencode: `tokens.input` without `tokens.cache.read`: added back.
 * - Codex, Gemini CLI, Copilot CLI: input includes the cached part already.
 *
 * The cost: Claude Code and opencode price their calls themselves (`priced: "agent"`: Claude Code
 * with its own price for claude-sonnet-4-5, opencode with the test config's 3 / 0.3 / 15 USD per
 * Mtok, test/model/agents.ts); the others are priced from lanes/usage/prices.ts (`"table"`).
 * Either way the figure equals the server's tokens at that price.
 */
import { expect } from 'vitest';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { ModelServer } from '../model/server.js';
import type { LoopAgent } from '../model/agents.js';
import { BUILTIN_PRICES, costOf, priceOf, type ModelPrice } from '../../lanes/usage/prices.js';
import { waitFor } from './waitFor.js';

export interface StoredUsage {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  costUsd: number;
  priced: 'agent' | 'table';
  models: { model: string }[];
}

/** The stored usage of the latest lane named `lane` (null: none yet). */
export function storedUsage(stateDir: string, lane: string): StoredUsage | null {
  const db = new Database(path.join(stateDir, 'ao.db'), { readonly: true });
  try {
    const row = db
      .prepare(
        `SELECT u.input_tokens AS inputTokens, u.cached_input_tokens AS cachedInputTokens,
                u.output_tokens AS outputTokens, u.cost_usd AS costUsd, u.priced AS priced, u.models AS models
         FROM lane_usage u JOIN lanes l ON l.id = u.lane_id WHERE l.name = ? ORDER BY l.id DESC LIMIT 1`,
      )
      .get(lane) as (Omit<StoredUsage, 'models'> & { models: string }) | undefined;
    return row ? { ...row, models: JSON.parse(row.models) as { model: string }[] } : null;
  } finally {
    db.close();
  }
}

/** The price each agent's cost is computed with here (see the file's comment). */
const AGENT_PRICES: Partial<Record<LoopAgent, ModelPrice>> = {
  opencode: { input: 3, cachedInput: 0.3, output: 15 },
};
const PRICED_BY: Record<LoopAgent, 'agent' | 'table'> = {
  claude: 'agent',
  opencode: 'agent',
  codex: 'table',
  gemini: 'table',
  copilot: 'table',
};

/**
 * Waits (the agent's last records are read at its exit and handoff, and every few seconds while
 * it runs) until the lane's stored usage equals the sum of the usage the server sent in its main
 * replies, then checks its cost and where the cost came from.
 */
export async function expectUsageMatches(
  l: { server: ModelServer; repo: { stateDir: string }; lane: string },
  agent: LoopAgent,
): Promise<StoredUsage> {
  const sent = l.server.mainRequests().map((r) => r.usage);
  const want = {
    inputTokens: sent.reduce((n, u) => n + u.inputTokens, 0),
    cachedInputTokens: sent.reduce((n, u) => n + (u.cachedInputTokens ?? 0), 0),
    outputTokens: sent.reduce((n, u) => n + u.outputTokens, 0),
  };
  const tokens = (u: StoredUsage | null) =>
    u && { inputTokens: u.inputTokens, cachedInputTokens: u.cachedInputTokens, outputTokens: u.outputTokens };
  let last: StoredUsage | null = null;
  await waitFor(
    () => {
      last = storedUsage(l.repo.stateDir, l.lane);
      // an agent that prices its calls writes its cost after the turn (Claude Code's cost-state)
      return JSON.stringify(tokens(last)) === JSON.stringify(want) && last?.priced === PRICED_BY[agent];
    },
    `the lane's stored usage to equal what the server sent ${JSON.stringify(want)}, priced by the ${PRICED_BY[agent]}`,
    20_000,
    200,
  ).catch(() => {});
  const got = last as StoredUsage | null;
  expect(tokens(got), `${agent}: stored usage against the server's main replies`).toEqual(want);
  const stored = got!;
  expect(stored.models).toHaveLength(1);
  const price = AGENT_PRICES[agent] ?? priceOf(stored.models[0].model, BUILTIN_PRICES);
  expect(price, `a price for ${stored.models[0].model}`).not.toBeNull();
  const cost = sent.reduce(
    (n, u) =>
      n +
      costOf(
        { inputTokens: u.inputTokens, cachedInputTokens: u.cachedInputTokens ?? 0, outputTokens: u.outputTokens },
        price!,
      ),
    0,
  );
  expect(stored.costUsd).toBeCloseTo(cost, 9);
  expect(stored.priced).toBe(PRICED_BY[agent]);
  return stored;
}
