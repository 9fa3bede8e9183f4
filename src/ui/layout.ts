/**
 * The dashboard's vertical budget. The frame is at most rows-1 lines (a frame as tall as the
 * terminal makes Ink clear the whole screen each frame), and every pane gets a fixed height.
 */
export const HEADER_LINES = 2;
export const FOOTER_LINES = 2;
export const FLASH_LINES = 1;
/** the lane list and the focus pane each have a title line */
export const TITLE_LINES = 1;

/** Below this the dashboard cannot be drawn legibly: it says so instead (App). */
export const MIN_SIZE = { cols: 40, rows: 12 } as const;

/** The line shown instead of the dashboard on a terminal smaller than MIN_SIZE, or null when it fits. */
export function tooSmall(cols: number, rows: number): string | null {
  if (cols >= MIN_SIZE.cols && rows >= MIN_SIZE.rows) return null;
  return `terminal too small (need ${MIN_SIZE.cols}x${MIN_SIZE.rows}, have ${cols}x${rows})`;
}

export interface Layout {
  cols: number;
  /** lines the whole frame may use */
  frame: number;
  /** lane rows visible in the lane list */
  list: number;
  /** lines of the focus pane body (without its title) */
  pane: number;
  /** lines of a full-body overlay (help, diff, gate output), title included */
  body: number;
}

export function computeLayout(cols: number, rows: number, laneCount: number): Layout {
  const frame = Math.max(6, rows - 1);
  const fixed = HEADER_LINES + FOOTER_LINES + FLASH_LINES;
  const body = Math.max(2, frame - fixed);
  const inner = Math.max(2, body - 2 * TITLE_LINES);
  const wantList = Math.max(1, laneCount);
  const maxList = Math.max(1, Math.min(Math.floor(inner * 0.4), inner - 3));
  const list = Math.min(wantList, maxList);
  const pane = Math.max(1, inner - list);
  return { cols: Math.max(1, cols), frame, list, pane, body };
}
