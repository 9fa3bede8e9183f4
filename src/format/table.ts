/**
 * A plain-text table for human output of the CLI: left-aligned columns separated by two spaces,
 * a header row, cells cut to a maximum width with an ellipsis. Pure; tested alone.
 */
export interface Column {
  header: string;
  /** cells longer than this are cut (default: no limit) */
  max?: number;
  align?: 'left' | 'right';
}

function cut(text: string, max: number | undefined): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (max === undefined || flat.length <= max) return flat;
  return max <= 1 ? flat.slice(0, max) : `${flat.slice(0, max - 1)}…`;
}

/** The table as lines joined by "\n" (no trailing newline); `empty` when there are no rows. */
export function formatTable(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  empty = '(none)',
): string {
  if (rows.length === 0) return empty;
  const cells = rows.map((row) => columns.map((c, i) => cut(row[i] ?? '', c.max)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i].length)));
  const line = (r: readonly string[]) =>
    r
      .map((cell, i) => (columns[i].align === 'right' ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}

/** "2m 5s ago"-style age of an epoch-ms time, relative to `now`. */
export function formatAge(at: number | null | undefined, now = Date.now()): string {
  if (!at) return '';
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** An epoch-ms time as local "YYYY-MM-DD HH:MM:SS", or "" when absent. */
export function formatTime(at: number | null | undefined): string {
  if (!at) return '';
  const d = new Date(at);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
