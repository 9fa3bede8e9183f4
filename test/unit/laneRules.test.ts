import { readFileSync } from 'node:fs';
import path from 'node:path';
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
  waysOut,
  WAYS_OUT,
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
  ['land', { type: 'land' }],
  ['dequeue', { type: 'dequeue' }],
  ['merged', { type: 'merged' }],
  ['merge-failed', { type: 'merge-failed' }],
  ['rework', { type: 'rework' }],
  ['rerun-gates', { type: 'rerun-gates' }],
  ['discard', { type: 'discard' }],
  ['remove', { type: 'remove' }],
  ['stop', { type: 'stop' }],
  ['interrupt', { type: 'interrupt' }],
  ['resume', { type: 'resume' }],
  ['fail', { type: 'fail', reason: 'boom' }],
];

const x = 'refused';
// Abbreviations keep the table one row per state.
const [cr, qu, st, ru, id, wi, ga, aa, ap, mg, md, di, fa, it_, so] = LANE_STATES;

/** Row: the state; cells: the next state for each column's event, or `refused`. */
// prettier-ignore
const TABLE: Record<LaneState, (LaneState | typeof x)[]> = {
  //                   queue start spawned busy idle waits  exit0 exit0h exit1 killed handoff gates-done approve land dequeue merged merge-failed rework rerun discard remove stop interrupt resume fail
  created:             [qu, st, x, x, x, x, cr, cr, cr, cr, x, x, x, x, x, x, x, x, x, x, di, so, it_, x, fa],
  queued:              [x, st, x, x, x, x, qu, qu, qu, qu, x, x, x, x, x, x, x, x, x, x, di, so, it_, x, fa],
  starting:            [x, x, ru, x, x, x, so, ga, fa, fa, ga, x, x, x, x, x, x, x, x, x, di, so, it_, x, fa],
  running:             [x, x, x, ru, id, wi, so, ga, fa, fa, ga, x, x, x, x, x, x, x, x, x, di, so, it_, x, fa],
  idle:                [x, x, x, ru, id, wi, so, ga, fa, fa, ga, x, x, x, x, x, x, x, x, x, di, so, it_, x, fa],
  'waiting-input':     [x, x, x, ru, id, wi, so, ga, fa, fa, ga, x, x, x, x, x, x, x, x, x, di, so, it_, x, fa],
  gating:              [x, x, x, x, x, x, ga, ga, ga, ga, x, aa, x, x, x, x, x, x, x, x, di, so, it_, x, fa],
  'awaiting-approval': [x, x, x, x, x, x, aa, aa, aa, aa, x, x, ap, x, x, x, x, ru, ga, di, di, x, it_, x, fa],
  approved:            [x, x, x, x, x, x, ap, ap, ap, ap, x, x, x, mg, aa, x, x, x, x, x, di, x, ap, x, fa],
  merging:             [x, x, x, x, x, x, mg, mg, mg, mg, x, x, x, x, x, md, aa, x, x, x, x, x, it_, x, fa],
  merged:              [x, x, x, x, x, x, md, md, md, md, x, x, x, x, x, x, x, x, x, x, x, x, md, x, x],
  discarded:           [x, x, x, x, x, x, di, di, di, di, x, x, x, x, x, x, x, x, x, x, x, x, di, x, x],
  failed:              [x, x, x, x, x, x, fa, fa, fa, fa, ga, x, x, x, x, x, x, x, x, di, di, x, it_, st, fa],
  interrupted:         [x, x, x, x, x, x, it_, it_, it_, it_, x, x, x, x, x, x, x, x, x, di, di, x, it_, st, fa],
  stopped:             [x, x, x, x, x, x, so, so, so, so, ga, x, x, x, x, x, x, x, x, di, di, x, it_, st, fa],
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
    expect(() => transition('merging', { type: 'stop' })).toThrow('a lane in state "merging" cannot take "stop"');
  });
});

// Which actions each state allows: everything else is refused.
const ALLOWED: Record<LaneState, LaneAction[]> = {
  created: ['stop', 'remove'],
  queued: ['stop', 'remove'],
  starting: ['stop', 'attach', 'send', 'handoff', 'remove'],
  running: ['stop', 'attach', 'send', 'handoff', 'wait-input', 'remove'],
  idle: ['stop', 'attach', 'send', 'handoff', 'wait-input', 'remove'],
  'waiting-input': ['stop', 'attach', 'send', 'handoff', 'wait-input', 'remove'],
  gating: ['stop', 'remove'],
  'awaiting-approval': ['approve', 'reject', 'rework', 'discard', 'rerun-gates', 'remove'],
  approved: ['dequeue', 'remove'],
  merging: [],
  merged: [],
  discarded: [],
  failed: ['handoff', 'discard', 'resume', 'remove'],
  interrupted: ['discard', 'resume', 'remove'],
  stopped: ['handoff', 'discard', 'resume', 'remove'],
};
const ACTIONS: LaneAction[] = [
  'stop',
  'attach',
  'send',
  'handoff',
  'wait-input',
  'approve',
  'dequeue',
  'reject',
  'rework',
  'discard',
  'remove',
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
        } else if (state === 'merging' && (action === 'stop' || action === 'remove')) {
          expect(why).toBe('a merge is in progress; it finishes in seconds');
        } else if ((state === 'approved' || state === 'merging') && action === 'approve') {
          expect(why).toMatch(/^it is already (queued to merge|merging)$/);
        } else {
          expect(why).toMatch(/^only a lane that is .+ can .+/);
          expect(why).not.toContain(` ${state.replace(/-/g, ' ')} `); // it names where it is allowed, not here
        }
      });
    }
  }

  it('a refusal says where the action is allowed', () => {
    expect(refusal('merged', 'stop')).toBe(
      'only a lane that is created, queued, starting, running, idle, waiting input or gating can be stopped',
    );
    expect(refusal('discarded', 'remove')).toBe(
      'only a lane that is created, queued, starting, running, idle, waiting input, gating, awaiting approval, approved, failed, interrupted or stopped can be removed',
    );
    // a merge in flight is never cut short: it ends by itself in seconds
    expect(refusal('merging', 'stop')).toBe('a merge is in progress; it finishes in seconds');
    expect(refusal('merging', 'remove')).toBe('a merge is in progress; it finishes in seconds');
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
      'approved',
      'merging',
    ]);
    expect(LANE_STATES.filter(isSettled)).toEqual(['merged', 'discarded', 'failed', 'interrupted', 'stopped']);
    expect(LANE_STATES.filter(isFinal)).toEqual(['merged', 'discarded']);
    // a lane awaiting approval is neither: quitting leaves it as it is, and `ctl wait merged` waits on
    expect(isBusy('awaiting-approval') || isSettled('awaiting-approval')).toBe(false);
  });
});

describe('every state has a way out', () => {
  const operatorWays = (state: LaneState) => waysOut(state);

  it('every non-final state has an operator-driven way out, or is a merge that ends by itself', () => {
    for (const state of LANE_STATES.filter((s) => !isFinal(s))) {
      const ways = operatorWays(state);
      if (ways.length > 0) continue;
      // the one exception: a merge in flight ends by itself, merged or back in review
      expect(transition(state, { type: 'merged' }), state).toBe('merged');
      expect(transition(state, { type: 'merge-failed' }), state).toBe('awaiting-approval');
    }
    expect(LANE_STATES.filter((s) => !isFinal(s) && operatorWays(s).length === 0)).toEqual(['merging']);
  });

  it('every way out moves the lane (none leaves it where it is)', () => {
    for (const state of LANE_STATES) {
      for (const action of operatorWays(state)) {
        const event = ACTION_EVENTS[action];
        expect(transition(state, event), `${state} + ${action}`).not.toBe(state);
      }
    }
  });

  it('remove takes every non-final state but a merge in flight to discarded', () => {
    for (const state of LANE_STATES.filter((s) => !isFinal(s) && !canTransition(s, { type: 'merged' })))
      expect(transition(state, { type: 'remove' }), state).toBe('discarded');
  });

  it("docs/architecture.md's per-state table says what the rules say", () => {
    const doc = readFileSync(path.resolve(import.meta.dirname, '../../docs/architecture.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## How a lane leaves each state'));
    for (const state of LANE_STATES) {
      const row = section.split('\n').find((l) => l.startsWith(`| \`${state}\``));
      expect(row, `a row for ${state}`).toBeDefined();
      const cell = row!.split('|')[2];
      const listed = [...cell.matchAll(/`([a-z-]+)`/g)].map((m) => m[1]);
      expect(listed, `${state}: the operator's ways out`).toEqual(operatorWays(state));
    }
    // and the key and verbs of each way out
    for (const action of WAYS_OUT) expect(section, action).toMatch(new RegExp(`^\\| \`${action}\` +\\|`, 'm'));
  });
});

/** The event each way out sends (reject is answered by rework or discard). */
const ACTION_EVENTS: Record<(typeof WAYS_OUT)[number], LaneEvent> = {
  stop: { type: 'stop' },
  remove: { type: 'remove' },
  handoff: { type: 'handoff' },
  approve: { type: 'approve' },
  dequeue: { type: 'dequeue' },
  reject: { type: 'discard' },
  rework: { type: 'rework' },
  discard: { type: 'discard' },
  'rerun-gates': { type: 'rerun-gates' },
  resume: { type: 'resume' },
};
