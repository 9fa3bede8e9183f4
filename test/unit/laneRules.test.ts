import { describe, expect, it } from 'vitest';
import { InvalidTransitionError, canTransition, transition } from '../../lanes/lane/stateMachine.js';
import {
  EVERY_EVENT,
  allows,
  isBusy,
  isFinal,
  isLive,
  isSettled,
  refusal,
  type LaneAction,
} from '../../lanes/lane/rules.js';
import { LANE_STATES, type LaneEvent, type LaneState } from '../../lanes/lane/types.js';

// The columns of the table below: every event type, and each variant that leads elsewhere.
const COLUMNS: [string, LaneEvent][] = [
  ['queue', { type: 'queue' }],
  ['start', { type: 'start' }],
  ['spawned', { type: 'spawned' }],
  ['busy', { type: 'activity', activity: 'busy' }],
  ['idle', { type: 'activity', activity: 'idle' }],
  ['waits', { type: 'activity', activity: 'waiting-input' }],
  ['exit 0', { type: 'exit', code: 0, signal: null, handoffOnExit: false }],
  ['exit 0 h', { type: 'exit', code: 0, signal: null, handoffOnExit: true }],
  ['exit 1', { type: 'exit', code: 1, signal: null, handoffOnExit: true }],
  ['killed', { type: 'exit', code: null, signal: 9, handoffOnExit: false }],
  ['handoff', { type: 'handoff' }],
  ['gates-done', { type: 'gates-done' }],
  ['approve', { type: 'approve' }],
  ['merged', { type: 'merged' }],
  ['merge-failed', { type: 'merge-failed' }],
  ['rework', { type: 'rework' }],
  ['rerun-gates', { type: 'rerun-gates' }],
  ['discard', { type: 'discard' }],
  ['stop', { type: 'stop' }],
  ['interrupt', { type: 'interrupt' }],
  ['resume', { type: 'resume' }],
  ['fail', { type: 'fail', reason: 'boom' }],
];

const x = 'refused';
// Abbreviations keep the table one row per state.
const [cr, qu, st, ru, id, wi, ga, aa, mg, md, di, fa, it_, so] = LANE_STATES;

/** Row: the state; cells: the next state for each column's event, or `refused`. */
// prettier-ignore
const TABLE: Record<LaneState, (LaneState | typeof x)[]> = {
  //                   queue start spawned busy idle waits  exit0 exit0h exit1 killed handoff gates-done approve merged merge-failed rework rerun discard stop interrupt resume fail
  created:             [qu,   st,   x,      x,   x,   x,     cr,   cr,    cr,   cr,    x,      x,         x,      x,     x,           x,     x,    x,      so,  it_,      x,     fa],
  queued:              [x,    st,   x,      x,   x,   x,     qu,   qu,    qu,   qu,    x,      x,         x,      x,     x,           x,     x,    x,      so,  it_,      x,     fa],
  starting:            [x,    x,    ru,     x,   x,   x,     so,   ga,    fa,   fa,    ga,     x,         x,      x,     x,           x,     x,    x,      so,  it_,      x,     fa],
  running:             [x,    x,    x,      ru,  id,  wi,    so,   ga,    fa,   fa,    ga,     x,         x,      x,     x,           x,     x,    x,      so,  it_,      x,     fa],
  idle:                [x,    x,    x,      ru,  id,  wi,    so,   ga,    fa,   fa,    ga,     x,         x,      x,     x,           x,     x,    x,      so,  it_,      x,     fa],
  'waiting-input':     [x,    x,    x,      ru,  id,  wi,    so,   ga,    fa,   fa,    ga,     x,         x,      x,     x,           x,     x,    x,      so,  it_,      x,     fa],
  gating:              [x,    x,    x,      x,   x,   x,     ga,   ga,    ga,   ga,    x,      aa,        x,      x,     x,           x,     x,    x,      x,   it_,      x,     fa],
  'awaiting-approval': [x,    x,    x,      x,   x,   x,     aa,   aa,    aa,   aa,    x,      x,         mg,     x,     x,           ru,    ga,   di,     x,   it_,      x,     fa],
  merging:             [x,    x,    x,      x,   x,   x,     mg,   mg,    mg,   mg,    x,      x,         x,      md,    aa,          x,     x,    x,      x,   it_,      x,     fa],
  merged:              [x,    x,    x,      x,   x,   x,     md,   md,    md,   md,    x,      x,         x,      x,     x,           x,     x,    x,      x,   md,       x,     x ],
  discarded:           [x,    x,    x,      x,   x,   x,     di,   di,    di,   di,    x,      x,         x,      x,     x,           x,     x,    x,      x,   di,       x,     x ],
  failed:              [x,    x,    x,      x,   x,   x,     fa,   fa,    fa,   fa,    ga,     x,         x,      x,     x,           x,     x,    di,     x,   it_,      st,    fa],
  interrupted:         [x,    x,    x,      x,   x,   x,     it_,  it_,   it_,  it_,   x,      x,         x,      x,     x,           x,     x,    di,     x,   it_,      st,    fa],
  stopped:             [x,    x,    x,      x,   x,   x,     so,   so,    so,   so,    ga,     x,         x,      x,     x,           x,     x,    di,     x,   it_,      st,    fa],
};

describe('lane state machine', () => {
  it('the table covers every state and every event type', () => {
    expect(Object.keys(TABLE).sort()).toEqual([...LANE_STATES].sort());
    expect(new Set(COLUMNS.map(([, e]) => e.type))).toEqual(new Set(EVERY_EVENT.map((e) => e.type)));
    for (const row of Object.values(TABLE)) expect(row).toHaveLength(COLUMNS.length);
  });

  for (const state of LANE_STATES) {
    it(`${state}: every event goes where the table says`, () => {
      COLUMNS.forEach(([name, event], i) => {
        const expected = TABLE[state][i];
        const label = `${state} + ${name}`;
        if (expected === x) {
          expect(() => transition(state, event), label).toThrow(InvalidTransitionError);
          expect(canTransition(state, event), label).toBe(false);
        } else {
          expect(transition(state, event), label).toBe(expected);
          expect(canTransition(state, event), label).toBe(true);
        }
      });
    });
  }

  it('names the state and the event when it refuses', () => {
    expect(() => transition('gating', { type: 'stop' })).toThrow('a lane in state "gating" cannot take "stop"');
  });
});

// Which actions each state allows: everything else is refused.
const ALLOWED: Record<LaneState, LaneAction[]> = {
  created: ['stop'],
  queued: ['stop'],
  starting: ['stop', 'attach', 'send', 'handoff'],
  running: ['stop', 'attach', 'send', 'handoff', 'wait-input'],
  idle: ['stop', 'attach', 'send', 'handoff', 'wait-input'],
  'waiting-input': ['stop', 'attach', 'send', 'handoff', 'wait-input'],
  gating: [],
  'awaiting-approval': ['approve', 'reject', 'rework', 'discard', 'rerun-gates'],
  merging: [],
  merged: [],
  discarded: [],
  failed: ['handoff', 'discard', 'resume'],
  interrupted: ['discard', 'resume'],
  stopped: ['handoff', 'discard', 'resume'],
};
const ACTIONS: LaneAction[] = [
  'stop',
  'attach',
  'send',
  'handoff',
  'wait-input',
  'approve',
  'reject',
  'rework',
  'discard',
  'rerun-gates',
  'resume',
];

describe('lane rules', () => {
  for (const state of LANE_STATES) {
    for (const action of ACTIONS) {
      const expected = ALLOWED[state].includes(action);
      it(`${state}: ${action} is ${expected ? 'allowed' : 'refused'}`, () => {
        expect(allows(state, action)).toBe(expected);
        const why = refusal(state, action);
        if (expected) {
          expect(why).toBeNull();
        } else {
          expect(why).toMatch(/^only a lane that is .+ can .+/);
          expect(why).not.toContain(` ${state.replace(/-/g, ' ')} `); // it names where it is allowed, not here
        }
      });
    }
  }

  it('a refusal says where the action is allowed', () => {
    expect(refusal('gating', 'stop')).toBe(
      'only a lane that is created, queued, starting, running, idle or waiting input can be stopped',
    );
    expect(refusal('running', 'approve')).toBe('only a lane that is awaiting approval can be approved');
    expect(refusal('gating', 'handoff')).toBe(
      'only a lane that is starting, running, idle, waiting input, failed or stopped can hand off',
    );
    expect(refusal('merged', 'resume')).toBe('only a lane that is failed, interrupted or stopped can resume');
  });

  it('live, busy and settled', () => {
    expect(LANE_STATES.filter(isLive)).toEqual(['starting', 'running', 'idle', 'waiting-input']);
    expect(LANE_STATES.filter(isBusy)).toEqual([
      'created',
      'queued',
      'starting',
      'running',
      'idle',
      'waiting-input',
      'gating',
      'merging',
    ]);
    expect(LANE_STATES.filter(isSettled)).toEqual(['merged', 'discarded', 'failed', 'interrupted', 'stopped']);
    expect(LANE_STATES.filter(isFinal)).toEqual(['merged', 'discarded']);
    // a lane awaiting approval is neither: quitting leaves it as it is, and `ctl wait merged` waits on
    expect(isBusy('awaiting-approval') || isSettled('awaiting-approval')).toBe(false);
  });
});
