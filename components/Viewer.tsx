/** Full-body scrollable view of the focused lane's diff or gate output. */
import { Box, Text } from 'ink';
import type { CommentStatus, ReviewComment, ReviewInfo } from '../src/state/types.js';
import { overlayOf } from '../src/state/selectors.js';
import { color, VERDICT_LOOK } from '../src/ui/theme.js';
import { sanitize, truncate, windowOf } from '../src/ui/text.js';
import { hardWrap } from '../src/ui/wrap.js';
import { diffLines, diffStatLine, type Line } from './ReviewPanel.js';
import { TextField } from './TextField.js';
import { commentsOn } from '../src/state/commentActions.js';
import { diffTargets } from '../src/ui/diffTargets.js';
import { useApp, useClampedScroll } from './StoreContext.js';

export function gateOutputLines(info: ReviewInfo): Line[] {
  if (info.verdicts.length === 0) return [{ text: 'no gate verdicts yet', dim: true }];
  const lines: Line[] = [];
  for (const v of info.verdicts) {
    const look = VERDICT_LOOK[v.status];
    lines.push({
      text: `${look.symbol} ${v.gate}: ${look.label}${v.stale ? ' (stale)' : ''}${v.required ? '' : ' (optional)'} · exit ${v.exitCode ?? '-'} · ${v.commit.slice(0, 10)}`,
      color: look.color,
      bold: true,
    });
    const out = v.output.split('\n').map((l) => ({ text: '  ' + sanitize(l) }));
    lines.push(...(v.output.trim() ? out : [{ text: '  (no output)', dim: true }]), { text: '' });
  }
  return lines;
}

/** Where a comment stands, as the diff shows it. */
const COMMENT_LOOK: Record<CommentStatus, { label: string; color: string }> = {
  draft: { label: 'draft', color: 'yellow' },
  sent: { label: 'sent', color: 'cyan' },
  addressed: { label: 'addressed', color: 'green' },
  unaddressed: { label: 'NOT addressed', color: 'red' },
};

/** A comment under the line it is on: `  ▲ #3 draft (src/a.js:4-5): text`. */
function commentLine(c: ReviewComment): Line {
  const look = COMMENT_LOOK[c.status];
  const where = `${c.file}:${c.line}${c.endLine > c.line ? `-${c.endLine}` : ''}`;
  return {
    text: `  ▲ #${c.id} ${look.label} (${where}): ${sanitize(c.text.replace(/\s+/g, ' '))}`,
    color: look.color,
    bold: true,
  };
}

/** A row of the viewer: a line, and the diff text line it is (the cursor's index) or null. */
interface Row {
  line: Line;
  at: number | null;
}

/** The diff with its comments, each under the last line it is on; comments on lines the diff does not show come last. */
export function diffRows(info: ReviewInfo, comments: readonly ReviewComment[]): Row[] {
  const body = diffLines(info);
  const targets = diffTargets(info.diff);
  const first = body.length - targets.length; // the stat lines (and a blank) come before the diff's text
  const placed = new Set<number>();
  const rows: Row[] = [
    { line: diffStatLine(info), at: null },
    { line: { text: '' }, at: null },
  ];
  body.forEach((line, i) => {
    const at = i >= first ? i - first : null;
    const t = at === null ? null : targets[at];
    const on = commentsOn(comments, t);
    rows.push({ line: on.length ? { ...line, bold: true } : line, at });
    for (const c of on.filter((x) => x.endLine === t!.line)) {
      placed.add(c.id);
      rows.push({ line: commentLine(c), at: null });
    }
  });
  const rest = comments.filter((c) => !placed.has(c.id));
  if (rest.length) {
    rows.push(
      { line: { text: '' }, at: null },
      { line: { text: 'comments on lines this diff does not show:', dim: true }, at: null },
    );
    for (const c of rest) rows.push({ line: commentLine(c), at: null });
  }
  return rows;
}

export function Viewer({ width, height }: { width: number; height: number }) {
  const { view, review, scroll, on, lane, cursor, anchor, comment } = useApp((s) => {
    const o = overlayOf(s, 'viewer');
    return {
      view: o?.view ?? 'diff',
      review: s.review,
      scroll: s.scroll.viewer,
      on: s.color,
      lane: s.focused,
      cursor: o?.cursor ?? 0,
      anchor: o?.anchor ?? null,
      comment: o?.comment ?? null,
    };
  });
  const info = review.info;
  let rows: Row[];
  if (!info)
    rows = [
      {
        line: {
          text: review.error ? `not available: ${review.error}` : 'loading…',
          color: review.error ? 'red' : undefined,
        },
        at: null,
      },
    ];
  else if (view === 'diff') rows = diffRows(info, info.comments ?? []);
  else rows = gateOutputLines(info).map((line) => ({ line, at: null }));
  const diff = view === 'diff' && !!info;
  const from = Math.min(cursor, anchor ?? cursor);
  const to = Math.max(cursor, anchor ?? cursor);
  // long lines wrap (each piece keeps the line's colour) instead of being cut at the edge
  let cursorRow = -1;
  const lines: (Line & { marked?: boolean })[] = [];
  for (const r of rows) {
    if (diff && r.at === cursor) cursorRow = lines.length;
    const marked = diff && r.at !== null && r.at >= from && r.at <= to;
    for (const text of hardWrap(r.line.text, width)) lines.push({ ...r.line, text, marked });
  }
  const inputRows = comment ? 1 : 0;
  const bodyHeight = Math.max(1, height - 1 - inputRows);
  // the view follows the diff's line cursor
  let offset = scroll;
  if (cursorRow >= 0) {
    if (cursorRow < offset) offset = cursorRow;
    else if (cursorRow >= offset + bodyHeight) offset = cursorRow - bodyHeight + 1;
  }
  const win = windowOf(lines, offset, bodyHeight);
  useClampedScroll('viewer', scroll, win.offset);
  const where =
    lines.length > bodyHeight ? ` lines ${win.offset + 1}-${win.offset + win.rows.length} of ${lines.length}` : '';
  const title = `${view === 'diff' ? 'Diff' : 'Gate output'} of ${lane ?? '?'}${where}`;
  const target = comment
    ? `${comment.file}:${comment.line}${comment.endLine > comment.line ? `-${comment.endLine}` : ''}`
    : '';
  return (
    <Box flexDirection="column" height={height} width={width} overflow="hidden">
      <Text bold color={color(on, 'cyan')} wrap="truncate">
        {truncate(title, width)}
      </Text>
      {win.rows.map((l, i) => (
        <Text
          key={i}
          wrap="truncate"
          color={color(on, l.color)}
          bold={l.bold}
          dimColor={on && l.dim}
          inverse={l.marked}
        >
          {truncate(l.text, width) || ' '}
        </Text>
      ))}
      {comment ? (
        <TextField
          label={comment.editing === null ? 'comment' : `edit #${comment.editing}`}
          labelWidth={9}
          value={comment.text}
          active
          width={width}
          on={on}
          placeholder={`on ${target}: enter saves, esc drops it`}
        />
      ) : null}
    </Box>
  );
}
