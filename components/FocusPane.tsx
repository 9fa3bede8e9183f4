/** The selected lane: its live screen, or its review when it awaits approval. */
import { Box, Text } from 'ink';
import { useEffect } from 'react';
import { focusedLane, shownScreen, showsReview } from '../src/state/selectors.js';
import { color, STATE_LOOK } from '../src/ui/theme.js';
import { sanitize, truncate } from '../src/ui/text.js';
import { LaneScreen } from './LaneScreen.js';
import { ReviewPanel } from './ReviewPanel.js';
import { useActions, useApp } from './StoreContext.js';

export function FocusPane({ width, height }: { width: number; height: number }) {
  const actions = useActions();
  const { lane, on, recorded } = useApp((s) => ({
    lane: focusedLane(s),
    on: s.color,
    recorded: shownScreen(s).fromRecording,
  }));
  useEffect(() => actions.setPaneSize(width, height), [actions, width, height]);
  if (!lane) {
    return (
      <Box flexDirection="column" height={height + 1} width={width}>
        <Text bold>No lane selected</Text>
        <Text wrap="truncate">{truncate('Press n to start a lane, ? for every key.', width)}</Text>
      </Box>
    );
  }
  const look = STATE_LOOK[lane.state];
  const review = showsReview(lane);
  // a lane paused for its budget says so first, with the way out (docs/usage.md)
  const paused = lane.usage?.paused ? `${lane.name} · ⏸ ${sanitize(lane.usage.paused)} (x: stop)` : null;
  const title = `${lane.name} · ${lane.profile} · ${look.label}${recorded && !review ? ' · last screen, from the recording' : ''} · ${sanitize(lane.task)}`;
  return (
    <Box flexDirection="column" height={height + 1} width={width} overflow="hidden">
      <Text wrap="truncate" bold>
        <Text color={color(on, look.color)}>{look.symbol} </Text>
        {paused ? <Text color={color(on, 'yellow')}>{truncate(paused, width - 2)}</Text> : truncate(title, width - 2)}
      </Text>
      {review ? <ReviewPanel width={width} height={height} /> : <LaneScreen width={width} height={height} />}
    </Box>
  );
}
