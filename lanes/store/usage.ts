/**
 * Token usage and cost per lane (tables `lane_usage` and `usage_days`, docs/data-model.md):
 * written by the engine's usage tracker (lanes/usage/tracker.ts), read by `show`, closures,
 * metrics and the budget.
 */
import { writeTransaction, type Db } from './open.js';

export type PricedBy = 'agent' | 'table';

/** A lane's usage as stored (and as `show --json` prints it). */
export interface LaneUsage {
  /** every input token, the cached ones included */
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** where the cost came from: the agent's own figure, or the price table */
  priced: PricedBy;
}

export interface ModelUsageRow extends Omit<LaneUsage, 'priced'> {
  model: string;
  /** null: nobody priced it (no agent cost, no table entry) */
  priced: PricedBy | null;
}

export interface LaneUsageRow extends LaneUsage {
  models: ModelUsageRow[];
  updatedAt: number;
}

interface Record_ {
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  priced: PricedBy;
  models: string;
  updated_at: number;
}

export function getLaneUsage(db: Db, laneId: number): LaneUsageRow | null {
  const r = db.prepare('SELECT * FROM lane_usage WHERE lane_id = ?').get(laneId) as Record_ | undefined;
  if (!r) return null;
  return {
    inputTokens: r.input_tokens,
    cachedInputTokens: r.cached_input_tokens,
    outputTokens: r.output_tokens,
    costUsd: r.cost_usd,
    priced: r.priced,
    models: JSON.parse(r.models) as ModelUsageRow[],
    updatedAt: r.updated_at,
  };
}

/** The local date `YYYY-MM-DD` of `at` (the daily budget's day). */
export function dayOf(at: number): string {
  const d = new Date(at);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/**
 * Stores the lane's totals now (they only grow: a smaller figure, e.g. records removed, keeps the
 * stored one) and adds what grew since the last save to today's row. Returns what grew.
 */
export function saveLaneUsage(
  db: Db,
  laneId: number,
  usage: LaneUsage & { models: ModelUsageRow[] },
  at: number,
): LaneUsage {
  return writeTransaction(db, () => {
    const old = getLaneUsage(db, laneId);
    const grow = (k: 'inputTokens' | 'cachedInputTokens' | 'outputTokens' | 'costUsd') =>
      Math.max(0, usage[k] - (old?.[k] ?? 0));
    const delta: LaneUsage = {
      inputTokens: grow('inputTokens'),
      cachedInputTokens: grow('cachedInputTokens'),
      outputTokens: grow('outputTokens'),
      costUsd: grow('costUsd'),
      priced: usage.priced,
    };
    const keep = (k: 'inputTokens' | 'cachedInputTokens' | 'outputTokens' | 'costUsd') =>
      Math.max(usage[k], old?.[k] ?? 0);
    db.prepare(
      `INSERT INTO lane_usage (lane_id, input_tokens, cached_input_tokens, output_tokens, cost_usd, priced, models, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (lane_id) DO UPDATE SET input_tokens = excluded.input_tokens,
         cached_input_tokens = excluded.cached_input_tokens, output_tokens = excluded.output_tokens,
         cost_usd = excluded.cost_usd, priced = excluded.priced, models = excluded.models, updated_at = excluded.updated_at`,
    ).run(
      laneId,
      keep('inputTokens'),
      keep('cachedInputTokens'),
      keep('outputTokens'),
      keep('costUsd'),
      usage.priced,
      JSON.stringify(usage.models),
      at,
    );
    if (delta.inputTokens + delta.outputTokens > 0 || delta.costUsd > 0) {
      db.prepare(
        `INSERT INTO usage_days (day, lane_id, input_tokens, cached_input_tokens, output_tokens, cost_usd)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (day, lane_id) DO UPDATE SET input_tokens = input_tokens + excluded.input_tokens,
           cached_input_tokens = cached_input_tokens + excluded.cached_input_tokens,
           output_tokens = output_tokens + excluded.output_tokens, cost_usd = cost_usd + excluded.cost_usd`,
      ).run(dayOf(at), laneId, delta.inputTokens, delta.cachedInputTokens, delta.outputTokens, delta.costUsd);
    }
    return delta;
  });
}

/** USD spent in the repo on `day` (YYYY-MM-DD, local), over every lane. */
export function dayCost(db: Db, day: string): number {
  return (
    (db.prepare('SELECT COALESCE(SUM(cost_usd), 0) FROM usage_days WHERE day = ?').pluck().get(day) as number) ?? 0
  );
}

/**
 * Cost per closed lane by how it ended, for the metrics panel: lanes merged, and lanes the
 * operator rejected (a reject decision, and not merged in the end).
 */
export function costByOutcome(db: Db): {
  merged: { lanes: number; usd: number };
  rejected: { lanes: number; usd: number };
} {
  const merged = db
    .prepare(
      `SELECT COUNT(*) AS lanes, COALESCE(SUM(u.cost_usd), 0) AS usd
       FROM closures c LEFT JOIN lane_usage u ON u.lane_id = c.lane_id WHERE c.outcome = 'merged'`,
    )
    .get() as { lanes: number; usd: number };
  const rejected = db
    .prepare(
      `SELECT COUNT(*) AS lanes, COALESCE(SUM(u.cost_usd), 0) AS usd
       FROM closures c LEFT JOIN lane_usage u ON u.lane_id = c.lane_id
       WHERE c.outcome IN ('rejected', 'discarded')
         AND EXISTS (SELECT 1 FROM decisions d WHERE d.lane_id = c.lane_id AND d.action = 'reject')`,
    )
    .get() as { lanes: number; usd: number };
  return { merged, rejected };
}
