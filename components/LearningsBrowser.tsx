/** `L`: the repo's learnings — search, see where one came from, tombstone with a reason, edit its text. */
import { Box, Text } from 'ink';
import type { LearningInfo } from '../src/state/types.js';
import { color } from '../src/ui/theme.js';
import { fit, sanitize, truncate, windowOf } from '../src/ui/text.js';
import { formatAge } from '../src/format/table.js';
import { useApp } from './StoreContext.js';
import { TextField } from './TextField.js';

const INPUT_LABEL = { search: 'search', tombstone: 'reason', edit: 'text' } as const;

/** One row of the list: id, category, confidence, utility and the text on one line. */
export function learningRow(l: LearningInfo, width: number): string {
  const head = `${String(l.id).padStart(4)} ${fit(l.category, 10)} ${l.effectiveConfidence.toFixed(2)} ${(l.utility >= 0 ? '+' : '') + l.utility.toFixed(1)} `;
  return truncate(head + sanitize(l.text.replace(/\s+/g, ' ')), width);
}

/** The details of the selected learning: where it came from and how it stands. */
export function learningDetails(l: LearningInfo, now = Date.now()): string[] {
  const lines = [
    `#${l.id} ${l.category} from ${l.source}${l.lane ? `, lane ${l.lane}` : ''}${l.sessionId ? ` (session ${l.sessionId.slice(0, 8)})` : ''}, ${formatAge(l.createdAt, now)} ago`,
    `confidence ${l.confidence.toFixed(2)} (now ${l.effectiveConfidence.toFixed(2)}), utility ${l.utility.toFixed(1)}, ${l.maturity}, briefed into ${l.uses} lane${l.uses === 1 ? '' : 's'}`,
  ];
  if (l.tombstoned) lines.push(`tombstoned: ${l.tombstoneReason ?? '(no reason)'}`);
  lines.push(
    ...(sanitize(l.text.replace(/\n/g, ' '))
      .match(/.{1,200}/g)
      ?.slice(0, 2) ?? []),
  );
  return lines;
}

export function LearningsBrowser({ width, height }: { width: number; height: number }) {
  const { b, on } = useApp((s) => ({ b: s.learningsBrowser, on: s.color }));
  const selected = b.items[b.selected];
  const details = selected ? learningDetails(selected) : [];
  const listRows = Math.max(1, height - 2 - details.length - 1);
  const win = windowOf(b.items, Math.max(0, b.selected - listRows + 1), listRows);
  const title = `Learnings${b.query ? ` matching "${b.query}"` : ''}${b.includeTombstoned ? ' (with tombstoned)' : ''} — ${b.loading ? 'loading…' : `${b.items.length}`}`;
  return (
    <Box flexDirection="column" height={height} width={width} overflow="hidden">
      <Text bold color={color(on, 'cyan')} wrap="truncate">
        {truncate(title, width)}
      </Text>
      {b.input ? (
        <TextField label={INPUT_LABEL[b.input.kind]} value={b.input.text} active width={width} on={on} labelWidth={7} />
      ) : b.error ? (
        <Text color={color(on, 'red')} wrap="truncate">
          {truncate(b.error, width)}
        </Text>
      ) : (
        <Text dimColor={on} wrap="truncate">
          {truncate('  ID CATEGORY   CONF UTIL TEXT', width)}
        </Text>
      )}
      <Box flexDirection="column" height={listRows} overflow="hidden">
        {b.items.length === 0 && !b.loading ? (
          <Text dimColor={on}>{b.query ? 'no learning matches' : 'no learnings yet'}</Text>
        ) : null}
        {win.rows.map((l) => {
          const sel = l.id === selected?.id;
          return (
            <Text key={l.id} inverse={sel} dimColor={on && l.tombstoned} strikethrough={l.tombstoned} wrap="truncate">
              {learningRow(l, width)}
            </Text>
          );
        })}
      </Box>
      <Box flexDirection="column" height={details.length + 1} overflow="hidden">
        <Text> </Text>
        {details.map((d, i) => (
          <Text key={i} color={color(on, i === 2 && selected?.tombstoned ? 'yellow' : undefined)} wrap="truncate">
            {truncate(d, width)}
          </Text>
        ))}
      </Box>
    </Box>
  );
}
