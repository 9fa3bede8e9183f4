/**
 * The merge queue's rows (docs/data-model.md, `merge_queue` and `merge_queue_settings`): approved
 * lanes in the order they land, each with its state in the queue. The queue itself is
 * lanes/supervisor/mergeQueue.ts.
 */
import type { Db } from './open.js';

export type QueueEntryState = 'waiting' | 'validating' | 'merging';

export interface QueueEntryRow {
  laneId: number;
  /** 1 for the next to land */
  position: number;
  state: QueueEntryState;
  /** epoch ms the entry entered its state */
  since: number;
  /** the lane head that was approved: what lands */
  head: string;
  /** approved although a required gate did not pass: the merged tree is checked for conflicts only */
  override: boolean;
  approvedAt: number;
}

interface Record {
  lane_id: number;
  position: number;
  state: QueueEntryState;
  since: number;
  head: string;
  override: number;
  approved_at: number;
}

const toRow = (r: Record): QueueEntryRow => ({
  laneId: r.lane_id,
  position: r.position,
  state: r.state,
  since: r.since,
  head: r.head,
  override: r.override === 1,
  approvedAt: r.approved_at,
});

/** Every entry, next to land first. */
export function listQueue(db: Db): QueueEntryRow[] {
  const rows = db
    .prepare(
      'SELECT lane_id, position, state, since, head, override, approved_at FROM merge_queue ORDER BY position, approved_at',
    )
    .all() as Record[];
  return rows.map(toRow);
}

/** Appends the lane at the end of the queue (waiting); a lane already in it is left where it is. */
export function enqueueLane(db: Db, e: { laneId: number; head: string; override: boolean; at?: number }): void {
  const at = e.at ?? Date.now();
  db.transaction(() => {
    const last = db.prepare('SELECT COALESCE(MAX(position), 0) AS p FROM merge_queue').get() as { p: number };
    db.prepare(
      `INSERT OR IGNORE INTO merge_queue (lane_id, position, state, since, head, override, approved_at)
       VALUES (?, ?, 'waiting', ?, ?, ?, ?)`,
    ).run(e.laneId, last.p + 1, at, e.head, e.override ? 1 : 0, at);
  }).immediate();
}

export function setEntryState(db: Db, laneId: number, state: QueueEntryState, at = Date.now()): void {
  db.prepare('UPDATE merge_queue SET state = ?, since = ? WHERE lane_id = ? AND state <> ?').run(
    state,
    at,
    laneId,
    state,
  );
}

/** Takes the lane out of the queue; the others close up. True when it was in it. */
export function dequeueLane(db: Db, laneId: number): boolean {
  return db
    .transaction(() => {
      const gone = db.prepare('DELETE FROM merge_queue WHERE lane_id = ?').run(laneId).changes > 0;
      if (gone)
        renumber(
          db,
          listQueue(db).map((r) => r.laneId),
        );
      return gone;
    })
    .immediate();
}

/** Puts the entries in this order (lane ids; entries not named keep their order after them). */
export function reorderQueue(db: Db, laneIds: readonly number[]): void {
  db.transaction(() => {
    const rest = listQueue(db)
      .map((r) => r.laneId)
      .filter((id) => !laneIds.includes(id));
    renumber(db, [...laneIds, ...rest]);
  }).immediate();
}

function renumber(db: Db, ids: readonly number[]): void {
  const set = db.prepare('UPDATE merge_queue SET position = ? WHERE lane_id = ?');
  ids.forEach((id, i) => set.run(i + 1, id));
}

/** An entry a dead console left validating or merging starts over: waiting again, in its place. */
export function resetInFlight(db: Db, at = Date.now()): number {
  return db.prepare("UPDATE merge_queue SET state = 'waiting', since = ? WHERE state <> 'waiting'").run(at).changes;
}

export function queuePaused(db: Db): boolean {
  const row = db.prepare("SELECT value FROM merge_queue_settings WHERE key = 'paused'").get() as
    { value: string } | undefined;
  return row?.value === '1';
}

export function setQueuePaused(db: Db, paused: boolean): void {
  db.prepare(
    "INSERT INTO merge_queue_settings (key, value) VALUES ('paused', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  ).run(paused ? '1' : '0');
}
