/** `?`: every key of the keymap, grouped by where it acts; disabled keys say why. */
import { Box, Text } from 'ink';
import { bindingsIn, keyLabel, SCOPE_TITLES, SCOPES } from '../src/keymap/index.js';
import type { AppState } from '../src/state/types.js';
import { color } from '../src/ui/theme.js';
import { fit, truncate, windowOf } from '../src/ui/text.js';
import { useAppStore, useApp, useClampedScroll } from './StoreContext.js';
import type { Line } from './ReviewPanel.js';
import { LineView } from './ReviewPanel.js';

export function helpLines(s: AppState, keyWidth = 14): Line[] {
  const lines: Line[] = [];
  for (const scope of SCOPES) {
    lines.push({ text: SCOPE_TITLES[scope], bold: true, color: 'cyan' });
    for (const b of bindingsIn(scope)) {
      // Only dashboard keys depend on the lanes; the others act inside their own overlay.
      const ok = scope === 'dashboard' ? b.enabled(s) : true;
      const text = `  ${fit(keyLabel(b.keys), keyWidth)} ${b.description}`;
      if (ok === true) lines.push({ text });
      else
        lines.push(
          { text, dim: true, color: 'gray' },
          { text: `  ${' '.repeat(keyWidth)}   disabled: ${ok}`, color: 'yellow' },
        );
    }
    lines.push({ text: '' });
  }
  return lines;
}

export function HelpOverlay({ width, height }: { width: number; height: number }) {
  const store = useAppStore();
  // re-render when anything the reasons depend on changes
  const { scroll, on } = useApp((s) => ({ scroll: s.scroll.help, on: s.color, lanes: s.lanes, focused: s.focused }));
  const lines = helpLines(store.getState());
  const win = windowOf(lines, scroll, Math.max(1, height - 1));
  useClampedScroll('help', scroll, win.offset);
  return (
    <Box flexDirection="column" height={height} width={width} overflow="hidden">
      <Text bold color={color(on, 'cyan')} wrap="truncate">
        {truncate(
          `Keys — esc closes, ↓/↑ scroll (${win.offset + 1}-${win.offset + win.rows.length} of ${lines.length})`,
          width,
        )}
      </Text>
      <LineView lines={win.rows} width={width} on={on} />
    </Box>
  );
}
