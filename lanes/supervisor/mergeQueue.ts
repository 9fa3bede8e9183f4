/**
 * The merge queue: approved lanes land one at a time, in order (FIFO unless the operator moves
 * them), each validated on the tree that would actually land.
 *
 * For the entry at the head, in the lane's own turn (SupervisorCore.serial):
 * 1. the tree that would land is built: the base as it is now + the lane's approved head, with the
 *    configured strategy (lanes/git/landing.ts: `git merge-tree --write-tree`, no checkout). A
 *    conflict, a base that cannot be fast-forwarded (ff-only) or nothing to merge fails the entry;
 * 2. the REQUIRED gates run on it, in a temporary worktree detached at that commit (removed
 *    afterwards) — unless that tree is the lane head's own tree and its gates passed on that head
 *    (the base did not move since the lane's gates ran: the verdict stands), or the lane was
 *    approved with override (conflicts only);
 * 3. if the base moved while the gates ran, the entry is validated again; else exactly the
 *    validated commit lands through the crash-safe merge (lanes/git/merge.ts `prepared`: it
 *    refuses if the base or the lane moved in between).
 * A failing entry leaves the queue and its lane goes back to awaiting approval, with a
 * `queue-failed` event naming why (the verdicts of the gates run on the merged tree in its data,
 * shown in the review as "failed on the merged tree").
 *
 * The queue is stored (lanes/store/mergeQueue.ts): a console that dies leaves its lanes approved
 * in the queue (the state machine's `interrupt` keeps them so), and the next start takes it up
 * again; an entry that was validating or merging starts over (a merge the dead console had begun
 * was finished or rolled back by lanes/supervisor/mergeRecovery.ts first).
 */
import { randomBytes } from 'node:crypto';
import { ActionError, type GateVerdict, type MergeQueueInfo, type SupervisorEvent } from './api.js';
import type { LaneRecord, SupervisorCore } from './context.js';
import type { MergeQueuePlace } from '../lane/types.js';
import { isFinal, isMerging, isQueuedToMerge } from '../lane/rules.js';
import { BaseMovedError, LaneMovedError, MergeConflictError, NotFastForwardError } from '../git/merge.js';
import type { Landing } from '../git/landing.js';
import { checkTrust, decide } from '../trust/trust.js';
import { buildAgentEnv } from '../process/agentEnv.js';
import * as queueDb from '../store/mergeQueue.js';
import * as eventsDb from '../store/events.js';
import { closeLane } from './closure.js';
import { firstLine, summarize } from './review.js';

/** A base that keeps moving under validation is given up on after this many tries. */
const MAX_VALIDATIONS = 5;

const short = (sha: string) => sha.slice(0, 12);

/** Why an entry left the queue without landing: the `code` of the error `approve --wait` answers with. */
interface Failure {
  code: string;
  reason: string;
  verdicts?: GateVerdict[];
}

/** What validating a landing found. */
type Validation = { ok: true; note: string; reused: boolean } | { ok: false; verdicts: GateVerdict[] } | 'cancelled';

export class MergeQueue {
  private entries: queueDb.QueueEntryRow[] = [];
  private paused = false;
  private wakeUp: (() => void) | null = null;
  private readonly waiters = new Map<number, { resolve: () => void; reject: (err: Error) => void }[]>();
  /** why a lane is leaving the queue, set just before the state change that takes it out */
  private readonly leaving = new Map<number, ActionError>();
  private off: () => void = () => {};

  constructor(private readonly core: SupervisorCore) {}

  /** Takes up the stored queue (after recovery) and starts landing. Returns what it found, a sentence each. */
  start(): string[] {
    const { core } = this;
    const notes: string[] = [];
    const restarted = queueDb.resetInFlight(core.db);
    if (restarted) notes.push(`merge queue: ${restarted} entry(ies) that were validating or merging start over`);
    this.reload();
    for (const e of this.entries) {
      const lane = this.byId(e.laneId);
      if (lane && canLand(lane)) continue;
      queueDb.dequeueLane(core.db, e.laneId);
      if (lane) {
        core.logEvent(lane, 'queue-left', `left the merge queue: the lane is ${lane.row.state}`);
        notes.push(`merge queue: lane ${lane.row.name} left it (it is ${lane.row.state})`);
      }
    }
    this.reload();
    // An approved lane with no entry (a console that died between the two writes) goes back to review.
    for (const lane of core.lanes.values()) {
      if (!isQueuedToMerge(lane.row.state) || this.entryOf(lane.row.id)) continue;
      core.move(lane, { type: 'dequeue' }, 'not in the merge queue (the console died as it was approved)');
      notes.push(`merge queue: lane ${lane.row.name} was approved but not queued: back in awaiting approval`);
    }
    this.paused = queueDb.queuePaused(core.db);
    this.off = core.on((ev) => this.onEvent(ev));
    void this.loop();
    return notes;
  }

  close(): void {
    this.off();
    this.wake();
  }

  // ------------------------------------------------------------------ reading

  info(): MergeQueueInfo {
    return {
      paused: this.paused,
      entries: this.entries.flatMap((e) => {
        const lane = this.byId(e.laneId);
        return lane ? [{ lane: lane.row.name, state: e.state, since: e.since }] : [];
      }),
    };
  }

  /** Where the lane is in the queue (for its snapshot), or undefined. */
  place(laneId: number): MergeQueuePlace | undefined {
    const i = this.entries.findIndex((e) => e.laneId === laneId);
    if (i < 0) return undefined;
    const e = this.entries[i];
    return { position: i + 1, length: this.entries.length, state: e.state, since: e.since, paused: this.paused };
  }

  /** The latest time the lane failed on the merged tree since its latest handoff (null when none). */
  lastFailure(lane: LaneRecord): { at: number; reason: string; verdicts: GateVerdict[] } | null {
    const failed = eventsDb.listEvents(this.core.db, lane.row.id, { kind: 'queue-failed' }).at(-1);
    if (!failed) return null;
    const handoff = eventsDb.listEvents(this.core.db, lane.row.id, { kind: 'handoff' }).at(-1);
    if (handoff && handoff.id > failed.id) return null;
    const data = (failed.data ?? {}) as { verdicts?: GateVerdict[] };
    return { at: failed.at, reason: failed.cause ?? '', verdicts: data.verdicts ?? [] };
  }

  // ------------------------------------------------------------------ the operator's actions

  /**
   * Puts an approved lane at the end of the queue. The caller moves the lane to approved right
   * after (no await between), in the lane's turn: the queue takes it up after that turn.
   */
  enqueue(lane: LaneRecord, opts: { head: string; override: boolean }): void {
    queueDb.enqueueLane(this.core.db, { laneId: lane.row.id, head: opts.head, override: opts.override });
    this.changed(lane.row.name, `queued to merge (${this.entries.length + 1} in the queue)`);
  }

  /** Resolves once the lane landed; rejects with why when it leaves the queue otherwise. */
  whenLanded(lane: LaneRecord): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const list = this.waiters.get(lane.row.id) ?? [];
      list.push({ resolve, reject });
      this.waiters.set(lane.row.id, list);
    });
  }

  move(name: string, position: number): MergeQueueInfo {
    const lane = this.core.require(name);
    const entry = this.requireEntry(lane);
    if (entry.state !== 'waiting')
      throw new ActionError(
        `lane "${name}" is ${entry.state} in the merge queue; only a waiting entry moves`,
        'bad-state',
      );
    if (!Number.isInteger(position) || position < 1)
      throw new ActionError('a queue position is a whole number from 1', 'bad-input');
    const inFlight = this.entries.filter((e) => e.state !== 'waiting').map((e) => e.laneId);
    const waiting = this.entries.filter((e) => e.state === 'waiting' && e.laneId !== entry.laneId).map((e) => e.laneId);
    const at = Math.min(Math.max(position - 1 - inFlight.length, 0), waiting.length);
    waiting.splice(at, 0, entry.laneId);
    queueDb.reorderQueue(this.core.db, [...inFlight, ...waiting]);
    this.changed(name, `moved to position ${inFlight.length + at + 1} of the merge queue`);
    return this.info();
  }

  /** Takes the lane out of the queue: its validation is cancelled, it goes back to awaiting approval. */
  async remove(name: string): Promise<void> {
    const { core } = this;
    const lane = core.require(name);
    const entry = this.requireEntry(lane);
    if (entry.state === 'merging')
      throw new ActionError(`lane "${name}" is merging; a merge is in progress; it finishes in seconds`, 'bad-state');
    core.assertAllowed(lane, 'dequeue');
    const why = 'taken out of the merge queue by the operator';
    core.cancelGates(lane, why);
    await core.serial(lane, async () => {
      if (!isQueuedToMerge(lane.row.state) || !this.entryOf(lane.row.id)) return;
      this.leaving.set(lane.row.id, new ActionError(`lane "${name}" left the merge queue: ${why}`, 'left-queue'));
      core.move(lane, { type: 'dequeue' }, why);
    });
  }

  pause(paused: boolean): MergeQueueInfo {
    queueDb.setQueuePaused(this.core.db, paused);
    this.paused = paused;
    this.changed(
      undefined,
      paused ? 'merge queue paused (an entry validating or merging finishes)' : 'merge queue resumed',
    );
    return this.info();
  }

  // ------------------------------------------------------------------ the queue at work

  private async loop(): Promise<void> {
    const { core } = this;
    while (!core.closed) {
      const head = this.paused ? undefined : this.entries[0];
      if (!head) {
        await new Promise<void>((resolve) => (this.wakeUp = resolve));
        this.wakeUp = null;
        continue;
      }
      const lane = this.byId(head.laneId);
      if (!lane || !canLand(lane)) {
        this.drop(head.laneId);
        continue;
      }
      try {
        await core.serial(lane, () => this.process(lane));
      } catch (err) {
        if (core.closed) return;
        const reason = `the merge queue could not validate it: ${(err as Error).message}`;
        core.reportError(reason, lane.row.name);
        // Never spin on one entry: it goes back to review with the reason.
        if (isQueuedToMerge(lane.row.state) && this.entryOf(lane.row.id))
          this.fail(lane, { code: 'internal', reason }, `left the merge queue: ${reason}`);
        else this.drop(lane.row.id);
      }
    }
  }

  /** Validates the lane's landing on the merged tree and lands it (in the lane's turn). */
  private async process(lane: LaneRecord): Promise<void> {
    const { core } = this;
    const entry = this.entryOf(lane.row.id);
    if (!entry || !isQueuedToMerge(lane.row.state) || core.closed) return;
    const { base } = lane.row;
    for (let attempt = 1; ; attempt++) {
      this.setState(lane, 'validating', attempt === 1 ? 'validating on the merged tree' : `validating again`);
      const tip = await core.branchTip(lane);
      if (tip !== entry.head) return this.fail(lane, laneMoved(entry.head, tip));
      let landing: Landing;
      try {
        landing = await core.git.prepareLanding({
          repoRoot: core.repoRoot,
          base,
          branch: lane.row.branch,
          strategy: core.config.mergeStrategy,
          message: `Merge lane ${lane.row.name}: ${firstLine(lane.row.task)}`,
          author: core.config.commitAuthor,
        });
      } catch (err) {
        if (err instanceof MergeConflictError)
          return this.fail(lane, {
            code: 'conflict',
            reason: `merge conflict with ${base} in ${err.paths.length} path(s): ${err.paths.join(', ')}`,
          });
        if (err instanceof NotFastForwardError) return this.fail(lane, { code: 'conflict', reason: err.message });
        throw err;
      }
      if (landing.laneHead !== entry.head) return this.fail(lane, laneMoved(entry.head, landing.laneHead));
      if (landing.next === landing.old)
        return this.fail(lane, {
          code: 'nothing-to-merge',
          reason: `nothing to merge: ${base} already has the lane's changes`,
        });
      const checked = await this.validate(lane, entry, landing);
      if (checked === 'cancelled') return;
      if (!checked.ok) {
        const failed = checked.verdicts.filter((v) => v.required && v.status !== 'PASS');
        const what = failed.map((v) => `${v.gate} ${v.status}${v.output ? ` (${summarize(v.output)})` : ''}`);
        return this.fail(lane, {
          code: 'failed-on-merged-tree',
          reason: `required gate(s) failed on ${base} ${short(landing.old)} + the lane: ${what.join('; ')}`,
          verdicts: checked.verdicts,
        });
      }
      // The base must still be where it was validated on; else what lands would be another tree.
      const now = await core.git.branchTip(core.repoRoot, base);
      if (now !== landing.old) {
        core.logEvent(lane, 'queue-revalidate', `${base} moved while it was validated; validating again`, {
          validatedOn: landing.old,
          now,
        });
        if (attempt >= MAX_VALIDATIONS)
          return this.fail(lane, {
            code: 'base-moved',
            reason: `${base} kept moving while it was validated (${attempt} times)`,
          });
        continue;
      }
      return this.land(lane, landing, checked.note, checked.reused);
    }
  }

  /** Runs the required gates on the landing's tree, or says why they need not run. */
  private async validate(lane: LaneRecord, entry: queueDb.QueueEntryRow, landing: Landing): Promise<Validation> {
    const { core } = this;
    const required = core.config.gates.filter((g) => g.required);
    if (entry.override)
      return { ok: true, reused: false, note: 'approved with override: gates not run on the merged tree' };
    if (required.length === 0) return { ok: true, reused: false, note: 'no required gate' };
    if (landing.tree === landing.laneTree) {
      const own = core.verdictsOf(lane, landing.laneHead);
      const passed = required.every((g) => own.some((v) => v.gate === g.name && v.status === 'PASS' && !v.stale));
      if (passed)
        return {
          ok: true,
          reused: true,
          note: `the tree that lands is the one its gates passed on (${lane.row.base} did not move since): not run again`,
        };
    }
    // Command gates run only when the operator allowed the repo's commands (lanes/trust/).
    const trust = decide(checkTrust(core.repoRoot, core.config, core.env));
    const run = core.gateRun(lane);
    let verdicts: GateVerdict[];
    try {
      verdicts = await core.git.withValidationWorktree(
        { repoRoot: core.repoRoot, stateDir: core.opts.stateDir, name: lane.row.name, commit: landing.next },
        (dir) =>
          core.world.runGates({
            gates: required,
            worktree: dir,
            repoRoot: core.repoRoot,
            base: landing.old,
            head: landing.next,
            env: buildAgentEnv({
              source: core.env,
              passthrough: lane.profile.envPassthrough,
              extra: {},
              lane: lane.row.name,
              session: core.sessionId,
              stateDir: core.opts.stateDir,
              procToken: lane.row.procToken ?? randomBytes(12).toString('hex'),
            }),
            signal: run.signal,
            failFast: core.config.gateMode?.failFast,
            parallel: core.config.gateMode?.parallel,
            trust,
          }),
      );
    } finally {
      run.end();
    }
    // Cancelled: by the console's shutdown (the entry starts over at the next start) or by the
    // operator taking the lane out (that action moves it, in its turn after this one).
    if (run.signal.aborted) return 'cancelled';
    if (verdicts.every((v) => !v.required || v.status === 'PASS'))
      return {
        ok: true,
        reused: false,
        note: `required gates passed on ${lane.row.base} ${short(landing.old)} + the lane`,
      };
    return { ok: false, verdicts };
  }

  /** Lands exactly the validated commit (journaled), then closes the lane as merged. */
  private async land(lane: LaneRecord, landing: Landing, note: string, reused: boolean): Promise<void> {
    const { core } = this;
    const name = lane.row.name;
    this.setState(lane, 'merging', 'merging');
    core.logEvent(lane, 'queue-validated', note, { old: landing.old, next: landing.next, reused });
    core.move(lane, { type: 'land' }, note);
    let result;
    try {
      result = await core.git.mergeLane({
        repoRoot: core.repoRoot,
        base: lane.row.base,
        branch: lane.row.branch,
        strategy: core.config.mergeStrategy,
        message: `Merge lane ${name}: ${firstLine(lane.row.task)}`,
        author: core.config.commitAuthor,
        journal: { stateDir: core.opts.stateDir, lane: name, laneId: lane.row.id },
        prepared: { old: landing.old, laneHead: landing.laneHead, next: landing.next },
      });
    } catch (err) {
      const reason = (err as Error).message;
      const moved = err instanceof BaseMovedError || err instanceof LaneMovedError;
      // The review shows the latest merge failure (reviewOf); the timeline has it as the state's cause.
      core.logEvent(lane, 'merge-failed', reason, { error: (err as Error).name });
      this.leaving.set(
        lane.row.id,
        new ActionError(`merge of lane "${name}" failed: ${reason}`, moved ? 'base-moved' : 'conflict'),
      );
      core.move(lane, { type: 'merge-failed' }, reason);
      return;
    }
    if (!result.changed) {
      core.logEvent(lane, 'merge-failed', `nothing to merge: ${lane.row.base} already has the lane's changes`);
      this.leaving.set(
        lane.row.id,
        new ActionError(
          `nothing to merge: lane ${name} has no commits beyond ${lane.row.base}; discard it instead`,
          'nothing-to-merge',
        ),
      );
      core.move(lane, { type: 'merge-failed' }, 'nothing to merge');
      return;
    }
    core.logEvent(lane, 'merge', `merged into ${lane.row.base} as ${result.commit}`, {
      commit: result.commit,
      previous: result.previous,
    });
    lane.mergedFrom = result.previous;
    core.move(lane, { type: 'merged' }, `merged as ${short(result.commit)}`);
    try {
      await closeLane(core, lane, 'merged');
      // Recorded merged with its closure: the journal's intent has done its job.
      core.git.clearMergeIntent(core.opts.stateDir, lane.row.id);
    } finally {
      this.settle(lane.row.id, null);
    }
  }

  /** The entry fails: it leaves the queue, the lane goes back to awaiting approval with why. */
  private fail(lane: LaneRecord, failure: Failure, cause = `failed on the merged tree: ${failure.reason}`): void {
    const { core } = this;
    core.logEvent(lane, 'queue-failed', cause, { code: failure.code, verdicts: failure.verdicts ?? [] });
    this.leaving.set(
      lane.row.id,
      new ActionError(`lane "${lane.row.name}" left the merge queue: ${cause}`, failure.code),
    );
    core.move(lane, { type: 'dequeue' }, cause);
  }

  // ------------------------------------------------------------------ bookkeeping

  /** A lane in the queue changed state: out of it unless it is still approved or merging. */
  private onEvent(ev: SupervisorEvent): void {
    if (ev.type !== 'lane-state') return;
    const lane = this.core.lanes.get(ev.lane);
    if (!lane || !this.entryOf(lane.row.id) || canLand(lane)) return;
    const id = lane.row.id;
    this.drop(id);
    this.core.emit({ type: 'queue', lane: ev.lane, message: `left the merge queue: ${ev.cause}` });
    // A landed lane's waiters hear it once its closure is written (land).
    if (!(isMerging(ev.from) && isFinal(ev.to)))
      this.settle(
        id,
        this.leaving.get(id) ?? new ActionError(`lane "${ev.lane}" left the merge queue: ${ev.cause}`, 'left-queue'),
      );
    this.leaving.delete(id);
  }

  private settle(laneId: number, err: ActionError | null): void {
    const list = this.waiters.get(laneId) ?? [];
    this.waiters.delete(laneId);
    for (const w of list) {
      if (err) w.reject(err);
      else w.resolve();
    }
  }

  private drop(laneId: number): void {
    queueDb.dequeueLane(this.core.db, laneId);
    this.reload();
    this.wake();
  }

  private setState(lane: LaneRecord, state: queueDb.QueueEntryState, message: string): void {
    queueDb.setEntryState(this.core.db, lane.row.id, state);
    this.changed(lane.row.name, message);
  }

  private changed(lane: string | undefined, message: string): void {
    this.reload();
    this.core.emit({ type: 'queue', lane, message });
    this.wake();
  }

  private reload(): void {
    this.entries = queueDb.listQueue(this.core.db);
  }

  private wake(): void {
    this.wakeUp?.();
  }

  private entryOf(laneId: number): queueDb.QueueEntryRow | undefined {
    return this.entries.find((e) => e.laneId === laneId);
  }

  private requireEntry(lane: LaneRecord): queueDb.QueueEntryRow {
    const entry = this.entryOf(lane.row.id);
    if (!entry) throw new ActionError(`lane "${lane.row.name}" is not in the merge queue`, 'bad-state');
    return entry;
  }

  private byId(laneId: number): LaneRecord | undefined {
    for (const lane of this.core.lanes.values()) if (lane.row.id === laneId) return lane;
    return undefined;
  }
}

/** Still in the queue's hands: waiting to land (approved) or landing (merging). */
function canLand(lane: LaneRecord): boolean {
  return isQueuedToMerge(lane.row.state) || isMerging(lane.row.state);
}

function laneMoved(approved: string, now: string | null): Failure {
  return {
    code: 'lane-moved',
    reason: `its branch moved after it was approved (${short(approved)} → ${now ? short(now) : 'gone'}); re-run its gates and approve it again`,
  };
}
