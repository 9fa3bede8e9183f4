/** The keys that act now (from the keymap table), packed into at most two lines. */
import { Box, Text } from 'ink';
import { activeBindings, footerLabel } from '../src/keymap/index.js';
import { textWidth, truncate } from '../src/ui/text.js';
import { useAppStore, useApp } from './StoreContext.js';

export function footerItems(labels: string[], width: number, maxLines = 2): string[] {
  const lines: string[] = [];
  let line = '';
  for (const item of labels) {
    const next = line ? `${line}  ${item}` : item;
    if (textWidth(next) <= width || !line) {
      line = next;
      continue;
    }
    lines.push(line);
    line = item;
  }
  if (line) lines.push(line);
  return lines.slice(0, maxLines).map((l) => truncate(l, width));
}

export function Footer({ width }: { width: number }) {
  const store = useAppStore();
  // subscribe to what enables or disables keys
  useApp((s) => ({
    overlay: s.overlay,
    lanes: s.lanes,
    focused: s.focused,
    p: s.profiles,
    learnings: s.learningsBrowser,
    history: s.history,
  }));
  const items = activeBindings(store.getState()).map(footerLabel);
  const lines = footerItems(items, width);
  return (
    <Box flexDirection="column" height={2} width={width}>
      {lines.map((l, i) => (
        <Text key={i} wrap="truncate">
          {l}
        </Text>
      ))}
    </Box>
  );
}
