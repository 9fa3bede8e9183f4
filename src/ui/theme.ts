/**
 * How a lane state looks: a symbol that reads without colour, and a colour when colour is on.
 * `color(on, c)` returns undefined when NO_COLOR is set, so components pass no colour props.
 */
import type { LaneSnapshot, LaneState, VerdictStatus } from '../state/types.js';

export interface StateLook {
  symbol: string;
  color: string;
  label: string;
}

export const STATE_LOOK: Record<LaneState, StateLook> = {
  created: { symbol: '·', color: 'gray', label: 'created' },
  queued: { symbol: '…', color: 'gray', label: 'queued' },
  starting: { symbol: '◌', color: 'cyan', label: 'starting' },
  running: { symbol: '▶', color: 'green', label: 'running' },
  idle: { symbol: '◇', color: 'blue', label: 'idle' },
  'waiting-input': { symbol: '?', color: 'yellow', label: 'waiting input' },
  gating: { symbol: '⧗', color: 'magenta', label: 'gating' },
  'awaiting-approval': { symbol: '★', color: 'yellowBright', label: 'awaiting approval' },
  approved: { symbol: '⇉', color: 'cyan', label: 'approved' },
  merging: { symbol: '⇢', color: 'cyan', label: 'merging' },
  merged: { symbol: '✓', color: 'greenBright', label: 'merged' },
  discarded: { symbol: '⊘', color: 'gray', label: 'discarded' },
  failed: { symbol: '✗', color: 'red', label: 'failed' },
  interrupted: { symbol: '!', color: 'red', label: 'interrupted' },
  stopped: { symbol: '■', color: 'gray', label: 'stopped' },
};

/** A lane's state as the lane list shows it: an approved lane by its place in the merge queue ("queued 2/3", "validating"). */
export function stateLabel(lane: Pick<LaneSnapshot, 'state' | 'queue'>): string {
  const q = lane.queue;
  if (!q) return STATE_LOOK[lane.state].label;
  if (q.state !== 'waiting') return q.state;
  return `queued ${q.position}/${q.length}${q.paused ? ' ‖' : ''}`;
}

/** The header's "today" line: the outcome a lane that reached this state today counts as. */
export const TODAY_OUTCOME: Partial<Record<LaneState, 'merged' | 'rejected' | 'failed'>> = {
  merged: 'merged',
  discarded: 'rejected',
  failed: 'failed',
};

export const VERDICT_LOOK: Record<VerdictStatus, StateLook> = {
  PASS: { symbol: '✓', color: 'green', label: 'PASS' },
  FAIL: { symbol: '✗', color: 'red', label: 'FAIL' },
  TIMEOUT: { symbol: '⧖', color: 'yellow', label: 'TIMEOUT' },
  ERROR: { symbol: '!', color: 'red', label: 'ERROR' },
};

export function color(on: boolean, c: string | undefined): string | undefined {
  return on ? c : undefined;
}

/** A styled run colour ('#rrggbb' or 'p<N>') as an Ink colour. */
export function runColor(c: string | undefined): string | undefined {
  if (!c) return undefined;
  if (c.startsWith('p')) return `ansi256(${c.slice(1)})`;
  return c;
}

/** The colour of one line of a unified diff. */
export function diffLineColor(line: string): string | undefined {
  if (line.startsWith('+++') || line.startsWith('---') || line.startsWith('diff ') || line.startsWith('index '))
    return 'white';
  if (line.startsWith('+')) return 'green';
  if (line.startsWith('-')) return 'red';
  if (line.startsWith('@@')) return 'cyan';
  return undefined;
}
