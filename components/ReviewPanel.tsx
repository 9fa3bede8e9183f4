/** A lane in review: its gate verdicts, its diff stat and a scrollable coloured diff. */
import { Box, Text } from 'ink';
import type { ReviewInfo } from '../src/state/types.js';
import { color, diffLineColor, VERDICT_LOOK } from '../src/ui/theme.js';
import { formatDuration, sanitize, truncate, windowOf } from '../src/ui/text.js';
import { usageLine } from '../src/ui/usageText.js';
import { useApp, useClampedScroll } from './StoreContext.js';

export interface Line {
  text: string;
  color?: string;
  bold?: boolean;
  dim?: boolean;
}

export function verdictLines(info: ReviewInfo): Line[] {
  if (info.verdicts.length === 0) return [{ text: 'no gate verdicts yet', dim: true }];
  return info.verdicts.map((v) => {
    const look = VERDICT_LOOK[v.status];
    const tags = [
      v.required ? 'required' : 'optional',
      v.stale ? 'STALE: head moved' : '',
      v.exitCode !== null && v.status !== 'PASS' ? `exit ${v.exitCode}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    return {
      text: `${look.symbol} ${look.label.padEnd(7)} ${v.gate}  ${formatDuration(v.durationMs)}  (${tags})`,
      color: v.stale ? 'yellow' : look.color,
    };
  });
}

export function diffStatLine(info: ReviewInfo): Line {
  const added = info.diffStat.reduce((n, e) => n + e.added, 0);
  const deleted = info.diffStat.reduce((n, e) => n + e.deleted, 0);
  if (info.empty || info.diffStat.length === 0) return { text: `no changes against ${info.base}`, dim: true };
  const files = info.diffStat.length;
  return {
    text: `${files} file${files === 1 ? '' : 's'} changed, +${added} -${deleted} against ${info.base}`,
    bold: true,
  };
}

export function diffLines(info: ReviewInfo): Line[] {
  const stat: Line[] = info.diffStat.map((e) => ({ text: ` ${e.path}  +${e.added} -${e.deleted}` }));
  const diff: Line[] = info.diff
    .split('\n')
    .filter((l, i, all) => !(i === all.length - 1 && l === ''))
    .map((l) => ({ text: sanitize(l), color: diffLineColor(l) }));
  return [...stat, ...(stat.length && diff.length ? [{ text: '' }] : []), ...diff];
}

/** "3 comments: 1 draft, 2 addressed" (none: nothing). */
export function commentsLine(info: ReviewInfo): Line[] {
  const comments = info.comments ?? [];
  if (comments.length === 0) return [];
  const by = new Map<string, number>();
  for (const c of comments) by.set(c.status, (by.get(c.status) ?? 0) + 1);
  const parts = [...by].map(([status, n]) => `${n} ${status === 'unaddressed' ? 'not addressed' : status}`);
  const drafts = by.get('draft') ?? 0;
  return [
    {
      text: `${comments.length} review comment${comments.length === 1 ? '' : 's'}: ${parts.join(', ')}${drafts ? ' (r, rework: sends the drafts)' : ''} — d: diff`,
      color: by.get('unaddressed') ? 'red' : drafts ? 'yellow' : undefined,
    },
  ];
}

export function LineView({ lines, width, on }: { lines: Line[]; width: number; on: boolean }) {
  return (
    <>
      {lines.map((l, i) => (
        <Text key={i} wrap="truncate" color={color(on, l.color)} bold={l.bold} dimColor={on && l.dim}>
          {truncate(l.text, width) || ' '}
        </Text>
      ))}
    </>
  );
}

export function ReviewPanel({ width, height }: { width: number; height: number }) {
  const { review, scroll, on, requiredPassed, usage } = useApp((s) => ({
    review: s.review,
    scroll: s.scroll.review,
    on: s.color,
    requiredPassed: s.review.info?.requiredPassed ?? false,
    usage: s.lanes.find((l) => l.name === s.review.lane)?.usage,
  }));
  const info = review.info;
  let top: Line[];
  let body: Line[] = [];
  if (!info) {
    top = [
      {
        text: review.error ? `review not available: ${review.error}` : 'loading review…',
        color: review.error ? 'red' : undefined,
      },
    ];
  } else {
    const verdicts = verdictLines(info);
    const maxVerdicts = Math.max(1, Math.floor(height / 3));
    const shownVerdicts =
      verdicts.length > maxVerdicts
        ? [
            ...verdicts.slice(0, maxVerdicts - 1),
            { text: `… ${verdicts.length - maxVerdicts + 1} more (g: gate output)`, dim: true },
          ]
        : verdicts;
    const verdictSummary: Line = requiredPassed
      ? { text: 'required gates passed — a: approve, r: reject', color: 'green', bold: true }
      : { text: 'required gates did not pass — a asks before approving; G re-runs', color: 'red', bold: true };
    const mergeFailed: Line[] = info.mergeFailure
      ? [{ text: `merge failed, nothing changed: ${sanitize(info.mergeFailure.reason)}`, color: 'red' }]
      : [];
    top = [
      verdictSummary,
      ...mergeFailed,
      ...mergedTreeLines(info),
      ...shownVerdicts,
      diffStatLine(info),
      { text: usageLine(usage), color: usage?.paused ? 'yellow' : undefined, dim: !usage?.paused },
      ...commentsLine(info),
    ];
    body = diffLines(info);
  }
  const bodyHeight = Math.max(0, height - top.length);
  const win = windowOf(body, scroll, bodyHeight);
  useClampedScroll('review', scroll, win.offset);
  return (
    <Box flexDirection="column" height={height} width={width} overflow="hidden">
      <LineView lines={top.slice(0, height)} width={width} on={on} />
      <LineView lines={win.rows} width={width} on={on} />
    </Box>
  );
}

/**
 * The merge queue sent the lane back: it failed on the merged tree (base + lane). The reason, then
 * the last lines of each failing gate's output there (g shows the lane's own gate output).
 */
function mergedTreeLines(info: ReviewInfo): Line[] {
  const f = info.mergedTreeFailure;
  if (!f) return [];
  const tail = f.verdicts
    .filter((v) => v.required && v.status !== 'PASS')
    .flatMap((v) =>
      v.output
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .slice(-2)
        .map((l) => ({ text: `  ${v.gate}: ${sanitize(l)}`, dim: true })),
    )
    .slice(0, 3);
  return [{ text: sanitize(f.reason), color: 'red' }, ...tail];
}
