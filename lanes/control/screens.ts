/**
 * Screen pushes (protocol 2 `watch`): the engine's view of each watched lane's screen, shared by
 * every client, and what each client was sent last. A client gets a full screen first, then only
 * the rows that changed since the last push it got: when its socket is congested it is skipped,
 * and the next push after it drains is the difference to the screen as it is now (the latest
 * screen, never a backlog).
 */
import type { StyledRow } from '../lane/types.js';
import type { ScreenCursor, ScreenDiffPush, ScreenFullPush } from './protocol.js';

/** One lane's screen as the engine last read it. */
export interface LaneScreen {
  /** the styled rows array as the supervisor returned it (a new array means a new snapshot) */
  styled: StyledRow[];
  /** each row serialised, for comparing rows */
  keys: string[];
  cursor: ScreenCursor;
  cols: number;
  rows: number;
  /** bumped on every change */
  version: number;
}

/** What one client was sent last of one lane. */
export interface SentScreen {
  version: number;
  keys: string[];
  cursorKey: string;
  sizeKey: string;
}

const cursorKey = (c: ScreenCursor) => `${c.x},${c.y},${c.visible ? 1 : 0}`;

/**
 * Reads a lane's screen into `prev` (or a new LaneScreen): a changed snapshot, cursor or size
 * bumps the version. Only a new styled array is serialised again.
 */
export function readScreen(
  prev: LaneScreen | undefined,
  styled: StyledRow[],
  cursor: ScreenCursor,
  size: { cols: number; rows: number },
): LaneScreen {
  if (!prev) {
    return { styled, keys: styled.map((r) => JSON.stringify(r)), cursor, ...size, version: 1 };
  }
  let changed = false;
  if (styled !== prev.styled) {
    prev.styled = styled;
    prev.keys = styled.map((r) => JSON.stringify(r));
    changed = true;
  }
  if (cursorKey(cursor) !== cursorKey(prev.cursor)) {
    prev.cursor = cursor;
    changed = true;
  }
  if (size.cols !== prev.cols || size.rows !== prev.rows) {
    prev.cols = size.cols;
    prev.rows = size.rows;
    changed = true;
  }
  if (changed) prev.version++;
  return prev;
}

/**
 * The push that brings a client from `sent` to `screen`: the full screen when it has none or the
 * size changed, else the changed rows (push null: a new snapshot that looks the same). Null when
 * the client has this version already. Returns the new `sent` with it.
 */
export function screenPush(
  lane: string,
  screen: LaneScreen,
  sent: SentScreen | undefined,
): { push: ScreenFullPush | ScreenDiffPush | null; sent: SentScreen } | null {
  if (sent && sent.version === screen.version) return null;
  const now: SentScreen = {
    version: screen.version,
    keys: screen.keys,
    cursorKey: cursorKey(screen.cursor),
    sizeKey: `${screen.cols}x${screen.rows}`,
  };
  const size = { cols: screen.cols, rows: screen.rows };
  if (!sent || sent.sizeKey !== now.sizeKey) {
    return { push: { push: 'screen', lane, full: true, rows: screen.styled, cursor: screen.cursor, size }, sent: now };
  }
  const changed: [number, StyledRow][] = [];
  for (let i = 0; i < screen.keys.length; i++) {
    if (screen.keys[i] !== sent.keys[i]) changed.push([i, screen.styled[i]]);
  }
  if (changed.length === 0 && sent.keys.length === screen.keys.length && sent.cursorKey === now.cursorKey) {
    return { push: null, sent: now }; // a new snapshot that looks the same
  }
  return {
    push: { push: 'screen', lane, full: false, changed, length: screen.keys.length, cursor: screen.cursor, size },
    sent: now,
  };
}
