/** `M`: how review is going — gate pass rate per profile, approvals vs rejections, time to decision, rework. */
import { Box, Text } from 'ink';
import type { ConsoleMetrics } from '../src/state/types.js';
import { color } from '../src/ui/theme.js';
import { fit, formatDuration, truncate } from '../src/ui/text.js';
import { useApp } from './StoreContext.js';

const pct = (n: number | null): string => (n === null ? '—' : `${Math.round(n * 100)}%`);

const money = (n: number | null): string => (n === null ? '—' : n >= 1 ? `$${n.toFixed(2)}` : `$${n.toFixed(4)}`);

/** Cost per merged and per rejected lane (lanes/usage/), when the engine reports it. */
function costLines(m: ConsoleMetrics): string[] {
  if (!m.cost) return [];
  const { merged, rejected } = m.cost;
  const line = (what: string, c: typeof merged) =>
    `cost per ${what} lane: ${money(c.perLane)} (${c.lanes} lane${c.lanes === 1 ? '' : 's'}, ${money(c.usd)} in all)`;
  return [line('merged', merged), line('rejected', rejected)];
}

/** The panel's lines, pure (tested alone). */
export function metricsLines(m: ConsoleMetrics): string[] {
  const decided = m.approvals + m.rejections;
  const lines = [
    `approvals ${m.approvals}, rejections ${m.rejections}${decided ? ` (${pct(m.approvals / decided)} approved)` : ''}`,
    `median time from handoff to decision: ${m.medianDecisionMs === null ? '—' : formatDuration(m.medianDecisionMs)}`,
    `rework: ${m.reworkCount} rejection${m.reworkCount === 1 ? '' : 's'} with rework over ${m.lanesReworked} lane${m.lanesReworked === 1 ? '' : 's'}`,
    ...costLines(m),
    '',
    `${fit('profile', 16)} ${'gate runs'.padStart(9)} ${'passed'.padStart(7)} ${'rate'.padStart(5)}`,
  ];
  if (m.gates.length === 0) lines.push('(no gate has run yet)');
  for (const g of m.gates)
    lines.push(
      `${fit(g.profile, 16)} ${String(g.runs).padStart(9)} ${String(g.passed).padStart(7)} ${pct(g.passRate).padStart(5)}`,
    );
  return lines;
}

export function MetricsPanel({ width, height }: { width: number; height: number }) {
  const { m, on } = useApp((s) => ({ m: s.metricsPanel, on: s.color }));
  const lines = m.data ? metricsLines(m.data) : [];
  return (
    <Box flexDirection="column" height={height} width={width} overflow="hidden">
      <Text bold color={color(on, 'cyan')} wrap="truncate">
        {truncate(
          `Metrics (every lane in the store)${m.loading ? ' — loading…' : ''} — r refreshes, esc closes`,
          width,
        )}
      </Text>
      {m.error ? (
        <Text color={color(on, 'red')} wrap="truncate">
          {truncate(m.error, width)}
        </Text>
      ) : null}
      {lines.slice(0, Math.max(0, height - 2)).map((l, i) => (
        <Text key={i} wrap="truncate">
          {truncate(l, width) || ' '}
        </Text>
      ))}
    </Box>
  );
}
