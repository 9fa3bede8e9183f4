/**
 * A lane as the store keeps it: one row of the `lanes` table (docs/data-model.md). This is the
 * one lane type; the others pick from it: LaneRow (lanes/store/lanes.ts), LaneSnapshot (what
 * front ends see, lanes/lane/types.ts), and the rows of `ao-console lanes` and of replay history
 * (lanes/store/history.ts).
 */
import type { LaneState } from '../lane/states.js';

export interface LaneRow {
  id: number;
  name: string;
  sessionId: string;
  profile: string;
  task: string;
  branch: string;
  base: string;
  worktree: string;
  state: LaneState;
  /** epoch ms of the last state change */
  stateSince: number;
  createdAt: number;
  /** epoch ms that output `tMs` counts from; set once, at the first start */
  startedAt: number | null;
  cols: number;
  rows: number;
  pid: number | null;
  /** identifies the agent process beyond its pid (pid reuse), e.g. its start time */
  procToken: string | null;
  exitCode: number | null;
  exitSignal: number | null;
  reworkCount: number;
  headCommit: string | null;
  /** handed off with no change against its base */
  empty: boolean;
  /** bytes of output recorded; maintained by the recorder */
  outputBytes: number;
  closedAt: number | null;
}

/** The column of each field, in the table's order. */
export const LANE_COLUMNS: { readonly [K in keyof LaneRow]: string } = {
  id: 'id',
  name: 'name',
  sessionId: 'session_id',
  profile: 'profile',
  task: 'task',
  branch: 'branch',
  base: 'base',
  worktree: 'worktree',
  state: 'state',
  stateSince: 'state_since',
  createdAt: 'created_at',
  startedAt: 'started_at',
  cols: 'cols',
  rows: 'rows',
  pid: 'pid',
  procToken: 'proc_token',
  exitCode: 'exit_code',
  exitSignal: 'exit_signal',
  reworkCount: 'rework_count',
  headCommit: 'head_commit',
  empty: 'empty',
  outputBytes: 'output_bytes',
  closedAt: 'closed_at',
};

/**
 * `l.session_id AS sessionId, ...`: the select list for these fields of `lanes` aliased `alias`,
 * each column named as its field (so a row comes back in the field names).
 */
export function laneSelectList(fields: readonly (keyof LaneRow)[], alias = 'l'): string {
  return fields
    .map((f) => (LANE_COLUMNS[f] === f ? `${alias}.${f}` : `${alias}.${LANE_COLUMNS[f]} AS ${f}`))
    .join(', ');
}
