/** A yes/no question (stop a lane, approve over failed gates, quit with lanes working). */
import { Box, Text } from 'ink';
import { overlayOf } from '../src/state/selectors.js';
import type { ConfirmOverlay } from '../src/state/types.js';
import { color } from '../src/ui/theme.js';
import { truncate } from '../src/ui/text.js';
import { wrap } from '../src/ui/wrap.js';
import { useApp } from './StoreContext.js';

const TITLES: Record<ConfirmOverlay['action'], string> = {
  stop: 'Stop lane',
  remove: 'Remove lane',
  quit: 'Quit',
  approve: 'Approve over failed gates',
  trust: "Allow this repo's commands",
};

export function ConfirmDialog({ width, height }: { width: number; height: number }) {
  const { confirm, on, outlive } = useApp((s) => ({
    confirm: overlayOf(s, 'confirm'),
    on: s.color,
    outlive: s.lanesOutlive === true,
  }));
  const keys =
    confirm?.action === 'quit' && outlive
      ? '  enter/y quit (lanes keep running)   s stop every lane and the engine   n back'
      : confirm?.action === 'trust'
        ? '  y allow them   n not now (they do not run)'
        : '  y yes   n no';
  // paragraphs (a list of commands) keep their line breaks; each is wrapped to the width
  const paragraphs = (confirm?.message ?? '').split('\n');
  const message = paragraphs.flatMap((p) => (p.trim() ? wrap(p, width - 2) : [''])).slice(0, Math.max(1, height - 3));
  return (
    <Box flexDirection="column" height={height} width={width} overflow="hidden">
      <Text bold color={color(on, 'yellow')} wrap="truncate">
        {truncate(confirm ? TITLES[confirm.action] : 'Confirm', width)}
      </Text>
      {message.map((l, i) => (
        <Text key={i} wrap="truncate">
          {'  '}
          {l}
        </Text>
      ))}
      <Text bold wrap="truncate">
        {truncate(keys, width)}
      </Text>
    </Box>
  );
}
