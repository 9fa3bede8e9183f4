/** The history view (`H`): past and present lanes, newest first, with their closure; enter replays. */
import { Box, Text } from 'ink';
import { formatTime } from '../../src/format/table.js';
import { color } from '../../src/ui/theme.js';
import { fit, truncate, windowOf } from '../../src/ui/text.js';
import type { HistoryEntry } from '../../src/state/types.js';
import { useApp } from '../StoreContext.js';

export function historyRow(e: HistoryEntry, width: number): string {
  const outcome = e.outcome ?? `(open: ${e.state})`;
  const head = `${fit(e.name, 16)} ${fit(outcome, 22)} ${fit(formatTime(e.createdAt), 19)} ${fit(e.profile, 8)} ${e.sessionId.slice(0, 8)}  `;
  return truncate(head + e.task.split('\n')[0], width);
}

export function HistoryView({ width, height }: { width: number; height: number }) {
  const { history, on } = useApp((s) => ({ history: s.history, on: s.color }));
  const bodyHeight = Math.max(1, height - 2);
  const offset = Math.max(0, history.selected - bodyHeight + 1);
  const win = windowOf(history.entries, offset, bodyHeight);
  return (
    <Box flexDirection="column" height={height} width={width} overflow="hidden">
      <Text bold color={color(on, 'cyan')} wrap="truncate">
        {truncate(`History: ${history.entries.length} lane(s) recorded · enter replays`, width)}
      </Text>
      <Text dimColor wrap="truncate">
        {truncate(
          `${fit('LANE', 16)} ${fit('CLOSURE', 22)} ${fit('CREATED', 19)} ${fit('PROFILE', 8)} SESSION   TASK`,
          width,
        )}
      </Text>
      {history.entries.length === 0 ? <Text dimColor>no lanes recorded yet</Text> : null}
      {win.rows.map((e, i) => {
        const selected = win.offset + i === history.selected;
        return (
          <Text key={e.laneId} inverse={selected} wrap="truncate">
            {historyRow(e, width)}
          </Text>
        );
      })}
    </Box>
  );
}
