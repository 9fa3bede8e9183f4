/**
 * Fast-forward: which of a flooding lane's bytes its emulator may leave unparsed, because the
 * screen comes out the same without them (issue "Cheaper per lane than tmux": a flooding lane
 * should not cost a core, nor be slowed to the parser's pace, whether anyone looks at it or not).
 *
 * The emulator worker holds a lane's output while xterm.js is busy; the held bytes (after the
 * output clamp) are one region. When the region is released, it may be cut: the part before the
 * cut (P) is dropped and the emulator is given a short prefix and the rest (T). The screen, the
 * scrollback, the cursor and the pen then end exactly as if P had been parsed, when:
 *
 * - P is *plain*: printable text, CR, LF, TAB, BS, BEL, SGR and the CSIs that only move the
 *   cursor or erase or shift cells (CUU…CUP, ED, EL, IL, DL, ICH, DCH, ECH, SU, SD, VPA, HPA).
 *   Those change nothing but cells, the cursor and the pen: no mode, no scroll region, no tab
 *   stop, no charset, no title, no saved cursor, and no query (nothing the agent waits for).
 * - the cut follows a CR outside any sequence: the cursor is in column 0 there in both runs
 *   (the prefix holds a CR), and the pen is the SGRs of P since its last reset (the prefix holds
 *   them, at most SGR_KEEP);
 * - after the cut come at least 2 × rows + scrollback line feeds of *line-local* output
 *   (printable, CR, LF, TAB, BEL, SGR, EL) before anything else: the first rows of them take
 *   the cursor to the bottom row in both runs, and the next rows + scrollback scroll every line
 *   the buffer holds out, so each line left was born blank in T and written by T alone;
 * - T prints something (REP repeats the last printed character);
 * - the region starts with the emulator's parser in its ground state (the caller asks the clamp:
 *   `atGround` in laneTerminal.ts), and the emulator's own state before it (modes, buffer) is the
 *   same in both runs; the caller cuts only under a full-height scroll region (`fullScrollRegion`).
 *
 * The clamp's output makes this cheap to check: every CSI in it is whole, with no control inside
 * (the clamp hoists them), and a C1 control is the UTF-8 pair C2 80..9F. So the region is read
 * with Buffer searches (memchr) for ESC, C2, SO, SI, BS, VT and FF, and JavaScript looks only at
 * the sequences and the last lines: about 2 GiB/s here against xterm.js's 30 MiB/s (a byte loop
 * in JavaScript ran at 250 MiB/s). Other C0 controls do nothing in xterm.js's ground state.
 */

/** CSI finals (no private marker, no intermediate) that change only cells, the cursor and the pen */
const PLAIN_CSI = new Uint8Array(128);
for (const f of 'ABCDEFGHJLMPSTXd`f@') PLAIN_CSI[f.charCodeAt(0)] = 1;
const SGR = 0x6d; // m
const EL = 0x4b; // K
const ESC = 0x1b;
const LF = 0x0a;
const CR = 0x0d;

/** at most this many SGRs since the last reset are carried in a prefix (more: no cut there) */
export const SGR_KEEP = 16;

export interface Cut {
  /** bytes of the region before the cut (dropped) */
  at: number;
  /** what the emulator is given before the rest: CAN, CR and the pen's SGRs */
  prefix: Uint8Array;
}

/** Line feeds of line-local output a cut needs after it, for a screen of `rows` and `scrollback`. */
export function linesNeeded(rows: number, scrollback: number): number {
  return 2 * rows + scrollback + 1;
}

/** The index of a CSI's final byte (its introducer ESC [ at `at`), or -1 when it has other than digits, ';' and ':' before one. */
function csiFinal(region: Buffer, at: number): number {
  const n = region.length;
  if (at + 1 >= n || region[at + 1] !== 0x5b) return -1;
  let j = at + 2;
  while (j < n && region[j] >= 0x30 && region[j] <= 0x3b) j++;
  return j < n && region[j] >= 0x40 && region[j] <= 0x7e ? j : -1;
}

/**
 * The latest cut of `region` at or after `minAt` bytes, or null when it holds none (see above).
 * `region` is clamped output that begins with the emulator's parser in its ground state; a cut
 * needs `need` line feeds after it (linesNeeded).
 */
export function findCut(region: Buffer, need: number, minAt: number): Cut | null {
  // too few lines at all (a full-screen program redrawing in place): say so before reading sequences
  let q = region.length;
  for (let m = 0; m < need && q > 0; m++) q = region.lastIndexOf(LF, q - 1);
  if (q < 0) return null;
  // P ends at the first byte that is not plain; T's runs of line-local output end at `breaks`
  let pEnd = region.length;
  for (const b of [0x0e, 0x0f]) {
    const i = region.indexOf(b);
    if (i >= 0 && i < pEnd) pEnd = i;
  }
  for (let i = region.indexOf(0xc2); i >= 0 && i < pEnd; i = region.indexOf(0xc2, i + 1)) {
    if (region[i + 1] >= 0x80 && region[i + 1] <= 0x9f) pEnd = i;
  }
  const breaks: number[] = [];
  for (let i = region.indexOf(ESC); i >= 0 && i < pEnd;) {
    const f = csiFinal(region, i);
    const final = f < 0 ? 0 : region[f];
    if (final !== SGR && final !== EL) {
      if (final === 0 || !PLAIN_CSI[final]) {
        pEnd = i;
        break;
      }
      breaks.push(i);
    }
    i = region.indexOf(ESC, f + 1);
  }
  for (const b of [0x08, 0x0b, 0x0c])
    for (let i = region.indexOf(b); i >= 0 && i < pEnd; i = region.indexOf(b, i + 1)) breaks.push(i);
  breaks.sort((a, b) => a - b);

  // the runs from the last: the latest CR with `need` line feeds after it before the run ends
  for (let k = breaks.length; k >= 0; k--) {
    const start = k === 0 ? 0 : breaks[k - 1] + 1;
    const end = k === breaks.length ? pEnd : breaks[k];
    q = end;
    for (let m = 0; m < need && q > start; m++) q = region.lastIndexOf(LF, q - 1);
    if (q <= start) continue;
    const cr = region.lastIndexOf(CR, q - 1);
    if (cr < start) continue;
    const at = cr + 1;
    if (at < minAt) return null;
    const pen = penAt(region, cr);
    if (pen === null || !printsBetween(region, at, pEnd)) return null;
    return { at, prefix: Buffer.from(`\x18\r${pen}`, 'latin1') };
  }
  return null;
}

/**
 * The SGRs in force at `end` since the last reset before it, as written ('' when none since the
 * region began); null when more than SGR_KEEP. Every ESC before P's end starts a plain CSI.
 */
function penAt(region: Buffer, end: number): string | null {
  const pen: string[] = [];
  for (
    let e = end > 0 ? region.lastIndexOf(ESC, end - 1) : -1;
    e >= 0;
    e = e > 0 ? region.lastIndexOf(ESC, e - 1) : -1
  ) {
    const f = csiFinal(region, e);
    if (region[f] !== SGR) continue;
    const params = region.toString('latin1', e + 2, f);
    pen.push(region.toString('latin1', e, f + 1));
    if (pen.length > SGR_KEEP) return null;
    if (/^0*(;|$)/.test(params) && !params.includes(':')) break;
  }
  return pen.reverse().join('');
}

/** Whether something is printed in [from, to) (plain output: text, controls, plain CSIs). */
function printsBetween(region: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const b = region[i];
    if (b === ESC) {
      const f = csiFinal(region, i);
      if (f < 0) return false;
      i = f;
    } else if (b >= 0x20 && b !== 0x7f) return true;
  }
  return false;
}
