/** A recorded screen (styled runs from the emulator) cut to a box; shared by the replay views. */
import { Box, Text } from 'ink';
import type { StyledRow } from '../../src/state/types.js';
import { runColor } from '../../src/ui/theme.js';
import { cutRow, visibleRows } from '../LaneScreen.js';

export function LaneScreenRows(props: { screen: StyledRow[]; cursorY: number | null; width: number; height: number; on: boolean }) {
  const rows = visibleRows(props.screen, props.height, props.cursorY);
  return (
    <Box flexDirection="column" height={props.height} width={props.width} overflow="hidden">
      {rows.map((row, i) => (
        <Text key={i} wrap="truncate">
          {cutRow(row, props.width).map((run, j) =>
            props.on ? (
              <Text key={j} color={runColor(run.fg)} backgroundColor={runColor(run.bg)} bold={run.bold} dimColor={run.dim} italic={run.italic} underline={run.underline} inverse={run.inverse}>
                {run.text}
              </Text>
            ) : (
              <Text key={j} bold={run.bold} inverse={run.inverse} underline={run.underline}>
                {run.text}
              </Text>
            ),
          )}
        </Text>
      ))}
    </Box>
  );
}
