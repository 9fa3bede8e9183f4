/** One labelled single-line input; shows the end of a long value and a cursor when active. */
import { Text } from 'ink';
import { color } from '../src/ui/theme.js';
import { textWidth } from '../src/ui/text.js';

export function tail(value: string, width: number): string {
  if (textWidth(value) <= width) return value;
  const chars = Array.from(value);
  let out = '';
  for (let i = chars.length - 1; i >= 0 && textWidth(chars[i] + out) <= width - 1; i--) out = chars[i] + out;
  return '…' + out;
}

export function TextField({
  label,
  value,
  active,
  width,
  on,
  labelWidth = 8,
  placeholder = '',
}: {
  label: string;
  value: string;
  active: boolean;
  width: number;
  on: boolean;
  labelWidth?: number;
  placeholder?: string;
}) {
  const room = Math.max(1, width - labelWidth - 4);
  const shown = tail(value, room - 1);
  return (
    <Text wrap="truncate">
      <Text bold={active} color={color(on, active ? 'cyan' : undefined)}>
        {active ? '› ' : '  '}
        {label.padEnd(labelWidth)}
      </Text>
      {value ? <Text>{shown}</Text> : <Text dimColor={on}>{placeholder}</Text>}
      {active ? <Text inverse> </Text> : null}
    </Text>
  );
}
