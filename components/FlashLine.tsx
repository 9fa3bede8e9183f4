/** One line for what just happened or why a key did nothing; fades after a few seconds. */
import { Text } from 'ink';
import { useEffect } from 'react';
import { color } from '../src/ui/theme.js';
import { sanitize, truncate } from '../src/ui/text.js';
import { useActions, useApp } from './StoreContext.js';

const KIND_COLOR = { info: 'green', warn: 'yellow', error: 'red' } as const;
const KIND_MARK = { info: '•', warn: '!', error: '✗' } as const;

export function FlashLine({ width, ttlMs = 6000 }: { width: number; ttlMs?: number }) {
  const actions = useActions();
  const { flash, on } = useApp((s) => ({ flash: s.flash, on: s.color }));
  useEffect(() => {
    if (!flash) return;
    const t = setTimeout(() => actions.clearFlash(), ttlMs);
    t.unref?.();
    return () => clearTimeout(t);
  }, [flash, actions, ttlMs]);
  if (!flash) return <Text> </Text>;
  return (
    <Text wrap="truncate" color={color(on, KIND_COLOR[flash.kind])}>
      {truncate(`${KIND_MARK[flash.kind]} ${sanitize(flash.text)}`, width)}
    </Text>
  );
}
