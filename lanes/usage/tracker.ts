/**
 * The engine's usage tracker: keeps each lane's tokens and cost (lanes/store/usage.ts) from its
 * agent's own records (one reader per lane, by the profile's `usage` field), and the budget of
 * the repo config (`usage.budget`: per lane and per day, USD).
 *
 * - When: one timer (every 5 s) reads the lanes whose agent runs; a lane is also read at once
 *   when its agent exits, when it hands off, and before its closure is written. A reader reads
 *   only what was appended since its last read (lanes/usage/jsonl.ts), so a lane whose files did
 *   not change costs a stat or two.
 * - Budget: at 80% of a limit the operator is told (a notice); at 100% the lane's agent is
 *   paused (SIGSTOP to its process group) and the lane shows waiting-input with the reason. It
 *   stays paused until the budget is raised (the config is watched: `configChanged`) or the
 *   lane is stopped or removed (SIGCONT first, so it can exit). A new day lifts the daily limit.
 */
import { BUILTIN_PRICES, priceUsage, type ModelPrice } from './prices.js';
import { createUsageReader } from './readers.js';
import type { LaneUsageInfo, UsageKind, UsageReader } from './types.js';
import { dayCost, dayOf, getLaneUsage, saveLaneUsage, type LaneUsage } from '../store/usage.js';
import type { Db } from '../store/open.js';
import type { UsageConfig } from '../config/repoConfig.js';

/** The timer's period. */
export const USAGE_POLL_MS = 5000;
/** The share of a limit at which the operator is told. */
export const BUDGET_WARN_AT = 0.8;

/** What the tracker needs of a lane. */
export interface UsageLane {
  id: number;
  name: string;
  createdAt: number;
  worktree: string;
}

/** What the tracker needs of the engine. */
export interface UsageHost {
  db: Db;
  config(): UsageConfig;
  /** the lane's agent pid (a process-group leader) while it runs, else null */
  agentPid(laneId: number): number | null;
  /** tell the operator (a notice to every front end; `warning`: a budget limit is 80% used, for the notifiers too) */
  notice(lane: string, message: string, level?: 'warning'): void;
  /** the lane is paused for its budget: show it waiting for the operator, with the reason */
  paused(lane: string, reason: string): void;
  /** for tests: how a signal reaches a process group (default process.kill) */
  signal?: (pid: number, signal: NodeJS.Signals) => void;
  now?: () => number;
}

interface Tracked {
  lane: UsageLane;
  reader: UsageReader;
  /** the latest figures (stored) */
  usage: LaneUsage | null;
  /** the limits already warned about: `lane:<usd>` / `day:<date>:<usd>` */
  warned: Set<string>;
  /** the paused process group and why, while paused */
  pause: { pid: number; reason: string } | null;
}

export class UsageTracker {
  private readonly lanes = new Map<number, Tracked>();
  /** stored figures of lanes this engine does not read (they do not change) */
  private readonly storedCache = new Map<number, LaneUsage | null>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly host: UsageHost,
    opts: { pollMs?: number } = {},
  ) {
    this.timer = setInterval(() => this.tick(), opts.pollMs ?? USAGE_POLL_MS);
    this.timer.unref();
  }

  /** The lane's agent started (or started again) with `env`: its records are read from now on. */
  started(lane: UsageLane, kind: UsageKind | undefined, env: Readonly<Record<string, string | undefined>>): void {
    if (this.closed || !kind) return;
    const had = this.lanes.get(lane.id);
    this.storedCache.delete(lane.id);
    // A new reader reads the lane's records since it was created: totals, not increments.
    const reader = createUsageReader(kind, { env, cwd: lane.worktree, since: lane.createdAt });
    this.lanes.set(lane.id, {
      lane,
      reader,
      usage: had?.usage ?? this.stored(lane.id),
      warned: had?.warned ?? new Set(),
      pause: null,
    });
  }

  /** Reads the lane's records now (its agent exited, it handed off, it is closing). */
  update(laneId: number): void {
    const t = this.lanes.get(laneId);
    if (t) this.poll(t);
  }

  /** The lane's usage (stored figures for lanes this engine does not read), or null when none. */
  usageOf(laneId: number): LaneUsageInfo | null {
    const t = this.lanes.get(laneId);
    let usage = t?.usage ?? null;
    if (!t) {
      if (!this.storedCache.has(laneId)) this.storedCache.set(laneId, this.closed ? null : this.stored(laneId));
      usage = this.storedCache.get(laneId) ?? null;
    }
    if (!usage) return null;
    return t?.pause ? { ...usage, paused: t.pause.reason } : usage;
  }

  /** The lane left the live states (stopped, removed, failed) or went away: resume a paused agent so it can exit. */
  released(laneId: number, opts: { forget?: boolean } = {}): void {
    const t = this.lanes.get(laneId);
    if (!t) return;
    this.unpause(t);
    if (opts.forget) this.lanes.delete(laneId);
  }

  /** The lane's agent exited: its last records are read; a pause ends with it (no signal to a gone process). */
  exited(laneId: number): void {
    const t = this.lanes.get(laneId);
    if (!t) return;
    t.pause = null;
    this.poll(t);
  }

  /** The repo config changed: budgets raised lift pauses; lowered ones pause at the next read. */
  configChanged(): void {
    for (const t of this.lanes.values()) this.checkBudget(t);
  }

  /** The timer: lanes whose agent runs, and paused lanes (a new day lifts the daily limit). */
  tick(): void {
    if (this.closed) return;
    for (const t of this.lanes.values()) {
      try {
        if (t.pause || this.host.agentPid(t.lane.id) !== null) this.poll(t);
      } catch {
        // a reader never takes the engine down: tried again next tick
      }
    }
  }

  /** A last read of every lane whose agent runs (the engine shuts down), then paused agents go on. */
  close(): void {
    if (this.closed) return;
    for (const t of this.lanes.values()) {
      try {
        if (this.host.agentPid(t.lane.id) !== null) this.poll(t, { budget: false });
      } catch {
        // the figures stay as last stored
      }
    }
    this.closed = true;
    clearInterval(this.timer);
    for (const t of this.lanes.values()) this.unpause(t);
  }

  private stored(laneId: number): LaneUsage | null {
    const row = getLaneUsage(this.host.db, laneId);
    if (!row) return null;
    const { models: _m, updatedAt: _u, ...usage } = row;
    return usage;
  }

  private poll(t: Tracked, opts: { budget?: boolean } = {}): void {
    if (this.closed) return;
    const config = this.host.config();
    const table: Record<string, ModelPrice> = { ...BUILTIN_PRICES, ...config.prices };
    const priced = priceUsage(t.reader.read(), table);
    const now = (this.host.now ?? Date.now)();
    const same =
      t.usage !== null &&
      t.usage.inputTokens === priced.inputTokens &&
      t.usage.cachedInputTokens === priced.cachedInputTokens &&
      t.usage.outputTokens === priced.outputTokens &&
      Math.abs(t.usage.costUsd - priced.costUsd) < 1e-12 &&
      t.usage.priced === priced.priced;
    if (!same && (priced.models.length > 0 || t.usage !== null)) {
      saveLaneUsage(
        this.host.db,
        t.lane.id,
        {
          ...priced,
          models: priced.models.map((m) => ({
            model: m.model,
            inputTokens: m.inputTokens,
            cachedInputTokens: m.cachedInputTokens,
            outputTokens: m.outputTokens,
            costUsd: m.costUsd,
            priced: m.priced,
          })),
        },
        now,
      );
      t.usage = this.stored(t.lane.id);
    }
    if (opts.budget !== false) this.checkBudget(t);
  }

  /** Warns at 80% of a limit, pauses at 100%, resumes when no limit is reached any more. */
  private checkBudget(t: Tracked): void {
    if (this.closed) return;
    const { budget } = this.host.config();
    const spent = t.usage?.costUsd ?? 0;
    const now = (this.host.now ?? Date.now)();
    const day = dayOf(now);
    const limits: { key: string; what: string; spent: number; limit: number }[] = [];
    if (budget.laneUsd !== undefined)
      limits.push({ key: `lane:${budget.laneUsd}`, what: 'its lane budget', spent, limit: budget.laneUsd });
    if (budget.dayUsd !== undefined && (t.usage || t.pause))
      limits.push({
        key: `day:${day}:${budget.dayUsd}`,
        what: "the repo's budget for today",
        spent: dayCost(this.host.db, day),
        limit: budget.dayUsd,
      });
    let over: (typeof limits)[number] | null = null;
    for (const l of limits) {
      if (l.spent >= l.limit) over ??= l;
      else if (l.spent >= BUDGET_WARN_AT * l.limit && !t.warned.has(l.key)) {
        t.warned.add(l.key);
        this.host.notice(
          t.lane.name,
          `has used ${Math.floor((100 * l.spent) / l.limit)}% of ${l.what} (${usd(l.spent)} of ${usd(l.limit)}); at 100% its agent is paused`,
          'warning',
        );
      }
    }
    if (over && !t.pause) {
      const pid = this.host.agentPid(t.lane.id);
      if (pid === null) return;
      const reason = `budget reached: ${usd(over.spent)} of ${over.what} ${usd(over.limit)}; agent paused — raise usage.budget in .ao/config.json to go on, or stop the lane`;
      try {
        (this.host.signal ?? killGroup)(pid, 'SIGSTOP');
      } catch {
        return; // gone meanwhile
      }
      t.pause = { pid, reason };
      t.warned.add(over.key);
      this.host.paused(t.lane.name, reason);
    } else if (!over && t.pause) {
      this.unpause(t);
      this.host.notice(t.lane.name, 'budget raised: its agent goes on');
    }
  }

  private unpause(t: Tracked): void {
    if (!t.pause) return;
    const { pid } = t.pause;
    t.pause = null;
    try {
      (this.host.signal ?? killGroup)(pid, 'SIGCONT');
    } catch {
      // already gone
    }
  }
}

/** A signal to the process group `pid` leads (a lane's agent is its pty's session leader). */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  process.kill(-pid, signal);
}

export function usd(n: number): string {
  return n >= 100 ? `$${n.toFixed(0)}` : n >= 1 ? `$${n.toFixed(2)}` : `$${n.toFixed(4)}`;
}
