/**
 * The "saved work" lines of `ao-console show`: where a lane's commits and uncommitted files were
 * kept when its worktree or branch was removed (lanes/git/savedWork.ts), and how to get them back.
 */
import type { SavedWork } from '../../lanes/git/savedWork.js';
import { formatTime } from './table.js';

/** The saved work that belongs to a lane created at `createdAt` (ms): what was saved since then (to the second). */
export function savedSince(saved: SavedWork[], createdAt: number): { mine: SavedWork[]; older: number } {
  const from = Math.floor(createdAt / 1000) * 1000;
  const mine = saved.filter((s) => s.at === null || s.at >= from);
  return { mine, older: saved.length - mine.length };
}

/** One paragraph per saved ref, newest first; a last line counts older ones of lanes with the same name. */
export function formatSavedWork(lane: string, mine: SavedWork[], older: number): string {
  const lines: string[] = [];
  for (const s of [...mine].reverse()) {
    const when = s.at === null ? '' : ` (${formatTime(s.at)})`;
    if (s.kind === 'uncommitted') {
      lines.push(`uncommitted work saved at ${s.ref}${when}: ${s.restore}`);
      const shown = s.files.slice(0, 10);
      if (shown.length)
        lines.push(`  ${shown.join(', ')}${s.files.length > shown.length ? `, … (${s.files.length} files)` : ''}`);
    } else {
      lines.push(`commits saved at ${s.ref}${when}: ${s.restore}`);
    }
  }
  if (!mine.length) lines.push('(nothing saved: no worktree or branch of this lane was removed with work in it)');
  if (older)
    lines.push(`${older} older save(s) of earlier lanes named ${lane}: git for-each-ref refs/ao/archive/${lane}/`);
  return lines.join('\n');
}
