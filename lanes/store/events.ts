/** Lane events: the timeline of a lane (every state change with its time and cause, and more). */
import type { LaneState } from '../lane/types.js';
import { ACTIVITY_SOURCES, type ActivitySource } from '../lane/activitySources.js';
import type { Db } from './open.js';

export interface LaneEventRow {
  id: number;
  laneId: number;
  /** epoch ms */
  at: number;
  /** ms since the lane's `startedAt`; null before the lane started */
  tMs: number | null;
  /** 'state' for a state change; other kinds are free text ('context-packet', 'resize', ...) */
  kind: string;
  fromState: LaneState | null;
  toState: LaneState | null;
  cause: string | null;
  /**
   * parsed JSON, null when none was stored. A state change the activity timer or an agent hook
   * made carries `{ source }`: which state source said it (stateSource).
   */
  data: unknown;
}

/**
 * The source of a state change between running, idle and waiting-input: 'hook', 'status-file',
 * 'title' or 'screen' (lanes/lane/activitySources.ts); null for other events and older rows.
 */
export function stateSource(e: Pick<LaneEventRow, 'kind' | 'data'>): ActivitySource | null {
  if (e.kind !== 'state' || e.data === null || typeof e.data !== 'object') return null;
  const source = (e.data as { source?: unknown }).source;
  return (ACTIVITY_SOURCES as readonly unknown[]).includes(source) ? (source as ActivitySource) : null;
}

export interface NewLaneEvent {
  laneId: number;
  kind: string;
  /** default: now */
  at?: number;
  tMs?: number | null;
  fromState?: LaneState | null;
  toState?: LaneState | null;
  cause?: string | null;
  /** stored as JSON text */
  data?: unknown;
}

interface LaneEventRecord {
  id: number;
  lane_id: number;
  at: number;
  t_ms: number | null;
  kind: string;
  from_state: string | null;
  to_state: string | null;
  cause: string | null;
  data: string | null;
}

const toRow = (r: LaneEventRecord): LaneEventRow => ({
  id: r.id,
  laneId: r.lane_id,
  at: r.at,
  tMs: r.t_ms,
  kind: r.kind,
  fromState: r.from_state as LaneState | null,
  toState: r.to_state as LaneState | null,
  cause: r.cause,
  data: r.data === null ? null : JSON.parse(r.data),
});

export function appendEvent(db: Db, e: NewLaneEvent): LaneEventRow {
  const at = e.at ?? Date.now();
  const data = e.data === undefined || e.data === null ? null : JSON.stringify(e.data);
  const info = db
    .prepare(
      `INSERT INTO lane_events (lane_id, at, t_ms, kind, from_state, to_state, cause, data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(e.laneId, at, e.tMs ?? null, e.kind, e.fromState ?? null, e.toState ?? null, e.cause ?? null, data);
  return {
    id: Number(info.lastInsertRowid),
    laneId: e.laneId,
    at,
    tMs: e.tMs ?? null,
    kind: e.kind,
    fromState: e.fromState ?? null,
    toState: e.toState ?? null,
    cause: e.cause ?? null,
    data: data === null ? null : JSON.parse(data),
  };
}

/** A lane's events in the order they were recorded, optionally of one kind or after an id. */
export function listEvents(db: Db, laneId: number, opts: { kind?: string; afterId?: number } = {}): LaneEventRow[] {
  const rows = db
    .prepare(
      `SELECT * FROM lane_events
       WHERE lane_id = ? AND id > ? AND (? IS NULL OR kind = ?)
       ORDER BY id`,
    )
    .all(laneId, opts.afterId ?? 0, opts.kind ?? null, opts.kind ?? null) as LaneEventRecord[];
  return rows.map(toRow);
}
