/**
 * Token usage and cost per lane (docs/usage.md): what each agent's own usage records say, read
 * by one reader per agent kind (claude.ts, codex.ts, gemini.ts, opencode.ts, copilot.ts), priced
 * (prices.ts) and kept per lane in the store (lanes/store/usage.ts).
 *
 * Token counts follow the OpenAI convention, as the scripted model server does: `inputTokens`
 * includes the cached part, `cachedInputTokens` is the part read from a prompt cache. (Anthropic
 * reports cache reads apart from `input_tokens`; its reader adds them back.)
 */

import { USAGE_READERS } from '../../profiles/schema.js';

/** The agent kinds a profile's `usage` field names (profiles/schema.ts). */
export const USAGE_KINDS = USAGE_READERS;
export type UsageKind = (typeof USAGE_READERS)[number];

/** Tokens of one model (or of a whole lane). */
export interface TokenCounts {
  /** every input token, the cached ones included */
  inputTokens: number;
  /** the part of inputTokens read from a prompt cache */
  cachedInputTokens: number;
  outputTokens: number;
}

/** What a reader found so far for one model: cumulative, never smaller on a later read. */
export interface ModelUsage extends TokenCounts {
  model: string;
  /** what the agent itself reported this cost (USD); null: it reports none (priced from the table) */
  agentCostUsd: number | null;
  /**
   * tokens the agent's cost does not cover yet (Claude Code writes its cost after each turn, its
   * tokens as they come): priced from the table on top of agentCostUsd
   */
  uncovered?: TokenCounts;
}

/** Which records belong to a lane: the agent's environment, its working directory, since when. */
export interface UsageScope {
  /** the environment the agent runs with (HOME, CODEX_HOME, XDG_*, CLAUDE_CONFIG_DIR, ...) */
  env: Readonly<Record<string, string | undefined>>;
  /** the lane's worktree (the agent's cwd) */
  cwd: string;
  /** epoch ms: records older than this are another lane's (a reused worktree path) */
  since: number;
}

/**
 * One lane's reader: each `read()` looks only at what is new since the last one (file offsets,
 * row ids) and returns the lane's totals per model so far. Never throws: missing, locked,
 * damaged or half-written records are skipped (a half-written last line is read when complete).
 */
export interface UsageReader {
  readonly kind: UsageKind;
  read(): ModelUsage[];
}

export const ZERO: TokenCounts = { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0 };

/** A non-negative whole number from an unknown JSON value (anything else counts 0). */
export function count(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.round(v) : 0;
}

/** Epoch ms of an ISO time or epoch number; NaN when neither. */
export function timeOf(v: unknown): number {
  if (typeof v === 'number') return v < 1e12 ? v * 1000 : v;
  if (typeof v === 'string') return Date.parse(v);
  return NaN;
}

/** The agent's home folder: HOME of its environment. */
export function homeOf(scope: UsageScope): string {
  return scope.env.HOME ?? '';
}

/** A lane's usage as stored and as front ends see it (LaneSnapshot.usage, `show --json`). */
export interface LaneUsageInfo extends TokenCounts {
  costUsd: number;
  /** where the cost came from: the agent's own figure ("agent") or the price table ("table") */
  priced: 'agent' | 'table';
  /** why the lane's agent is paused (its budget reached); absent when it is not */
  paused?: string;
}
