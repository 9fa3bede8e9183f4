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
 * Batch mode (`mergeQueue.batch` N > 1 in the repo config; off by default, docs/architecture.md
 * says why): when at least two entries wait, up to N of them, in order, are validated together
 * in all their lanes' turns: the landing chain (entry 1 onto the base, entry 2 onto that
 * landing, …; an entry that cannot be built fails as it would alone) is built with no checkout,
 * the required gates run once on its last commit (runRequired, the same code as one entry), and
 * if they pass and the base did not move, each entry lands its own link of the chain in order
 * (the base ends at the validated commit; a landing that fails sends the rest back to waiting).
 * If they fail, the batch is bisected: its first half is settled on its own (recursively), then
 * the rest, and a single entry goes the one-at-a-time way, so the entry that breaks the merged
 * tree fails as above and the others land. A kill -9 mid-batch loses nothing but the run: every
 * entry not landed starts over, every landing was journaled by the crash-safe merge.
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

/** How an entry (or a batch) ended: landed, failed (left the queue), or stopped (cancelled, a landing failed). */
type Outcome = 'landed' | 'failed' | 'stopped';

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
  /** the next entry goes one at a time (a batch just failed with an error) */
  private singleNext = false;
  /** lanes the operator is taking out, waiting for their turn: a batch skips them */
  private readonly removing = new Set<number>();

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
    // A batch holding the lane's turn leaves it alone from now on (nextBatch, settleGroup).
    this.removing.add(lane.row.id);
    try {
      await core.serial(lane, async () => {
        if (!isQueuedToMerge(lane.row.state) || !this.entryOf(lane.row.id)) return;
        this.leaving.set(lane.row.id, new ActionError(`lane "${name}" left the merge queue: ${why}`, 'left-queue'));
        core.move(lane, { type: 'dequeue' }, why);
      });
    } finally {
      this.removing.delete(lane.row.id);
    }
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
      const batch = this.nextBatch();
      if (batch) {
        try {
          await this.inTurns(batch, () => this.processBatch(batch));
        } catch (err) {
          if (core.closed) return;
          core.reportError(`the merge queue could not validate a batch: ${(err as Error).message}`, lane.row.name);
          // The batch's entries wait again; the head goes through the one-at-a-time path next,
          // where an error fails that one entry (never spin on a batch).
          this.backToWaiting(batch);
          this.singleNext = true;
        }
        continue;
      }
      this.singleNext = false;
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
  private async process(lane: LaneRecord): Promise<Outcome> {
    const { core } = this;
    const entry = this.entryOf(lane.row.id);
    if (!entry || !isQueuedToMerge(lane.row.state) || core.closed) return 'stopped';
    const { base } = lane.row;
    for (let attempt = 1; ; attempt++) {
      this.setState(lane, 'validating', attempt === 1 ? 'validating on the merged tree' : `validating again`);
      const prepared = await this.buildLanding(lane, entry);
      if ('failure' in prepared) return this.fail(lane, prepared.failure);
      const { landing } = prepared;
      const checked = await this.validate(lane, entry, landing);
      if (checked === 'cancelled') return 'stopped';
      if (!checked.ok) return this.fail(lane, mergedTreeFailure(base, landing.old, checked.verdicts));
      // The base must still be where it was validated on; else what lands would be another tree.
      const now = await core.git.branchTip(core.repoRoot, base);
      if (now !== landing.old) {
        core.logEvent(lane, 'queue-revalidate', `${base} moved while it was validated; validating again`, {
          validatedOn: landing.old,
          now,
        });
        if (attempt >= MAX_VALIDATIONS) return this.fail(lane, baseKeptMoving(base, attempt));
        continue;
      }
      return (await this.land(lane, landing, checked.note, checked.reused)) ? 'landed' : 'stopped';
    }
  }

  /**
   * The commit that would land for the entry: onto the base as it is now, or onto `onto` (the
   * landing of the entry before it in a batch). Or why the entry fails (the same reasons either way).
   */
  private async buildLanding(
    lane: LaneRecord,
    entry: queueDb.QueueEntryRow,
    onto?: string,
  ): Promise<{ landing: Landing } | { failure: Failure }> {
    const { core } = this;
    const { base } = lane.row;
    const tip = await core.branchTip(lane);
    if (tip !== entry.head) return { failure: laneMoved(entry.head, tip) };
    let landing: Landing;
    try {
      landing = await core.git.prepareLanding({
        repoRoot: core.repoRoot,
        base,
        branch: lane.row.branch,
        strategy: core.config.mergeStrategy,
        message: `Merge lane ${lane.row.name}: ${firstLine(lane.row.task)}`,
        author: core.config.commitAuthor,
        ...(onto ? { onto } : {}),
      });
    } catch (err) {
      if (err instanceof MergeConflictError)
        return {
          failure: {
            code: 'conflict',
            reason: `merge conflict with ${base} in ${err.paths.length} path(s): ${err.paths.join(', ')}`,
          },
        };
      if (err instanceof NotFastForwardError) return { failure: { code: 'conflict', reason: err.message } };
      throw err;
    }
    if (landing.laneHead !== entry.head) return { failure: laneMoved(entry.head, landing.laneHead) };
    if (landing.next === landing.old)
      return {
        failure: { code: 'nothing-to-merge', reason: `nothing to merge: ${base} already has the lane's changes` },
      };
    return { landing };
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
    const verdicts = await this.runRequired([lane], landing.old, landing.next);
    if (verdicts === 'cancelled') return 'cancelled';
    if (allPassed(verdicts))
      return {
        ok: true,
        reused: false,
        note: `required gates passed on ${lane.row.base} ${short(landing.old)} + the lane`,
      };
    return { ok: false, verdicts };
  }

  /**
   * Runs the required gates once on `next` (the landing of one entry, or the last landing of a
   * batch's chain) in a temporary worktree detached at it. Taking any of `lanes` out of the queue
   * (or the console's shutdown) cancels the run: 'cancelled'.
   */
  private async runRequired(lanes: LaneRecord[], old: string, next: string): Promise<GateVerdict[] | 'cancelled'> {
    const { core } = this;
    const lane = lanes[0];
    const required = core.config.gates.filter((g) => g.required);
    // Command gates run only when the operator allowed the repo's commands (lanes/trust/).
    const trust = decide(checkTrust(core.repoRoot, core.config, core.env));
    const run = core.gateRun(lane);
    for (const other of lanes) other.gates = run;
    let verdicts: GateVerdict[];
    try {
      verdicts = await core.git.withValidationWorktree(
        { repoRoot: core.repoRoot, stateDir: core.opts.stateDir, name: lane.row.name, commit: next },
        (dir) =>
          core.world.runGates({
            gates: required,
            worktree: dir,
            repoRoot: core.repoRoot,
            base: old,
            head: next,
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
      for (const other of lanes) if (other.gates === run) other.gates = undefined;
    }
    // Cancelled: by the console's shutdown (the entry starts over at the next start) or by the
    // operator taking a lane out (that action moves it, in its turn after this one).
    if (run.signal.aborted) return 'cancelled';
    return verdicts;
  }

  // ------------------------------------------------------------------ batch mode

  /**
   * With `mergeQueue.batch` N > 1: the first N waiting entries (at least two, in queue order;
   * an entry approved with override, and what follows it, goes one at a time), or null.
   */
  private nextBatch(): LaneRecord[] | null {
    const { core } = this;
    const size = core.config.mergeQueue?.batch ?? 1;
    if (this.paused || size < 2 || this.singleNext) return null;
    if (!core.config.gates.some((g) => g.required)) return null;
    const batch: LaneRecord[] = [];
    for (const e of this.entries) {
      if (batch.length >= size || e.state !== 'waiting' || e.override || this.removing.has(e.laneId)) break;
      const lane = this.byId(e.laneId);
      if (!lane || !isQueuedToMerge(lane.row.state)) break;
      batch.push(lane);
    }
    return batch.length >= 2 ? batch : null;
  }

  /** Runs `fn` in the turn of every lane (SupervisorCore.serial, nested in queue order). */
  private inTurns<T>(lanes: LaneRecord[], fn: () => Promise<T>): Promise<T> {
    const [first, ...rest] = lanes;
    return first ? this.core.serial(first, () => this.inTurns(rest, fn)) : fn();
  }

  /** The batch, in all its lanes' turns: validated merged together, landed or bisected. */
  private async processBatch(batch: LaneRecord[]): Promise<void> {
    try {
      await this.settleGroup(batch);
    } finally {
      // What did not land or fail (a cancelled run, a landing that failed) waits again, in its place.
      if (!this.core.closed) this.backToWaiting(batch);
    }
  }

  /**
   * Validates the group's entries merged together (one landing chain, the required gates once on
   * its last commit) and lands them in order; when the gates fail, bisects: the first half is
   * settled on its own (recursively), then the rest. One entry goes the one-at-a-time way
   * (process). 'stopped' when the batch must stop (cancelled, or a landing failed).
   */
  private async settleGroup(group: LaneRecord[]): Promise<Outcome> {
    const { core } = this;
    let members = group;
    for (let attempt = 1; ; attempt++) {
      if (core.closed) return 'stopped';
      const live = members.filter(
        (l) => isQueuedToMerge(l.row.state) && this.entryOf(l.row.id) && !this.removing.has(l.row.id),
      );
      if (live.length === 0) return 'failed';
      if (live.length === 1) return this.process(live[0]);
      for (const lane of live)
        this.setState(
          lane,
          'validating',
          attempt === 1
            ? `validating merged with ${live.length - 1} other entr${live.length === 2 ? 'y' : 'ies'} (batch of ${live.length})`
            : 'validating the batch again',
        );
      // The landing chain: each entry onto the landing of the one before (the first onto the base).
      // An entry that cannot be built fails as it would alone; the chain goes on without it.
      const chain: { lane: LaneRecord; landing: Landing }[] = [];
      for (const lane of live) {
        const entry = this.entryOf(lane.row.id);
        if (!entry) continue;
        const prepared = await this.buildLanding(lane, entry, chain.at(-1)?.landing.next);
        if ('failure' in prepared) this.fail(lane, prepared.failure);
        else chain.push({ lane, landing: prepared.landing });
      }
      if (chain.length < 2) return this.settleGroup(chain.map((c) => c.lane));
      const { base } = chain[0].lane.row;
      const old = chain[0].landing.old;
      const tip = chain[chain.length - 1].landing.next;
      const lanes = chain.map((c) => c.lane);
      const names = lanes.map((l) => l.row.name);
      const verdicts = await this.runRequired(lanes, old, tip);
      if (verdicts === 'cancelled') return 'stopped';
      if (!allPassed(verdicts)) {
        const mid = Math.ceil(chain.length / 2);
        const [first, rest] = [lanes.slice(0, mid), lanes.slice(mid)];
        const failed = verdicts.filter((v) => v.required && v.status !== 'PASS').map((v) => `${v.gate} ${v.status}`);
        for (const lane of lanes)
          core.logEvent(
            lane,
            'queue-bisect',
            `required gate(s) failed on ${base} ${short(old)} + ${lanes.length} lanes merged together (${failed.join('; ')}): bisecting`,
            { batch: names, old, next: tip, verdicts },
          );
        const firstHalf = await this.settleGroup(first);
        if (firstHalf === 'stopped') return 'stopped';
        return this.settleGroup(rest);
      }
      // The base must still be where the chain was built on; else what lands would be another tree.
      const now = await core.git.branchTip(core.repoRoot, base);
      if (now !== old) {
        for (const lane of lanes)
          core.logEvent(lane, 'queue-revalidate', `${base} moved while its batch was validated; validating again`, {
            validatedOn: old,
            now,
          });
        if (attempt >= MAX_VALIDATIONS) {
          for (const lane of lanes) this.fail(lane, baseKeptMoving(base, attempt));
          return 'failed';
        }
        members = lanes;
        continue;
      }
      // Each entry lands its own link of the chain, in order: the base ends at the validated commit.
      const note = `required gates passed on ${base} ${short(old)} + ${lanes.length} lanes merged together (${names.join(', ')})`;
      for (const { lane, landing } of chain) {
        // Taken out meanwhile: the links after it cannot land without it; they wait again.
        if (this.removing.has(lane.row.id) || core.closed) return 'stopped';
        const landed = await this.land(lane, landing, note, false, { lanes: names, tip });
        // A landing that failed: the entries after it wait again (processBatch).
        if (!landed) return 'stopped';
      }
      return 'landed';
    }
  }

  /** The batch's entries still in the queue and not landing wait again, in their places. */
  private backToWaiting(lanes: LaneRecord[]): void {
    for (const lane of lanes) {
      const entry = this.entryOf(lane.row.id);
      if (entry && entry.state === 'validating' && isQueuedToMerge(lane.row.state))
        this.setState(lane, 'waiting', 'waiting again');
    }
  }

  /**
   * Lands exactly the validated commit (journaled), then closes the lane as merged. True when it
   * landed. `batch`: the lanes validated together and the commit their gates ran on.
   */
  private async land(
    lane: LaneRecord,
    landing: Landing,
    note: string,
    reused: boolean,
    batch?: { lanes: string[]; tip: string },
  ): Promise<boolean> {
    const { core } = this;
    const name = lane.row.name;
    this.setState(lane, 'merging', 'merging');
    core.logEvent(lane, 'queue-validated', note, {
      old: landing.old,
      next: landing.next,
      reused,
      ...(batch ? { batch } : {}),
    });
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
      return false;
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
      return false;
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
    return true;
  }

  /** The entry fails: it leaves the queue, the lane goes back to awaiting approval with why. */
  private fail(lane: LaneRecord, failure: Failure, cause = `failed on the merged tree: ${failure.reason}`): 'failed' {
    const { core } = this;
    core.logEvent(lane, 'queue-failed', cause, { code: failure.code, verdicts: failure.verdicts ?? [] });
    this.leaving.set(
      lane.row.id,
      new ActionError(`lane "${lane.row.name}" left the merge queue: ${cause}`, failure.code),
    );
    core.move(lane, { type: 'dequeue' }, cause);
    return 'failed';
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

function allPassed(verdicts: GateVerdict[]): boolean {
  return verdicts.every((v) => !v.required || v.status === 'PASS');
}

/** The required gates failed on the tree that would land (alone, or the last of a bisection). */
function mergedTreeFailure(base: string, old: string, verdicts: GateVerdict[]): Failure {
  const failed = verdicts.filter((v) => v.required && v.status !== 'PASS');
  const what = failed.map((v) => `${v.gate} ${v.status}${v.output ? ` (${summarize(v.output)})` : ''}`);
  return {
    code: 'failed-on-merged-tree',
    reason: `required gate(s) failed on ${base} ${short(old)} + the lane: ${what.join('; ')}`,
    verdicts,
  };
}

function baseKeptMoving(base: string, attempts: number): Failure {
  return { code: 'base-moved', reason: `${base} kept moving while it was validated (${attempts} times)` };
}

function laneMoved(approved: string, now: string | null): Failure {
  return {
    code: 'lane-moved',
    reason: `its branch moved after it was approved (${short(approved)} → ${now ? short(now) : 'gone'}); re-run its gates and approve it again`,
  };
}
