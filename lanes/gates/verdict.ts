/** What every gate receives, and the one way a gate's verdict is built. */
import type { GateVerdict } from '../supervisor/api.js';
import type { VerdictStatus } from '../lane/types.js';

export interface GateContext {
  /** the lane's worktree: command gates run here */
  worktree: string;
  /** the repo's main working tree: built-in gates run git here */
  repoRoot: string;
  /** the base branch (or any commit-ish) the lane merges into */
  base: string;
  /** the lane's head commit; every verdict is bound to it */
  head: string;
  /** the allowlisted environment for command gates (the caller builds it; nothing else is inherited) */
  env: Record<string, string>;
  /** cancels a running gate (its process group is killed; the verdict is ERROR "cancelled") */
  signal?: AbortSignal;
}

export function makeVerdict(
  gate: { name: string; required: boolean },
  head: string,
  startedAt: number,
  status: VerdictStatus,
  output: string,
  exitCode: number | null = null,
): GateVerdict {
  const now = Date.now();
  return {
    gate: gate.name,
    status,
    required: gate.required,
    durationMs: Math.max(0, now - startedAt),
    exitCode,
    output,
    commit: head,
    stale: false,
    at: now,
  };
}

/** A gate verdict is stale when the lane's head moved on since it was given. */
export function isStale(verdict: Pick<GateVerdict, 'commit'>, currentHead: string | null): boolean {
  return currentHead === null || verdict.commit !== currentHead;
}

/** The verdicts with `stale` set against the lane's current head. */
export function withStaleness(verdicts: readonly GateVerdict[], currentHead: string | null): GateVerdict[] {
  return verdicts.map((v) => ({ ...v, stale: isStale(v, currentHead) }));
}
