/**
 * The row copy of a repair (lanes/store/repair.ts): one table from a source that may be damaged
 * into the same table of a freshly migrated database. Rows go in rowid order; when a read fails
 * (a damaged page), the copy seeks forward to the next rowid that reads again and records the
 * range it stepped over, so one bad page costs the rows on it, not the rest of the table.
 */
import type Database from 'better-sqlite3';

export interface TableCopy {
  table: string;
  /** rows now in the rebuilt table */
  saved: number;
  /** rows read but refused by the rebuilt schema (a constraint: NOT NULL, CHECK, UNIQUE) */
  refused: number;
  /** rowid ranges that could not be read (from null: from the start; to null: to the end) */
  unreadable: { from: number | null; to: number | null }[];
  /** rows dropped because the row they belong to (their lane, their session) was lost */
  orphaned?: number;
  note?: string;
}

type Row = Record<string, unknown> & { __rid: number };

const FIRST = Number.MIN_SAFE_INTEGER;
const LAST = Number.MAX_SAFE_INTEGER;

function columns(db: Database.Database, table: string): string[] {
  return (db.pragma(`table_info("${table}")`) as { name: string }[]).map((c) => c.name);
}

function withoutRowid(db: Database.Database, table: string): boolean {
  const row = db.prepare('SELECT sql FROM sqlite_schema WHERE type = ? AND name = ?').get('table', table) as
    { sql: string } | undefined;
  return /WITHOUT\s+ROWID\s*;?\s*$/i.test(row?.sql ?? '');
}

/** Copies what reads of `table` from `source` into `target` (same name, columns matched by name). */
export function copyTable(source: Database.Database, target: Database.Database, table: string): TableCopy {
  const result: TableCopy = { table, saved: 0, refused: 0, unreadable: [] };
  let cols: string[];
  try {
    const have = new Set(columns(source, table));
    cols = columns(target, table).filter((c) => have.has(c));
  } catch (err) {
    result.note = `its definition could not be read: ${(err as Error).message}`;
    return result;
  }
  if (cols.length === 0) {
    result.note = 'no column in common with the rebuilt table';
    return result;
  }
  const list = cols.map((c) => `"${c}"`).join(', ');
  const insert = target.prepare(`INSERT INTO "${table}" (${list}) VALUES (${cols.map(() => '?').join(', ')})`);
  const put = (row: Record<string, unknown>) => {
    try {
      insert.run(cols.map((c) => row[c]));
      result.saved++;
    } catch {
      result.refused++;
    }
  };
  target.transaction(() => {
    if (withoutRowid(source, table)) {
      try {
        for (const row of source.prepare(`SELECT ${list} FROM "${table}"`).iterate())
          put(row as Record<string, unknown>);
      } catch (err) {
        result.unreadable.push({ from: null, to: null });
        result.note = `reading stopped after ${result.saved + result.refused} row(s): ${(err as Error).message}`;
      }
      return;
    }
    copyByRowid(source, table, list, put, result);
  })();
  return result;
}

function copyByRowid(
  source: Database.Database,
  table: string,
  list: string,
  put: (row: Record<string, unknown>) => void,
  result: TableCopy,
): void {
  const select = source.prepare(`SELECT rowid AS __rid, ${list} FROM "${table}" WHERE rowid > ? ORDER BY rowid`);
  const seek = source.prepare(`SELECT rowid AS r FROM "${table}" WHERE rowid >= ? ORDER BY rowid LIMIT 1`);
  /** the first rowid at or after x; null at the end; 'bad' when that part of the table does not read */
  const probe = (x: number): number | null | 'bad' => {
    try {
      const row = seek.get(x) as { r: number } | undefined;
      return row ? row.r : null;
    } catch {
      return 'bad';
    }
  };
  let after = FIRST;
  let failedAfter: number | null = null;
  for (;;) {
    try {
      for (const row of select.iterate(after) as IterableIterator<Row>) {
        after = row.__rid;
        put(row);
      }
      return;
    } catch (err) {
      if (!result.note) result.note = (err as Error).message;
    }
    const from = after === FIRST ? null : after + 1;
    if (failedAfter === after) {
      // The row right after `after` is found but does not read (e.g. a damaged overflow page).
      const r = probe(after + 1);
      if (typeof r !== 'number') {
        result.unreadable.push({ from, to: null });
        return;
      }
      result.unreadable.push({ from: r, to: r });
      after = r;
      continue;
    }
    failedAfter = after;
    // Step forward, doubling, until a seek works; then narrow down to the first place that reads.
    let bad = after;
    let good: number | null = null;
    for (let step = 1; after + step < LAST; step *= 2) {
      const x = Math.min(after + step, LAST);
      if (probe(x) !== 'bad') {
        good = x;
        break;
      }
      bad = x;
    }
    if (good === null) {
      result.unreadable.push({ from, to: null });
      return;
    }
    let lo = bad;
    let hi: number = good;
    while (hi - lo > 1) {
      const mid: number = lo + Math.floor((hi - lo) / 2);
      if (probe(mid) === 'bad') lo = mid;
      else hi = mid;
    }
    const next = probe(hi);
    if (typeof next !== 'number') {
      result.unreadable.push({ from, to: null });
      return;
    }
    if (next - 1 >= (from ?? FIRST)) result.unreadable.push({ from, to: next - 1 });
    after = next - 1;
    failedAfter = after;
  }
}

/** How many rows an unreadable range can hold at most (rowids are unique); null when unbounded. */
export function rowsAtMost(range: { from: number | null; to: number | null }): number | null {
  return range.from === null || range.to === null ? null : range.to - range.from + 1;
}
