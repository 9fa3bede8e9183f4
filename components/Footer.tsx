/** The keys that act now (from the keymap table), packed into at most two lines. */
import { Box, Text } from 'ink';
import { activeBindings, footerLabel } from '../src/keymap.js';
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
    mode: s.mode,
    lanes: s.lanes,
    focused: s.focused,
    f: s.newLane.field,
    r: s.reject,
    l: s.learning.text,
    p: s.profiles,
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
