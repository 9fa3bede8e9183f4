/**
 * The lane rules: what a lane in a given state allows (stop, attach, hand off, approve, ...) and
 * why not otherwise, all read off the state machine (lanes/lane/stateMachine.ts). The supervisor,
 * the control protocol, the keymap, attach and recovery ask these; no other file lists states.
 */
import { canTransition, transition } from './stateMachine.js';
import { LANE_STATES, type LaneEvent, type LaneState } from './types.js';

export type LaneAction =
  | 'stop'
  | 'attach'
  | 'send'
  | 'handoff'
  | 'wait-input'
  | 'approve'
  | 'dequeue'
  | 'reject'
  | 'rework'
  | 'discard'
  | 'remove'
  | 'rerun-gates'
  | 'resume';

/**
 * One event of each kind (and each variant that can lead elsewhere), so a rule can ask "does any
 * event move this state?". A new event type fails to compile until it is listed here.
 */
const EVENTS: { [K in LaneEvent['type']]: Extract<LaneEvent, { type: K }>[] } = {
  queue: [{ type: 'queue' }],
  start: [{ type: 'start' }],
  spawned: [{ type: 'spawned' }],
  activity: [
    { type: 'activity', activity: 'busy' },
    { type: 'activity', activity: 'idle' },
    { type: 'activity', activity: 'waiting-input' },
  ],
  exit: [
    { type: 'exit', code: 0, signal: null, handoffOnExit: false },
    { type: 'exit', code: 0, signal: null, handoffOnExit: true },
    { type: 'exit', code: 1, signal: null, handoffOnExit: false },
    { type: 'exit', code: null, signal: 9, handoffOnExit: false },
  ],
  handoff: [{ type: 'handoff' }],
  'gates-done': [{ type: 'gates-done' }],
  approve: [{ type: 'approve' }],
  land: [{ type: 'land' }],
  dequeue: [{ type: 'dequeue' }],
  merged: [{ type: 'merged' }],
  'merge-failed': [{ type: 'merge-failed' }],
  rework: [{ type: 'rework' }],
  'rerun-gates': [{ type: 'rerun-gates' }],
  discard: [{ type: 'discard' }],
  remove: [{ type: 'remove' }],
  stop: [{ type: 'stop' }],
  interrupt: [{ type: 'interrupt' }],
  resume: [{ type: 'resume' }],
  fail: [{ type: 'fail', reason: 'failed' }],
};

/** Every event the state machine takes, one of each kind and variant. */
export const EVERY_EVENT: readonly LaneEvent[] = Object.values(EVENTS).flat();

const takes =
  (event: LaneEvent) =>
  (state: LaneState): boolean =>
    canTransition(state, event);

/** The agent process is alive or about to be (starting, running, idle, waiting-input). */
function live(state: LaneState): boolean {
  // about to be: it waits for its process to spawn; alive: the screen's activity moves it
  return canTransition(state, { type: 'spawned' }) || canTransition(state, { type: 'activity', activity: 'busy' });
}

/** No event moves the lane any more (merged, discarded). */
function final(state: LaneState): boolean {
  return !EVERY_EVENT.some((e) => canTransition(state, e) && transition(state, e) !== state);
}

/** The run has ended: it is final, or only a resume starts it again (failed, stopped, interrupted). */
function settled(state: LaneState): boolean {
  return final(state) || canTransition(state, { type: 'resume' });
}

/** Working or queued: neither settled nor waiting for the operator's decision (awaiting approval). */
function busy(state: LaneState): boolean {
  return !settled(state) && !canTransition(state, { type: 'approve' });
}

/** What each action asks of the state machine, and what it does in a person's words. */
const ACTIONS: Record<LaneAction, { allowed: (state: LaneState) => boolean; does: string }> = {
  stop: { allowed: takes({ type: 'stop' }), does: 'be stopped' },
  attach: { allowed: live, does: 'be attached to' },
  send: { allowed: live, does: 'take typed input' },
  handoff: { allowed: takes({ type: 'handoff' }), does: 'hand off' },
  'wait-input': { allowed: takes({ type: 'activity', activity: 'waiting-input' }), does: 'wait for input' },
  approve: { allowed: takes({ type: 'approve' }), does: 'be approved' },
  dequeue: { allowed: takes({ type: 'dequeue' }), does: 'be taken out of the merge queue' },
  // Rejecting is the other answer to the question approving answers.
  reject: { allowed: takes({ type: 'approve' }), does: 'be rejected' },
  rework: { allowed: takes({ type: 'rework' }), does: 'be sent back for rework' },
  discard: { allowed: takes({ type: 'discard' }), does: 'be discarded' },
  remove: { allowed: takes({ type: 'remove' }), does: 'be removed' },
  'rerun-gates': { allowed: takes({ type: 'rerun-gates' }), does: 'have its gates re-run' },
  resume: { allowed: takes({ type: 'resume' }), does: 'resume' },
};

// The answers, computed once per state: the keymap asks them on every key and render.
const ALLOWED = new Map<LaneState, ReadonlySet<LaneAction>>(
  LANE_STATES.map((s) => [s, new Set((Object.keys(ACTIONS) as LaneAction[]).filter((a) => ACTIONS[a].allowed(s)))]),
);
const LIVE = new Set(LANE_STATES.filter(live));
const SETTLED = new Set(LANE_STATES.filter(settled));
const FINAL = new Set(LANE_STATES.filter(final));
const BUSY = new Set(LANE_STATES.filter(busy));

/** A state as a person reads it ("awaiting approval"). */
function words(state: LaneState): string {
  return state.replace(/-/g, ' ');
}

function orList(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

const REASONS = new Map<LaneAction, string>(
  (Object.keys(ACTIONS) as LaneAction[]).map((a) => {
    const where = LANE_STATES.filter((s) => ALLOWED.get(s)?.has(a)).map(words);
    return [a, `only a lane that is ${orList(where)} can ${ACTIONS[a].does}`];
  }),
);

/** A merge in flight: the state the merge's end (merged, or merge-failed back to review) moves. */
function merging(state: LaneState): boolean {
  return canTransition(state, { type: 'merged' });
}

/** Approved, waiting in the merge queue: the state the queue lands (merging) or gives back (dequeue). */
function inMergeQueue(state: LaneState): boolean {
  return canTransition(state, { type: 'land' });
}

/** the lane waits in the merge queue (approved, not landing yet) */
export function isQueuedToMerge(state: LaneState): boolean {
  return inMergeQueue(state);
}

/** the lane's merge is in flight: it ends merged or back in awaiting approval */
export function isMerging(state: LaneState): boolean {
  return merging(state);
}

/** Actions that would cut into whatever runs: a merge in flight refuses them with its own reason. */
const CUTS_IN: ReadonlySet<LaneAction> = new Set(['stop', 'remove']);
const MERGE_IN_PROGRESS = 'a merge is in progress; it finishes in seconds';

/** The operator's actions that take a lane out of its state (attach, send and wait-input leave it where it is). */
export const WAYS_OUT: readonly LaneAction[] = [
  'stop',
  'remove',
  'handoff',
  'approve',
  'dequeue',
  'reject',
  'rework',
  'discard',
  'rerun-gates',
  'resume',
];

/** The operator's ways out of `state` (see WAYS_OUT); docs/architecture.md lists them per state. */
export function waysOut(state: LaneState): LaneAction[] {
  return WAYS_OUT.filter((a) => allows(state, a));
}

/** null when `action` is allowed in `state`, else a short reason a person reads, e.g. "only a lane that is … can hand off" */
export function refusal(state: LaneState, action: LaneAction): string | null {
  if (allows(state, action)) return null;
  if (CUTS_IN.has(action) && merging(state)) return MERGE_IN_PROGRESS;
  if (action === 'approve' && (inMergeQueue(state) || merging(state)))
    return `it is already ${merging(state) ? 'merging' : 'queued to merge'}`;
  return REASONS.get(action) ?? `a ${words(state)} lane cannot do that`;
}

export function allows(state: LaneState, action: LaneAction): boolean {
  return ALLOWED.get(state)?.has(action) ?? false;
}

/**
 * The lane can be attached to (and typed into): its agent process runs now, in whatever state
 * (a lane handed off by an agent's Stop hook is awaiting approval or gating with its agent still
 * running). Typing moves the lane's state only as the state machine says (docs/architecture.md).
 */
export function canAttach(lane: { state: LaneState; alive: boolean }): boolean {
  return lane.alive;
}

/**
 * The lane waits on the operator: an answer typed in (the state the agent's waiting-input
 * activity leads to), a decision (it can be approved), or a failure to look at (the state a
 * failure leads to). The dashboard's header counts these and the lane list marks them.
 */
export function needsOperator(state: LaneState): boolean {
  return NEEDS_OPERATOR.has(state);
}
const NEEDS_OPERATOR: ReadonlySet<LaneState> = new Set(
  LANE_STATES.filter(
    (s) =>
      canTransition(s, { type: 'approve' }) ||
      LANE_STATES.some(
        (from) =>
          (live(from) &&
            canTransition(from, { type: 'activity', activity: 'waiting-input' }) &&
            transition(from, { type: 'activity', activity: 'waiting-input' }) === s) ||
          (from !== s &&
            canTransition(from, { type: 'fail', reason: 'failed' }) &&
            transition(from, { type: 'fail', reason: 'failed' }) === s),
      ),
  ),
);

/** the agent process is alive or about to be (starting, running, idle, waiting-input) */
export function isLive(state: LaneState): boolean {
  return LIVE.has(state);
}

/** the agent, its gates or its merge is still working, or it is queued: quitting interrupts it */
export function isBusy(state: LaneState): boolean {
  return BUSY.has(state);
}

/** no event moves the lane any more (merged, discarded): its worktree is gone */
export function isFinal(state: LaneState): boolean {
  return FINAL.has(state);
}

/** the lane no longer changes by itself (merged, discarded, failed, stopped, interrupted): `ctl wait` ends */
export function isSettled(state: LaneState): boolean {
  return SETTLED.has(state);
}
