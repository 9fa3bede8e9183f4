/** `m`: the flash line's last messages with their times (the flash line itself fades). */
import { Box, Text } from 'ink';
import type { Flash } from '../src/state/types.js';
import { color } from '../src/ui/theme.js';
import { sanitize, textWidth, truncate, windowOf } from '../src/ui/text.js';
import { hardWrap } from '../src/ui/wrap.js';
import { LineView, type Line } from './ReviewPanel.js';
import { useApp, useClampedScroll } from './StoreContext.js';

const KIND: Record<Flash['kind'], { mark: string; color: string }> = {
  info: { mark: '•', color: 'green' },
  warn: { mark: '!', color: 'yellow' },
  error: { mark: '✗', color: 'red' },
};

const pad = (n: number): string => String(n).padStart(2, '0');

/** A message's local time of day, HH:MM:SS. */
export function timeOfDay(at: number): string {
  const d = new Date(at);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** The messages as lines, oldest first; a long message wraps under its time. */
export function messageLines(messages: readonly Flash[], width: number): Line[] {
  if (messages.length === 0) return [{ text: 'no messages yet', dim: true }];
  return messages.flatMap((m) => {
    const head = `${timeOfDay(m.at)} ${KIND[m.kind].mark} `;
    const indent = textWidth(head);
    return hardWrap(sanitize(m.text), Math.max(2, width - indent)).map((piece, i) => ({
      text: (i === 0 ? head : ' '.repeat(indent)) + piece,
      color: m.kind === 'info' ? undefined : KIND[m.kind].color,
    }));
  });
}

export function MessageLog({ width, height }: { width: number; height: number }) {
  const { messages, scroll, on } = useApp((s) => ({ messages: s.messages, scroll: s.scroll.messages, on: s.color }));
  const lines = messageLines(messages, width);
  const win = windowOf(lines, scroll, Math.max(1, height - 1));
  useClampedScroll('messages', scroll, win.offset);
  return (
    <Box flexDirection="column" height={height} width={width} overflow="hidden">
      <Text bold color={color(on, 'cyan')} wrap="truncate">
        {truncate(`Messages (${messages.length}, the last 100 kept) — esc closes, ↑/↓ scroll`, width)}
      </Text>
      <LineView lines={win.rows} width={width} on={on} />
    </Box>
  );
}
