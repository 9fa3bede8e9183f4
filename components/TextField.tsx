/**
 * One labelled input; shows the end of a long value and a cursor when active. A value with line
 * breaks (the new-lane form's task) takes up to `maxLines` rows, its last lines when it has more.
 */
import { Box, Text } from 'ink';
import { color } from '../src/ui/theme.js';
import { sanitize, textWidth } from '../src/ui/text.js';

export function tail(value: string, width: number): string {
  if (textWidth(value) <= width) return value;
  const chars = Array.from(value);
  let out = '';
  for (let i = chars.length - 1; i >= 0 && textWidth(chars[i] + out) <= width - 1; i--) out = chars[i] + out;
  return '…' + out;
}

/** The rows a value takes: its lines, the last `maxLines` of them, the first marked when some are hidden. */
export function fieldLines(value: string, maxLines: number): { lines: string[]; hidden: number } {
  const all = value.split('\n').map(sanitize);
  const keep = Math.max(1, maxLines);
  const hidden = Math.max(0, all.length - keep);
  return { lines: all.slice(hidden), hidden };
}

export function TextField({
  label,
  value,
  active,
  width,
  on,
  labelWidth = 8,
  placeholder = '',
  maxLines = 1,
}: {
  label: string;
  value: string;
  active: boolean;
  width: number;
  on: boolean;
  labelWidth?: number;
  placeholder?: string;
  /** rows a multi-line value may take */
  maxLines?: number;
}) {
  const room = Math.max(1, width - labelWidth - 4);
  const head = (first: boolean) => (
    <Text bold={active} color={color(on, active ? 'cyan' : undefined)}>
      {first ? (active ? '› ' : '  ') + label.padEnd(labelWidth) : ' '.repeat(labelWidth + 2)}
    </Text>
  );
  const cursor = active ? <Text inverse> </Text> : null;
  if (!value.includes('\n')) {
    return (
      <Text wrap="truncate">
        {head(true)}
        {value ? <Text>{tail(sanitize(value), room - 1)}</Text> : <Text dimColor={on}>{placeholder}</Text>}
        {cursor}
      </Text>
    );
  }
  const { lines, hidden } = fieldLines(value, maxLines);
  return (
    <Box flexDirection="column" height={lines.length}>
      {lines.map((line, i) => (
        <Text key={i} wrap="truncate">
          {head(i === 0)}
          {i === 0 && hidden > 0 ? <Text dimColor={on}>{`(${hidden} more above) `}</Text> : null}
          <Text>{tail(line, room - 1 - (i === 0 && hidden > 0 ? 16 : 0))}</Text>
          {i === lines.length - 1 ? cursor : null}
        </Text>
      ))}
    </Box>
  );
}
