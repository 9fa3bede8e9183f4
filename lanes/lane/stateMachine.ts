import type { LaneEvent, LaneState } from './types.js';

/** Thrown for an event that makes no sense in the lane's current state. */
export class InvalidTransitionError extends Error {
  constructor(
    readonly state: LaneState,
    readonly event: LaneEvent['type'],
  ) {
    super(`a lane in state "${state}" cannot take "${event}"`);
    this.name = 'InvalidTransitionError';
  }
}

const ACTIVE: ReadonlySet<LaneState> = new Set(['running', 'idle', 'waiting-input']);

/**
 * The lane lifecycle of DESIGN.md as a pure function. Returns the next state, or throws
 * InvalidTransitionError when the event is not allowed in `state`.
 */
export function transition(state: LaneState, event: LaneEvent): LaneState {
  const bad = (): never => {
    throw new InvalidTransitionError(state, event.type);
  };
  switch (event.type) {
    case 'queue':
      return state === 'created' ? 'queued' : bad();
    case 'start':
      return state === 'created' || state === 'queued' ? 'starting' : bad();
    case 'spawned':
      return state === 'starting' ? 'running' : bad();
    case 'activity': {
      if (!ACTIVE.has(state)) return bad();
      return event.activity === 'busy' ? 'running' : event.activity;
    }
    case 'exit': {
      if (state === 'starting' || ACTIVE.has(state)) {
        if (event.code === 0 && event.signal === null) return event.handoffOnExit ? 'gating' : 'stopped';
        return 'failed';
      }
      // An exit after the lane moved on (stopped, gating, awaiting review) changes nothing.
      return state;
    }
    case 'handoff':
      return state === 'starting' || ACTIVE.has(state) || state === 'stopped' || state === 'failed' ? 'gating' : bad();
    case 'gates-done':
      return state === 'gating' ? 'awaiting-approval' : bad();
    case 'approve':
      // Approved lanes wait in the merge queue (lanes/supervisor/mergeQueue.ts) until they land.
      return state === 'awaiting-approval' ? 'approved' : bad();
    case 'land':
      return state === 'approved' ? 'merging' : bad();
    case 'dequeue':
      return state === 'approved' ? 'awaiting-approval' : bad();
    case 'merged':
      return state === 'merging' ? 'merged' : bad();
    case 'merge-failed':
      return state === 'merging' ? 'awaiting-approval' : bad();
    case 'rework':
      return state === 'awaiting-approval' ? 'running' : bad();
    case 'rerun-gates':
      return state === 'awaiting-approval' ? 'gating' : bad();
    case 'discard':
      // A lane is discarded when its work is given up: rejected in review, or abandoned after it
      // failed, was stopped or was interrupted. A lane still working is stopped first.
      return state === 'awaiting-approval' || state === 'failed' || state === 'stopped' || state === 'interrupted'
        ? 'discarded'
        : bad();
    case 'remove':
      // The way out of every state but a merge in flight (it ends by itself in seconds): whatever
      // runs is stopped, the work archived, the worktree removed, the name freed.
      return state === 'merging' || state === 'merged' || state === 'discarded' ? bad() : 'discarded';
    case 'stop':
      // Where an agent runs or is about to, or gates run (they are cancelled). A merge in flight is
      // never cut short: it finishes, or fails back to awaiting approval, in seconds.
      return state === 'created' ||
        state === 'queued' ||
        state === 'starting' ||
        ACTIVE.has(state) ||
        state === 'gating'
        ? 'stopped'
        : bad();
    case 'interrupt':
      // The merge queue is stored: an approved lane waits in it across the console's death.
      return state === 'merged' || state === 'discarded' || state === 'approved' ? state : 'interrupted';
    case 'resume':
      return state === 'interrupted' || state === 'failed' || state === 'stopped' ? 'starting' : bad();
    case 'fail':
      return state === 'merged' || state === 'discarded' ? bad() : 'failed';
  }
}

/** True when `event` is allowed in `state`. */
export function canTransition(state: LaneState, event: LaneEvent): boolean {
  try {
    transition(state, event);
    return true;
  } catch {
    return false;
  }
}
