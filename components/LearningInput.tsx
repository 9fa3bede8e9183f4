/** `l`: one line of what the repo learned, stored for the next lanes. */
import { Box, Text } from 'ink';
import { overlayOf } from '../src/state/selectors.js';
import { color } from '../src/ui/theme.js';
import { truncate } from '../src/ui/text.js';
import { useApp } from './StoreContext.js';
import { TextField } from './TextField.js';

export function LearningInput({ width, height }: { width: number; height: number }) {
  const { learning, on } = useApp((s) => ({ learning: overlayOf(s, 'learning-input'), on: s.color }));
  if (!learning) return null;
  return (
    <Box flexDirection="column" height={height} width={width} overflow="hidden">
      <Text bold color={color(on, 'cyan')} wrap="truncate">
        {truncate(
          `Add a learning${learning.lane ? ` (lane ${learning.lane})` : ''} — enter: store, esc: cancel`,
          width,
        )}
      </Text>
      <TextField
        label="learning"
        value={learning.text}
        active
        width={width}
        on={on}
        labelWidth={9}
        placeholder="e.g. run the migrations before the tests"
      />
    </Box>
  );
}
