/**
 * The lanes, one row each, in a window of bounded height that keeps the selection visible. Over
 * several engines (the all-engines view) the lanes come in groups, one per engine, each under a
 * header row: its key, how many lanes, how it stands (connecting, disconnected and when it is
 * tried again, stopped) and what it is; the lanes of an engine that is not connected are dimmed
 * (they are its last known ones). The selection moves over lanes only.
 */
import { Box, Text } from 'ink';
import { splitLaneName } from '../src/state/memberNames.js';
import { needsOperator } from '../src/state/selectors.js';
import type { LaneSnapshot, MemberStatus } from '../src/state/types.js';
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

/** How an engine of the all-engines view stands, as its group header says it. */
export function memberStateText(m: MemberStatus, now: number): string {
  switch (m.state) {
    case 'connected':
      return 'connected';
    case 'connecting':
      return 'connecting…';
    case 'stopped':
      return `stopped${m.reason ? `: ${m.reason}` : ''}`;
    case 'disconnected': {
      const secs = m.retryAt !== undefined ? Math.max(0, Math.ceil((m.retryAt - now) / 1000)) : null;
      return `disconnected — ${secs === null ? 'retrying' : `retrying in ${secs}s`}${m.reason ? `: ${sanitize(m.reason)}` : ''}`;
    }
  }
}

/** A group header: `▾ key · 2 lanes · connected · /path/of/repo`. */
function MemberRow({ member, width, now, on }: { member: MemberStatus; width: number; now: number; on: boolean }) {
  const lanes = `${member.lanes} lane${member.lanes === 1 ? '' : 's'}`;
  const warn = member.state === 'disconnected' || member.state === 'connecting';
  const stateColor = member.state === 'connected' ? 'green' : warn ? 'yellow' : 'gray';
  return (
    <Text wrap="truncate">
      <Text bold color={color(on, 'cyan')}>
        {truncate(`▾ ${member.key}`, width)}
      </Text>
      <Text>{` · ${lanes} · `}</Text>
      <Text bold={warn} color={color(on, stateColor)}>
        {memberStateText(member, now)}
      </Text>
      <Text dimColor={on}>{` · ${sanitize(member.title)}${member.remote ? ' (remote)' : ''}`}</Text>
    </Text>
  );
}

/** One row of the list: a group header (several engines) or a lane. */
type ListRow = { kind: 'member'; member: MemberStatus } | { kind: 'lane'; lane: LaneSnapshot; stale: boolean };

/**
 * The rows of the list: the lanes as they are, or, over several engines, each engine's header
 * followed by its lanes (the lanes come in the engines' key order already: MultiSupervisor).
 */
export function listRows(lanes: readonly LaneSnapshot[], members: readonly MemberStatus[] | undefined): ListRow[] {
  if (!members) return lanes.map((lane) => ({ kind: 'lane', lane, stale: false }));
  const rows: ListRow[] = [];
  for (const member of members) {
    rows.push({ kind: 'member', member });
    const prefix = `${member.key}/`;
    for (const lane of lanes)
      if (lane.name.startsWith(prefix)) rows.push({ kind: 'lane', lane, stale: member.state !== 'connected' });
  }
  return rows;
}

function LaneRow({
  lane,
  selected,
  width,
  now,
  on,
  grouped = false,
  stale = false,
}: {
  lane: LaneSnapshot;
  selected: boolean;
  width: number;
  now: number;
  on: boolean;
  /** under its engine's header: the name without the engine's `key/` */
  grouped?: boolean;
  /** its engine is not connected: the row is its last known state, dimmed */
  stale?: boolean;
}) {
  const c = laneColumns(width);
  const look = STATE_LOOK[lane.state];
  const name = grouped ? (splitLaneName(lane.name)?.lane ?? lane.name) : lane.name;
  const cells = [
    fit(name, c.name),
    fit(lane.profile, c.profile),
    fit(stateLabel(lane), c.state),
    fit(formatDuration(now - lane.stateSince), c.time),
    fit(formatRate(lane.outputRate), c.rate),
    fit(lane.gateSummary || '-', c.gates),
    ...(c.cost ? [fit(formatCost(lane.usage), c.cost)] : []),
  ].join(' ');
  const last = c.last > 1 ? ' ' + truncate(sanitize(lane.lastLine), c.last - 1) : '';
  return (
    <Text wrap="truncate" inverse={selected && on} bold={selected} dimColor={stale && on}>
      {/* › the selection; * a lane that waits on the operator (the header counts them) */}
      <Text>{selected ? '›' : ' '}</Text>
      <Text bold color={color(on, 'yellowBright')}>
        {needsOperator(lane.state) ? '*' : ' '}
      </Text>
      <Text color={color(on && !stale, look.color)}>{look.symbol} </Text>
      <Text>{cells}</Text>
      <Text dimColor={on}>{last}</Text>
    </Text>
  );
}

export function LaneList({ width, height }: { width: number; height: number }) {
  const { lanes, members, focused, on } = useApp((s) => ({
    lanes: s.lanes,
    members: s.members,
    focused: s.focused,
    on: s.color,
  }));
  const now = useClock(1000);
  const rows = listRows(lanes, members);
  const focus = rows.findIndex((r) => r.kind === 'lane' && r.lane.name === focused);
  // the focused lane's group header stays in sight when the window starts right below it
  const offset = listOffset(focus, rows.length, height);
  const start = offset > 0 && rows[offset - 1]?.kind === 'member' && focus - offset < height - 1 ? offset - 1 : offset;
  const shown = rows.slice(start, start + height);
  const shownLanes = shown.filter((r) => r.kind === 'lane').length;
  const before = rows.slice(0, start).filter((r) => r.kind === 'lane').length;
  const c = laneColumns(width);
  const count = members
    ? `Lanes ${lanes.length} · ${members.length} engine${members.length === 1 ? '' : 's'}`
    : `Lanes ${lanes.length}`;
  const title = `${count}${rows.length > height && shownLanes > 0 ? ` (${before + 1}-${before + shownLanes})` : ''}`;
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
      {rows.length === 0 ? (
        <Text dimColor={on} wrap="truncate">
          {truncate(members ? '  no engine runs' : '  no lanes yet — press n to start one', width)}
        </Text>
      ) : (
        shown.map((row) =>
          row.kind === 'member' ? (
            <MemberRow key={`engine:${row.member.key}`} member={row.member} width={width} now={now} on={on} />
          ) : (
            <LaneRow
              key={row.lane.name}
              lane={row.lane}
              selected={row.lane.name === focused}
              width={width}
              now={now}
              on={on}
              grouped={members !== undefined}
              stale={row.stale}
            />
          ),
        )
      )}
    </Box>
  );
}
