/** Two lines: where we are (repo, base branch, session) and how the lanes stand. */
import { Box, Text } from 'ink';
import { laneCounts, todayCounts } from '../src/state/selectors.js';
import { color, STATE_LOOK } from '../src/ui/theme.js';
import { truncate } from '../src/ui/text.js';
import { useClock } from '../src/ui/useClock.js';
import { useApp } from './StoreContext.js';

export function Header({ width }: { width: number }) {
  const { repoLabel, baseBranch, sessionId, lanes, on } = useApp((s) => ({
    repoLabel: s.repoLabel,
    baseBranch: s.baseBranch,
    sessionId: s.sessionId,
    lanes: s.lanes,
    on: s.color,
  }));
  const now = useClock(60_000);
  const today = todayCounts(lanes, now);
  const counts = laneCounts(lanes);
  const first = truncate(`ao-console · repo ${repoLabel} · base ${baseBranch || '?'} · session ${sessionId}`, width);
  // today's outcomes first: the lane list below shows the states too, so those may be cut
  const todayText = `today ✓ ${today.merged} merged  ⊘ ${today.rejected} rejected  ✗ ${today.failed} failed`;
  const countText =
    counts.length === 0
      ? 'no lanes'
      : counts.map(([st, n]) => `${STATE_LOOK[st].symbol} ${n} ${STATE_LOOK[st].label}`).join('  ');
  return (
    <Box flexDirection="column" height={2} width={width}>
      <Text bold color={color(on, 'cyan')} wrap="truncate">
        {first}
      </Text>
      <Text wrap="truncate">{truncate(`${todayText}  │  ${countText}`, width)}</Text>
    </Box>
  );
}
