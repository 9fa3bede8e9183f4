/** A lane in review: its gate verdicts, its diff stat and a scrollable coloured diff. */
import { Box, Text } from 'ink';
import type { ReviewInfo } from '../src/state/types.js';
import { color, diffLineColor, VERDICT_LOOK } from '../src/ui/theme.js';
import { formatDuration, sanitize, truncate, windowOf } from '../src/ui/text.js';
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
  const { review, scroll, on, requiredPassed } = useApp((s) => ({
    review: s.review,
    scroll: s.scroll.review,
    on: s.color,
    requiredPassed: s.review.info?.requiredPassed ?? false,
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
    top = [verdictSummary, ...mergeFailed, ...shownVerdicts, diffStatLine(info)];
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
