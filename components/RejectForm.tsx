/** `r`: a reason (required), then rework (back to the agent) or discard. */
import { Box, Text } from 'ink';
import { overlayOf } from '../src/state/selectors.js';
import { color } from '../src/ui/theme.js';
import { truncate } from '../src/ui/text.js';
import { wrap } from '../src/ui/wrap.js';
import { useApp } from './StoreContext.js';
import { TextField } from './TextField.js';

export function RejectForm({ width, height }: { width: number; height: number }) {
  const { reject, on, drafts } = useApp((s) => {
    const form = overlayOf(s, 'reject-form')?.form ?? null;
    const comments = form && s.review.lane === form.lane ? (s.review.info?.comments ?? []) : [];
    return { reject: form, on: s.color, drafts: comments.filter((c) => c.status === 'draft').length };
  });
  if (!reject) return null;
  const choosing = reject.step === 'mode';
  const choice = (mode: 'rework' | 'discard', text: string) => (
    <Text
      key={mode}
      wrap="truncate"
      bold={choosing && reject.mode === mode}
      color={color(on, choosing && reject.mode === mode ? 'cyan' : undefined)}
    >
      {truncate(`  ${reject.mode === mode ? '(•)' : '( )'} ${text}`, width)}
    </Text>
  );
  const rows = [
    <TextField
      key="reason"
      label="reason"
      value={reject.reason}
      active={!choosing}
      width={width}
      on={on}
      placeholder="why (stored, and given to the agent on rework)"
    />,
    ...(reject.error
      ? wrap(`✗ ${reject.error}`, width - 4, 2).map((l, i) => (
          <Text key={`err${i}`} color={color(on, 'red')} wrap="truncate">
            {'    '}
            {l}
          </Text>
        ))
      : []),
    choice(
      'rework',
      drafts
        ? `w rework: send the lane back with the reason and ${drafts} review comment${drafts === 1 ? '' : 's'}`
        : 'w rework: send the lane back to its agent with the reason',
    ),
    choice('discard', 'D discard: close the lane as rejected'),
    <Text key="hint" dimColor={on} wrap="truncate">
      {truncate(
        choosing
          ? '  ←/→ choose, enter confirm, w/D pick directly, esc cancel'
          : '  type the reason, enter to continue, esc cancel',
        width,
      )}
    </Text>,
  ];
  return (
    <Box flexDirection="column" height={height} width={width} overflow="hidden">
      <Text bold color={color(on, 'red')} wrap="truncate">
        {truncate(`Reject ${reject.lane}`, width)}
      </Text>
      {rows.slice(0, Math.max(0, height - 1))}
    </Box>
  );
}
