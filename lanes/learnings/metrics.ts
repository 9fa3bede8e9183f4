/**
 * The metrics panel's numbers, from the store's counts (lanes/store/metrics.ts): gate pass rate
 * per profile, approvals against rejections, median time from handoff to decision, rework, and
 * the cost of merged and of rejected lanes (lanes/store/usage.ts).
 */
import type { Db } from '../store/open.js';
import { decisionCounts, decisionWaits, gateRunsByProfile, reworkTotals } from '../store/metrics.js';
import type { ConsoleMetrics } from '../supervisor/api.js';
import { costByOutcome } from '../store/usage.js';

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function computeMetrics(db: Db): ConsoleMetrics {
  const runs = gateRunsByProfile(db);
  const decisions = decisionCounts(db);
  const waits = decisionWaits(db);
  const rework = reworkTotals(db);
  const cost = costByOutcome(db);
  return {
    gates: runs.map((r) => ({
      profile: r.profile,
      runs: r.runs,
      passed: r.passed,
      passRate: r.runs ? r.passed / r.runs : null,
    })),
    approvals: decisions.find((d) => d.action === 'approve')?.n ?? 0,
    rejections: decisions.find((d) => d.action === 'reject')?.n ?? 0,
    medianDecisionMs: median(waits.filter((w): w is number => w !== null && w >= 0)),
    reworkCount: rework.total,
    lanesReworked: rework.lanes,
    cost: {
      merged: { ...cost.merged, perLane: cost.merged.lanes ? cost.merged.usd / cost.merged.lanes : null },
      rejected: { ...cost.rejected, perLane: cost.rejected.lanes ? cost.rejected.usd / cost.rejected.lanes : null },
    },
  };
}
