/**
 * A lane's tokens and cost as the dashboard shows them (the lane list's cost column, the review
 * panel's usage line). Pure; the figures come from the engine (LaneSnapshot.usage, lanes/usage/).
 */
import type { LaneSnapshot } from '../state/types.js';

type Usage = NonNullable<LaneSnapshot['usage']>;

/** `$0.0070`, `$1.23`, `$123`; `-` with no usage read yet. A paused lane's cost ends in `⏸`. */
export function formatCost(usage: Usage | undefined): string {
  if (!usage) return '-';
  const c = usage.costUsd;
  const text = c >= 100 ? `$${c.toFixed(0)}` : c >= 1 ? `$${c.toFixed(2)}` : `$${c.toFixed(4)}`;
  return usage.paused ? `${text}⏸` : text;
}

/** `1.2k` for 1234, `3.4M` for 3,400,000. */
export function formatTokens(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${Math.round(n / 1e3)}k`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

/** `tokens 2.5k in (500 cached), 57 out · $0.0070 priced by the agent` (and why it is paused). */
export function usageLine(usage: Usage | undefined): string {
  if (!usage) return 'tokens: none read yet';
  const by = usage.priced === 'agent' ? 'priced by the agent' : 'priced from the price table';
  const line = `tokens ${formatTokens(usage.inputTokens)} in (${formatTokens(usage.cachedInputTokens)} cached), ${formatTokens(usage.outputTokens)} out · ${formatCost({ ...usage, paused: undefined })} ${by}`;
  return usage.paused ? `${line} · PAUSED: ${usage.paused}` : line;
}
