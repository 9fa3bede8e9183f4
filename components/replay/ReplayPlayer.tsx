/**
 * The replay player: the lane's screen as rebuilt by the emulator at the play position, a status
 * line (position, speed, lane), a progress bar with the event marks, and the events around now.
 */
import { Box, Text } from 'ink';
import { overlayOf } from '../../src/state/selectors.js';
import type { ReplayView } from '../../src/state/types.js';
import { color } from '../../src/ui/theme.js';
import { formatPlayTime, truncate } from '../../src/ui/text.js';
import { ScreenRows } from '../LaneScreen.js';
import { useApp } from '../StoreContext.js';

const EVENT_LINES = 4;

export function statusLine(r: ReplayView): string {
  const lanePos =
    r.lanes.length > 1 ? ` (${r.lanes.findIndex((l) => l.laneId === r.laneId) + 1}/${r.lanes.length})` : '';
  const cap = Number.isFinite(r.idleCapMs) ? ` · pauses ≤ ${r.idleCapMs / 1000}s` : '';
  return (
    `${r.playing ? '▶ playing' : '❚❚ paused'} ${formatPlayTime(r.positionMs)} / ${formatPlayTime(r.durationMs)} · ${r.speed}x · ` +
    `lane ${r.lane}${lanePos} · ${r.outcome ?? (r.live ? 'recording' : 'open')}${cap}`
  );
}

/** A bar of `width` cells: '━' played, '─' to come, '┃' at event marks, '●' at the position. */
export function progressBar(r: ReplayView, width: number): string {
  const w = Math.max(1, width);
  const cells: string[] = Array.from({ length: w }, (_, i) =>
    r.durationMs > 0 && (i / w) * r.durationMs < r.positionMs ? '━' : '─',
  );
  for (const m of r.marks) {
    const i = r.durationMs > 0 ? Math.min(w - 1, Math.floor((m.playMs / r.durationMs) * w)) : 0;
    cells[i] = '┃';
  }
  const at = r.durationMs > 0 ? Math.min(w - 1, Math.floor((r.positionMs / r.durationMs) * w)) : 0;
  cells[at] = '●';
  return cells.join('');
}

export function ReplayPlayer({ width, height }: { width: number; height: number }) {
  const { r, on } = useApp((s) => ({ r: overlayOf(s, 'replay')?.view ?? null, on: s.color }));
  if (!r) return <Text>no replay open</Text>;
  const screenHeight = Math.max(1, height - 3 - EVENT_LINES);
  const first = Math.max(0, Math.min(r.markIndex - 1, r.marks.length - EVENT_LINES));
  const events = r.marks.slice(first, first + EVENT_LINES);
  return (
    <Box flexDirection="column" height={height} width={width} overflow="hidden">
      <Text bold color={color(on, 'cyan')} wrap="truncate">
        {truncate(statusLine(r), width)}
      </Text>
      <Text color={color(on, 'gray')} wrap="truncate">
        {progressBar(r, width)}
      </Text>
      <ScreenRows screen={r.screen} cursorY={r.cursor?.y ?? null} width={width} height={screenHeight} on={on} />
      <Text dimColor wrap="truncate">
        {truncate(`events (${r.marks.length}):`, width)}
      </Text>
      {events.map((m, i) => {
        const current = first + i === r.markIndex;
        return (
          <Text key={first + i} bold={current} wrap="truncate">
            {truncate(`${current ? '▸' : ' '} ${formatPlayTime(m.playMs)} ${m.kind.padEnd(8)} ${m.label}`, width)}
          </Text>
        );
      })}
    </Box>
  );
}
