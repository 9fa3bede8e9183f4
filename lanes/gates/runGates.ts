/**
 * Runs a lane's gates at handoff and returns one verdict per gate, in config order, each bound
 * to the lane's head. Sequential by default; `parallel` starts them all at once.
 *
 * Fail-fast: once a REQUIRED gate does not pass, the gates not yet started are not run and are
 * reported as ERROR "skipped …" (so every configured gate has a verdict and none reads as passed);
 * in parallel mode the gates still running are cancelled (their process groups killed) and
 * reported as ERROR "cancelled …".
 *
 * A worktree deleted behind the console's back (before or while the gates run) makes every gate
 * that starts after it ERROR "worktree … is gone" at once: no gate runs, none hangs.
 *
 * Command gates run only when the repo's commands are allowed (lanes/trust/): `trust` says so;
 * without it the gates are checked against the repo's config and the trust file here, so no
 * caller runs a command gate the operator did not allow. A gate not allowed is ERROR with the
 * reason and how to allow it; built-in gates run either way.
 */
import { stat } from 'node:fs/promises';
import { isBuiltinGate, type BuiltinGateConfig, type GateConfig } from '../config/repoConfig.js';
import { resolveCommit } from '../git/refs.js';
import type { GateVerdict } from '../supervisor/api.js';
import { diffLimitGate } from './diffLimit.js';
import { mergeCleanGate } from './mergeClean.js';
import { noSecretsGate } from './noSecrets.js';
import { protectedPathsGate } from './protectedPaths.js';
import { runCommandGate, worktreeGone, type CommandGateOptions } from './runCommandGate.js';
import { makeVerdict, type GateContext } from './verdict.js';
import { loadRepoConfig } from '../config/repoConfig.js';
import { ALLOWED, checkTrust, decide, type TrustDecision } from '../trust/trust.js';

export { isStale, withStaleness } from './verdict.js';
export { worktreeGone } from './runCommandGate.js';

export interface RunGatesOptions extends GateContext {
  gates: GateConfig[];
  failFast?: boolean;
  parallel?: boolean;
  /** called as each verdict is known (including skipped ones) */
  onVerdict?: (verdict: GateVerdict) => void;
  /** tuning for command gates (output bound, kill grace) */
  command?: CommandGateOptions;
  /** whether command gates may run (lanes/trust/); absent: asked of the repo's config and the trust file */
  trust?: TrustDecision;
}

/**
 * Whether these gates' commands may run: the repo's config with these gates, against the trust
 * file. A config that cannot be read allows none.
 */
export async function gatesTrust(repoRoot: string, gates: GateConfig[], env = process.env): Promise<TrustDecision> {
  if (gates.every(isBuiltinGate)) return ALLOWED;
  try {
    const config = await loadRepoConfig(repoRoot);
    return decide(checkTrust(repoRoot, { ...config, gates }, env));
  } catch (err) {
    return { allowed: false, reason: `command gates are not run: ${(err as Error).message}` };
  }
}

const BUILTINS: Record<
  BuiltinGateConfig['builtin'],
  (gate: BuiltinGateConfig, ctx: GateContext) => Promise<GateVerdict>
> = {
  'merge-clean': mergeCleanGate,
  'diff-limit': diffLimitGate,
  'protected-paths': protectedPathsGate,
  'no-secrets': noSecretsGate,
};

/** Whether `worktree` is still a directory. */
export async function worktreeExists(worktree: string): Promise<boolean> {
  try {
    return (await stat(worktree)).isDirectory();
  } catch {
    return false;
  }
}

/** Runs one gate of either kind; never throws (a failure to run is an ERROR verdict). */
export async function runGate(gate: GateConfig, ctx: GateContext, command?: CommandGateOptions): Promise<GateVerdict> {
  const startedAt = Date.now();
  try {
    if (!(await worktreeExists(ctx.worktree)))
      return makeVerdict(gate, ctx.head, startedAt, 'ERROR', worktreeGone(ctx.worktree));
    if (isBuiltinGate(gate)) return await BUILTINS[gate.builtin](gate, ctx);
    return await runCommandGate(gate, ctx, command);
  } catch (err) {
    return makeVerdict(gate, ctx.head, startedAt, 'ERROR', `${(err as Error).message}\n`);
  }
}

const failed = (v: GateVerdict) => v.required && v.status !== 'PASS';

export async function runGates(opts: RunGatesOptions): Promise<GateVerdict[]> {
  const { gates, failFast = false, parallel = false, onVerdict, command, trust: given, ...base } = opts;
  const ctx: GateContext = base;
  const trust = given ?? (await gatesTrust(ctx.repoRoot, gates));
  const runChecked = (gate: GateConfig, c: GateContext): Promise<GateVerdict> =>
    !trust.allowed && !isBuiltinGate(gate)
      ? Promise.resolve(makeVerdict(gate, c.head, Date.now(), 'ERROR', `not run: ${trust.reason}\n`))
      : runGate(gate, c, command);
  const verdicts: (GateVerdict | undefined)[] = new Array(gates.length);
  let stoppedBy: string | null = null;
  const record = (i: number, v: GateVerdict) => {
    verdicts[i] = v;
    onVerdict?.(v);
    if (failFast && stoppedBy === null && failed(v)) stoppedBy = v.gate;
  };
  const skipped = (gate: GateConfig, why: string) => makeVerdict(gate, ctx.head, Date.now(), 'ERROR', `${why}\n`);

  if (parallel) {
    const cancel = new AbortController();
    const outer = ctx.signal;
    const onOuterAbort = () => cancel.abort(outer?.reason);
    outer?.addEventListener('abort', onOuterAbort, { once: true });
    if (outer?.aborted) cancel.abort(outer.reason);
    try {
      await Promise.all(
        gates.map(async (gate, i) => {
          // A command gate cancelled here reports "[ao] cancelled: fail-fast: …" in its output.
          record(i, await runChecked(gate, { ...ctx, signal: cancel.signal }));
          if (stoppedBy !== null && !cancel.signal.aborted)
            cancel.abort(`fail-fast: required gate "${stoppedBy}" failed`);
        }),
      );
    } finally {
      outer?.removeEventListener('abort', onOuterAbort);
    }
  } else {
    for (const [i, gate] of gates.entries()) {
      if (stoppedBy !== null) {
        record(i, skipped(gate, `skipped: not run after required gate "${stoppedBy}" failed (fail-fast)`));
      } else if (ctx.signal?.aborted) {
        record(i, skipped(gate, `skipped: gating cancelled (${String(ctx.signal.reason ?? 'cancelled')})`));
      } else {
        record(i, await runChecked(gate, ctx));
      }
    }
  }

  // A verdict is about `head`; if the worktree moved on while the gates ran, say so at once.
  const now = await resolveCommit(ctx.worktree, 'HEAD');
  const moved = now !== null && now !== ctx.head;
  return verdicts.map((v) => (moved ? { ...(v as GateVerdict), stale: true } : (v as GateVerdict)));
}
