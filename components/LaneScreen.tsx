/**
 * The focused lane's live screen, drawn from the headless terminal's styled runs (never from
 * raw agent bytes), cut to the pane's size.
 */
import { Box, Text } from 'ink';
import type { Scrollback, StyledRow } from '../src/state/types.js';
import { runColor } from '../src/ui/theme.js';
import { charWidth, sanitize, truncate } from '../src/ui/text.js';
import { memo, useEffect } from 'react';
import { focusedLane, scrollbackRows, shownScreen, shownScrollback } from '../src/state/selectors.js';
import { useActions, useApp } from './StoreContext.js';

/** The rows to show: the `height` rows ending at the cursor or the last non-blank row. */
export function visibleRows(screen: readonly StyledRow[], height: number, cursorY: number | null): StyledRow[] {
  let last = -1;
  for (let i = screen.length - 1; i >= 0; i--) {
    if (screen[i].some((r) => r.text.trim() !== '')) {
      last = i;
      break;
    }
  }
  if (cursorY !== null && cursorY < screen.length) last = Math.max(last, cursorY);
  const end = Math.max(last + 1, Math.min(height, screen.length));
  return screen.slice(Math.max(0, end - height), end);
}

/** The last cut of each row (rows are immutable; an unchanged row keeps its object between screens). */
const cuts = new WeakMap<StyledRow, { width: number; cut: StyledRow }>();

/** Cuts a row's runs to `width` cells. */
export function cutRow(row: StyledRow, width: number): StyledRow {
  const last = cuts.get(row);
  if (last?.width === width) return last.cut;
  const cut = cutRowRuns(row, width);
  cuts.set(row, { width, cut });
  return cut;
}

function cutRowRuns(row: StyledRow, width: number): StyledRow {
  const out: StyledRow = [];
  let w = 0;
  for (const run of row) {
    if (w >= width) break;
    let text = '';
    for (const ch of sanitize(run.text)) {
      const cw = charWidth(ch.codePointAt(0) ?? 0);
      if (w + cw > width) break;
      text += ch;
      w += cw;
    }
    if (text) out.push({ ...run, text });
  }
  return out;
}

/** Styled screen rows cut to a box: the live lane screen and the replay player both draw with it. */
export function ScreenRows(props: {
  screen: StyledRow[];
  cursorY: number | null;
  width: number;
  height: number;
  on: boolean;
  /** the rows as given, from the top (a page of scrollback), not the ones ending at the cursor */
  fixed?: boolean;
}) {
  const rows = props.fixed
    ? props.screen.slice(0, props.height)
    : visibleRows(props.screen, props.height, props.cursorY);
  return (
    <Box flexDirection="column" height={props.height} width={props.width} overflow="hidden">
      {rows.map((row, i) => (
        <ScreenRow key={i} row={row} width={props.width} on={props.on} />
      ))}
    </Box>
  );
}

/**
 * One screen row. Memoised: a row the engine did not change keeps its object, so a spinner's
 * frame re-renders the two rows it touched, not the whole screen.
 */
const ScreenRow = memo(function ScreenRow(props: { row: StyledRow; width: number; on: boolean }) {
  const cut = cutRow(props.row, props.width);
  // An empty <Text> takes no line in Ink: a blank row is drawn as one space, so the
  // screen keeps its rows where the agent put them (full-screen TUIs stay in place).
  if (cut.length === 0) return <Text> </Text>;
  return (
    <Text wrap="truncate">
      {cut.map((run, j) =>
        props.on ? (
          <Text
            key={j}
            color={runColor(run.fg)}
            backgroundColor={runColor(run.bg)}
            bold={run.bold}
            dimColor={run.dim}
            italic={run.italic}
            underline={run.underline}
            inverse={run.inverse}
          >
            {run.text}
          </Text>
        ) : (
          <Text key={j} bold={run.bold} inverse={run.inverse} underline={run.underline}>
            {run.text}
          </Text>
        ),
      )}
    </Text>
  );
});

/** Page up: the lane's scrollback (text read back from its recording) with a status line over it. */
function ScrollbackRows(props: { sb: Scrollback; width: number; height: number; on: boolean }) {
  const { sb, width, height, on } = props;
  const view = scrollbackRows(height);
  const end = sb.rows.length - sb.offset;
  const rows = sb.rows.slice(Math.max(0, end - view), end);
  const status = sb.loading
    ? 'reading the scrollback from the recording…'
    : `scrollback: ${sb.offset} line${sb.offset === 1 ? '' : 's'} up of ${sb.rows.length} (as of ${new Date(sb.at).toLocaleTimeString()}) · pageup/pagedown · esc live`;
  return (
    <Box flexDirection="column" height={height} width={width} overflow="hidden">
      <Text inverse={on} bold={!on} wrap="truncate">
        {truncate(status, width)}
      </Text>
      <ScreenRows
        screen={rows.map((text) => (text ? [{ text }] : []))}
        cursorY={null}
        width={width}
        height={view}
        on={on}
        fixed
      />
    </Box>
  );
}

export function LaneScreen({ width, height }: { width: number; height: number }) {
  const actions = useActions();
  const scrollback = useApp((s) => shownScrollback(s));
  // flat fields: the selector's result is compared shallowly
  const shown = useApp((s) => shownScreen(s));
  const { lane, cursorY, on } = useApp((s) => ({
    lane: focusedLane(s),
    cursorY: s.cursor?.y ?? null,
    on: s.color,
  }));
  // a lane with no live screen (its agent gone, e.g. an earlier session's): its recording's last screen
  useEffect(() => {
    if (shown.wanted && lane) void actions.loadRecordedScreen(lane);
  }, [actions, shown.wanted, lane]);
  if (scrollback) return <ScrollbackRows sb={scrollback} width={width} height={height} on={on} />;
  return (
    <ScreenRows
      screen={shown.screen}
      cursorY={shown.fromRecording ? null : cursorY}
      width={width}
      height={height}
      on={on}
    />
  );
}
