/**
 * What each line of a lane's diff (git's unified text) points at in the lane's tree: a context or
 * added line is line N of the new file, which a review comment can be made on; headers and
 * removed lines point at nothing. Pure: the diff viewer and its keys both read it.
 */

/** A line of the lane's tree at its head. */
export interface DiffTarget {
  file: string;
  line: number;
}

/** The diff's text lines, as the viewer shows them (a trailing newline adds no line). */
export function diffTextLines(diff: string): string[] {
  const lines = diff.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** A path of a `+++ b/path` header; git quotes unusual names ("b/a\tb"). */
function headerPath(rest: string): string | null {
  if (rest === '/dev/null') return null;
  let p = rest;
  if (p.startsWith('"') && p.endsWith('"')) {
    try {
      p = JSON.parse(p) as string;
    } catch {
      p = p.slice(1, -1);
    }
  }
  return p.startsWith('b/') ? p.slice(2) : p;
}

/** One entry per diff text line: the file line it shows, or null. */
export function diffTargets(diff: string): (DiffTarget | null)[] {
  const out: (DiffTarget | null)[] = [];
  let file: string | null = null;
  let next = 0;
  let inHunk = false;
  for (const l of diffTextLines(diff)) {
    if (l.startsWith('diff --git ')) {
      file = null;
      inHunk = false;
      out.push(null);
      continue;
    }
    if (!inHunk && l.startsWith('+++ ')) {
      file = headerPath(l.slice(4));
      out.push(null);
      continue;
    }
    const hunk = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(l);
    if (hunk) {
      next = Number(hunk[1]);
      inHunk = true;
      out.push(null);
      continue;
    }
    if (inHunk && file !== null && (l.startsWith('+') || l.startsWith(' ') || l === '')) {
      out.push({ file, line: next++ });
      continue;
    }
    out.push(null);
  }
  return out;
}

/** The lines marked from `anchor` to `cursor`: one file's first and last line, or null when they point at none. */
export function markedRange(
  targets: readonly (DiffTarget | null)[],
  cursor: number,
  anchor: number | null | undefined,
): { file: string; line: number; endLine: number } | null {
  const at = targets[cursor];
  if (!at) return null;
  const from = Math.min(cursor, anchor ?? cursor);
  const to = Math.max(cursor, anchor ?? cursor);
  let line = at.line;
  let endLine = at.line;
  for (let i = from; i <= to; i++) {
    const t = targets[i];
    if (!t || t.file !== at.file) continue;
    line = Math.min(line, t.line);
    endLine = Math.max(endLine, t.line);
  }
  return { file: at.file, line, endLine };
}
