/**
 * Two lines: where we are (repo, base branch, session; over several engines: which view and how
 * many engines are connected) and how the lanes stand.
 */
import { Box, Text } from 'ink';
import { laneCounts, needingOperator, todayCounts } from '../src/state/selectors.js';
import { color, STATE_LOOK } from '../src/ui/theme.js';
import { textWidth, truncate } from '../src/ui/text.js';
import { useClock } from '../src/ui/useClock.js';
import { useApp } from './StoreContext.js';

export function Header({ width }: { width: number }) {
  const { repoLabel, baseBranch, sessionId, lanes, on, past, members } = useApp((s) => ({
    members: s.members,
    past: s.todayPast,
    repoLabel: s.repoLabel,
    baseBranch: s.baseBranch,
    sessionId: s.sessionId,
    lanes: s.lanes,
    on: s.color,
  }));
  const now = useClock(60_000);
  const today = todayCounts(lanes, now, past);
  const counts = laneCounts(lanes);
  const need = needingOperator(lanes).length;
  const connected = members?.filter((m) => m.state === 'connected').length ?? 0;
  const first = truncate(
    members
      ? `ao-console · ${repoLabel} · ${members.length} engine${members.length === 1 ? '' : 's'}, ${connected} connected`
      : `ao-console · repo ${repoLabel} · base ${baseBranch || '?'} · session ${sessionId}`,
    width,
  );
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
      <Text wrap="truncate">
        {/* first: how many lanes wait on the operator (marked * in the lane list) */}
        {need > 0 ? (
          <Text bold color={color(on, 'yellowBright')}>
            {truncate(`* ${need} need${need === 1 ? 's' : ''} you  `, width)}
          </Text>
        ) : null}
        {truncate(
          `${todayText}  │  ${countText}`,
          Math.max(0, width - (need > 0 ? textWidth(`* ${need} needs you  `) : 0)),
        )}
      </Text>
    </Box>
  );
}
