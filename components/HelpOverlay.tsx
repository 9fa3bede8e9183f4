/** `?`: every key of the keymap, grouped by where it acts; disabled keys say why. */
import { Box, Text } from 'ink';
import { bindingsIn, keyLabel, SCOPE_TITLES, SCOPES } from '../src/keymap/index.js';
import { overlayOf } from '../src/state/selectors.js';
import type { AppState } from '../src/state/types.js';
import { color } from '../src/ui/theme.js';
import { fit, truncate, windowOf } from '../src/ui/text.js';
import { useAppStore, useApp, useClampedScroll } from './StoreContext.js';
import type { Line } from './ReviewPanel.js';
import { LineView } from './ReviewPanel.js';

/** Every key by scope; with `search`, only the keys whose key, description or scope matches it. */
export function helpLines(s: AppState, keyWidth = 14, search = ''): Line[] {
  const lines: Line[] = [];
  const q = search.trim().toLowerCase();
  for (const scope of SCOPES) {
    const matches = (b: { keys: string[]; description: string }): boolean =>
      !q || `${SCOPE_TITLES[scope]} ${keyLabel(b.keys)} ${b.description}`.toLowerCase().includes(q);
    const shown = bindingsIn(scope).filter(matches);
    if (shown.length === 0) continue;
    lines.push({ text: SCOPE_TITLES[scope], bold: true, color: 'cyan' });
    for (const b of shown) {
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
  const { scroll, on, search, typing } = useApp((s) => ({
    scroll: s.scroll.help,
    on: s.color,
    lanes: s.lanes,
    focused: s.focused,
    search: overlayOf(s, 'help')?.search ?? '',
    typing: overlayOf(s, 'help')?.typing ?? false,
  }));
  const found = helpLines(store.getState(), 14, search);
  const lines: Line[] = found.length > 0 ? found : [{ text: `no key matches "${search}"`, dim: true }];
  const bodyHeight = Math.max(1, height - (search || typing ? 2 : 1));
  const win = windowOf(lines, scroll, bodyHeight);
  useClampedScroll('help', scroll, win.offset);
  return (
    <Box flexDirection="column" height={height} width={width} overflow="hidden">
      <Text bold color={color(on, 'cyan')} wrap="truncate">
        {truncate(
          `Keys — esc closes, ↓/↑ scroll, space/b page, / search (${win.offset + 1}-${win.offset + win.rows.length} of ${lines.length})`,
          width,
        )}
      </Text>
      {search || typing ? (
        <Text wrap="truncate" color={color(on, 'yellow')}>
          {truncate(`search: ${search}${typing ? '▏ (enter keeps it, esc clears)' : '  (esc clears)'}`, width)}
        </Text>
      ) : null}
      <LineView lines={win.rows} width={width} on={on} />
    </Box>
  );
}
