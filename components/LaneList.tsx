/** The lanes, one row each, in a window of bounded height that keeps the selection visible. */
import { Box, Text } from 'ink';
import { needsOperator } from '../src/state/selectors.js';
import type { LaneSnapshot } from '../src/state/types.js';
import { color, STATE_LOOK, stateLabel } from '../src/ui/theme.js';
import { fit, formatDuration, formatRate, sanitize, truncate } from '../src/ui/text.js';
import { useClock } from '../src/ui/useClock.js';
import { formatCost } from '../src/ui/usageText.js';
import { useApp } from './StoreContext.js';

interface Columns {
  name: number;
  profile: number;
  state: number;
  time: number;
  rate: number;
  gates: number;
  /** the lane's cost so far (lanes/usage/); 0 (not shown) under 100 columns */
  cost: number;
  last: number;
}

export function laneColumns(width: number): Columns {
  const wide = width >= 120;
  const c = {
    name: wide ? 20 : 14,
    profile: wide ? 12 : 8,
    state: wide ? 18 : 14,
    time: 6,
    rate: 7,
    gates: wide ? 12 : 8,
    cost: width >= 100 ? 8 : 0,
    last: 0,
  };
  // marker (selection, needs-you), symbol and a space (4), and one space between the seven columns (6)
  c.last = Math.max(0, width - 4 - 6 - c.name - c.profile - c.state - c.time - c.rate - c.gates);
  if (c.cost) c.last = Math.max(0, c.last - c.cost - 1);
  return c;
}

/** First row of the window so that `focus` is visible in `height` rows. */
export function listOffset(focus: number, count: number, height: number): number {
  if (count <= height || focus < 0) return 0;
  return Math.min(Math.max(0, focus - Math.floor(height / 2)), count - height);
}

function LaneRow({
  lane,
  selected,
  width,
  now,
  on,
}: {
  lane: LaneSnapshot;
  selected: boolean;
  width: number;
  now: number;
  on: boolean;
}) {
  const c = laneColumns(width);
  const look = STATE_LOOK[lane.state];
  const cells = [
    fit(lane.name, c.name),
    fit(lane.profile, c.profile),
    fit(stateLabel(lane), c.state),
    fit(formatDuration(now - lane.stateSince), c.time),
    fit(formatRate(lane.outputRate), c.rate),
    fit(lane.gateSummary || '-', c.gates),
    ...(c.cost ? [fit(formatCost(lane.usage), c.cost)] : []),
  ].join(' ');
  const last = c.last > 1 ? ' ' + truncate(sanitize(lane.lastLine), c.last - 1) : '';
  return (
    <Text wrap="truncate" inverse={selected && on} bold={selected}>
      {/* › the selection; * a lane that waits on the operator (the header counts them) */}
      <Text>{selected ? '›' : ' '}</Text>
      <Text bold color={color(on, 'yellowBright')}>
        {needsOperator(lane.state) ? '*' : ' '}
      </Text>
      <Text color={color(on, look.color)}>{look.symbol} </Text>
      <Text>{cells}</Text>
      <Text dimColor={on}>{last}</Text>
    </Text>
  );
}

export function LaneList({ width, height }: { width: number; height: number }) {
  const { lanes, focused, on } = useApp((s) => ({ lanes: s.lanes, focused: s.focused, on: s.color }));
  const now = useClock(1000);
  const focus = lanes.findIndex((l) => l.name === focused);
  const offset = listOffset(focus, lanes.length, height);
  const shown = lanes.slice(offset, offset + height);
  const c = laneColumns(width);
  const title = `Lanes ${lanes.length}${lanes.length > height ? ` (${offset + 1}-${offset + shown.length})` : ''}`;
  const heads = [
    fit(title, 4 + c.name),
    fit('profile', c.profile),
    fit('state', c.state),
    fit('time', c.time),
    fit('rate', c.rate),
    fit('gates', c.gates),
    ...(c.cost ? [fit('cost', c.cost)] : []),
    c.last > 1 ? 'last line' : '',
  ].join(' ');
  return (
    <Box flexDirection="column" height={height + 1} width={width} overflow="hidden">
      <Text bold wrap="truncate">
        {truncate(heads.trimEnd(), width)}
      </Text>
      {lanes.length === 0 ? (
        <Text dimColor={on} wrap="truncate">
          {truncate('  no lanes yet — press n to start one', width)}
        </Text>
      ) : (
        shown.map((lane) => (
          <LaneRow key={lane.name} lane={lane} selected={lane.name === focused} width={width} now={now} on={on} />
        ))
      )}
    </Box>
  );
}
