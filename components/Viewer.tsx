/** Full-body scrollable view of the focused lane's diff or gate output. */
import { Box, Text } from 'ink';
import type { ReviewInfo } from '../src/state/types.js';
import { overlayOf } from '../src/state/selectors.js';
import { color, VERDICT_LOOK } from '../src/ui/theme.js';
import { sanitize, truncate, windowOf } from '../src/ui/text.js';
import { hardWrap } from '../src/ui/wrap.js';
import { diffLines, diffStatLine, LineView, type Line } from './ReviewPanel.js';
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

export function Viewer({ width, height }: { width: number; height: number }) {
  const { view, review, scroll, on, lane } = useApp((s) => ({
    view: overlayOf(s, 'viewer')?.view ?? 'diff',
    review: s.review,
    scroll: s.scroll.viewer,
    on: s.color,
    lane: s.focused,
  }));
  const info = review.info;
  let lines: Line[];
  if (!info)
    lines = [
      { text: review.error ? `not available: ${review.error}` : 'loading…', color: review.error ? 'red' : undefined },
    ];
  else lines = view === 'diff' ? [diffStatLine(info), { text: '' }, ...diffLines(info)] : gateOutputLines(info);
  // long lines wrap (each piece keeps the line's colour) instead of being cut at the edge
  lines = lines.flatMap((l) => hardWrap(l.text, width).map((text) => ({ ...l, text })));
  const bodyHeight = Math.max(1, height - 1);
  const win = windowOf(lines, scroll, bodyHeight);
  useClampedScroll('viewer', scroll, win.offset);
  const where =
    lines.length > bodyHeight ? ` lines ${win.offset + 1}-${win.offset + win.rows.length} of ${lines.length}` : '';
  const title = `${view === 'diff' ? 'Diff' : 'Gate output'} of ${lane ?? '?'}${where}`;
  return (
    <Box flexDirection="column" height={height} width={width} overflow="hidden">
      <Text bold color={color(on, 'cyan')} wrap="truncate">
        {truncate(title, width)}
      </Text>
      <LineView lines={win.rows} width={width} on={on} />
    </Box>
  );
}
