/** Escape sequences the dashboard and attach mode write to the operator's terminal. */
const CSI = '\x1b[';

export const ENTER_ALT_SCREEN = `${CSI}?1049h${CSI}H${CSI}2J`;
export const LEAVE_ALT_SCREEN = `${CSI}?1049l`;
export const CLEAR_SCREEN = `${CSI}r${CSI}0m${CSI}H${CSI}2J`;
export const SHOW_CURSOR = `${CSI}?25h`;
export const HIDE_CURSOR = `${CSI}?25l`;

/** Move the cursor to a 1-based row and column. */
export const cursorTo = (row: number, col: number): string => `${CSI}${row};${col}H`;
/** DECSTBM: scroll only rows top..bottom (1-based, inclusive). */
export const scrollRegion = (top: number, bottom: number): string => `${CSI}${top};${bottom}r`;
export const RESET_SCROLL_REGION = `${CSI}r`;
export const SAVE_CURSOR = '\x1b7';
export const RESTORE_CURSOR = '\x1b8';
/** XTWINOPS: save the window and icon title on the terminal's title stack, and restore it. */
export const PUSH_TITLE = `${CSI}22;0t`;
export const POP_TITLE = `${CSI}23;0t`;

/**
 * OSC 52 clipboard reads (`OSC 52 ; <sel> ; ? ST`): an attached agent may set the operator's
 * clipboard, never read it; these are dropped from the output on the way to the terminal.
 */
export const OSC52_QUERY = /\x1b\]52;[^;\x07\x1b]*;\?(?:\x07|\x1b\\)/g;

/**
 * Everything an agent may have switched on in the operator's terminal while attached, switched
 * back off, except the alternate screen: bracketed paste, every mouse mode, focus events, kitty keyboard
 * flags, modifyOtherKeys, application cursor keys and keypad, origin mode, insert mode,
 * synchronized output, cursor style and visibility, scroll region, character set and SGR.
 */
export const RESET_TERMINAL_MODES = [
  `${CSI}?2004l`, // bracketed paste
  `${CSI}?1000l${CSI}?1001l${CSI}?1002l${CSI}?1003l${CSI}?1005l${CSI}?1006l${CSI}?1015l${CSI}?1016l`, // mouse
  `${CSI}?1004l`, // focus events
  `${CSI}<99u`, // kitty keyboard: pop every pushed flag set (popping an empty stack resets)
  `${CSI}=0;1u`, // kitty keyboard: and set the flags to 0
  `${CSI}>4;0m`, // xterm modifyOtherKeys off
  `${CSI}?1l`, // cursor keys: normal mode
  '\x1b>', // keypad: numeric mode
  `${CSI}?6l`, // origin mode off
  `${CSI}?7h`, // autowrap on
  `${CSI}4l`, // insert mode off
  `${CSI}?2026l`, // synchronized output off
  `${CSI}0 q`, // cursor style: terminal default
  `${CSI}?25h`, // cursor visible
  `${CSI}r`, // scroll region: whole screen
  '\x1b(B', // ASCII character set
  `${CSI}0m`, // SGR reset
].join('');

/**
 * RESET_TERMINAL_MODES after leaving every alternate screen an agent may have entered (the
 * dashboard re-enters its own): what a detach writes.
 */
export const RESTORE_TERMINAL_MODES = `${CSI}?1049l${CSI}?1047l${CSI}?47l${RESET_TERMINAL_MODES}`;
