/** The engine went away without a word (killed): say so, offer to start it again or to quit. */
import { Box, Text } from 'ink';
import { overlayOf } from '../src/state/selectors.js';
import { color } from '../src/ui/theme.js';
import { truncate } from '../src/ui/text.js';
import { wrap } from '../src/ui/wrap.js';
import { useApp } from './StoreContext.js';

export function EngineGone({ width, height }: { width: number; height: number }) {
  const { gone, on } = useApp((s) => ({ gone: overlayOf(s, 'engine-gone'), on: s.color }));
  const text =
    `${gone?.message ?? 'the engine is gone'}. ` +
    'Its lanes stopped with it; starting it again recovers them (interrupted, resumable), nothing recorded is lost.';
  const lines = wrap(text, width - 2, Math.max(1, height - 3));
  return (
    <Box flexDirection="column" height={height} width={width} overflow="hidden">
      <Text bold color={color(on, 'red')} wrap="truncate">
        {truncate('The engine is gone', width)}
      </Text>
      {lines.map((l, i) => (
        <Text key={i} wrap="truncate">
          {'  '}
          {l}
        </Text>
      ))}
      <Text bold wrap="truncate">
        {truncate(gone?.restarting ? '  starting the engine…' : '  r start it again   q quit', width)}
      </Text>
    </Box>
  );
}
