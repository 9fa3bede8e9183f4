/**
 * Fast-forward: which of a flooding lane's bytes its emulator may leave unparsed, because the
 * screen comes out the same without them (issue "Cheaper per lane than tmux": a lane nobody looks
 * at should not cost a core while it floods).
 *
 * The emulator worker holds a lane's output while xterm.js is busy; the held bytes (after the
 * output clamp) are one region, scanned here as they arrive. When the region is released, it
 * may be cut: the part before the cut (P) is dropped and the emulator is given a short prefix
 * and the rest (T). The screen, the scrollback, the cursor and the pen then end exactly as if
 * P had been parsed, when:
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
 * - the region starts outside any sequence (the emulator's parser is in its ground state).
 *
 * The emulator's own state before the region (modes, scroll region, buffer) is the same in both
 * runs; the caller cuts only when it is plain too (full-height scroll region: `fullScrollRegion`
 * in laneTerminal.ts).
 *
 * The scan is a byte loop with a small state machine after xterm.js's parser (VT500: ESC and CAN
 * or SUB end any sequence from anywhere; a C1 control is the UTF-8 pair C2 80..9F), about 20
 * times faster than xterm.js's parse of the same bytes; where it cannot tell what xterm.js would
 * do, it treats the bytes as not plain.
 */

/** states of the scanner, after xterm.js's EscapeSequenceParser */
const GROUND = 0;
const ESC = 1;
/** ESC followed by intermediates */
const ESC_INTER = 2;
const CSI = 3;
/** OSC: ends on BEL, ST, CAN, SUB or ESC */
const OSC = 4;
/** DCS, SOS, PM, APC, and anything the scanner could not follow: ends on ST, CAN, SUB or ESC */
const STRING = 5;

/**
 * What output that is not line-local is, for the rules above. PLAIN: P may hold it, but not the
 * line feeds a cut needs after it (it moves the cursor off its line, or shifts lines).
 */
const PLAIN = 1;
/** anything else: neither P nor T may hold it */
const OTHER = 2;

/** CSI finals (no private marker, no intermediate) that change only cells, the cursor and the pen */
const PLAIN_CSI = new Uint8Array(128);
for (const f of 'ABCDEFGHJLMPSTXd`f@') PLAIN_CSI[f.charCodeAt(0)] = 1;
const SGR_FINAL = 0x6d; // m
const EL_FINAL = 0x4b; // K

/** at most this many SGRs since the last reset are carried in a prefix (more: no cut there) */
export const SGR_KEEP = 16;
/** parameter bytes of an SGR kept (a longer one: no cut after it until the next reset) */
const SGR_PARAMS_MAX = 64;

const CAN = 0x18;
const CR = 0x0d;
/** the pen after a plain reset (ESC [ m, ESC [ 0 m) */
const RESET_PEN: readonly string[] = ['\x1b[0m'];
const NO_PEN: readonly string[] = [];

/** The end of the run of text from `i`: the first control, DEL or C2 (a C1's first byte) at or after it. */
function textEnd(bytes: Uint8Array, i: number, n: number): number {
  for (; i < n; i++) {
    const c = bytes[i];
    if (c < 0x20 || c === 0x7f || c === 0xc2) return i;
  }
  return n;
}

export interface Cut {
  /** bytes of the region before the cut (dropped) */
  at: number;
  /** what the emulator is given before the rest: CAN, CR and the pen's SGRs */
  prefix: Uint8Array;
}

/**
 * Positions and line feed counts are counted from the first byte ever scanned, so the cut
 * candidates of an earlier region can never pass for this one's.
 */
export class FastForward {
  // the parser, across regions
  private state = GROUND;
  private prevC2 = false;
  // the CSI being read
  private csiPrivate = false;
  private csiInter = false;
  private csiBad = false;
  /** its introducer's index in the chunk being scanned (-1: it began in an earlier chunk) */
  private csiStart = -1;
  private paramBytes = 0;
  /** its first parameter: 0 empty so far, 1 zeros only, 2 something else */
  private p0 = 0;
  private p0Done = false;
  private colon = false;
  /** bytes and line feeds scanned, ever */
  private pos = 0;
  private lf = 0;
  /** where the region began */
  private origin = 0;
  /** offset after the last printable byte */
  private lastPrint = 0;
  /** P can still grow: nothing but plain bytes since the region began */
  private plain = true;
  /** the SGRs since the last reset, as written (null: more than SGR_KEEP, or not read whole) */
  private pen: readonly string[] | null = NO_PEN;
  /**
   * Cut candidates, one per line feed count: the last CR seen after that many line feeds, where
   * it ends, and the pen there. A ring: the latest valid candidate is at most `need` line feeds
   * back from the newest, so twice that many slots are kept.
   */
  private ringAt: Float64Array;
  private ringLf: Float64Array;
  private ringPen: (readonly string[] | null)[];
  /** the open run of line-local output began here: a candidate before it is stale */
  private runStart = 0;
  /** the latest valid cut before the open run (-1: none) and its pen */
  private bestAt = -1;
  private bestPen: readonly string[] | null = null;
  /** line feeds of line-local output a cut needs after it */
  private need: number;

  constructor(rows: number, scrollback: number) {
    this.need = FastForward.linesNeeded(rows, scrollback);
    this.ringAt = new Float64Array(2 * this.need);
    this.ringLf = new Float64Array(2 * this.need).fill(-1);
    this.ringPen = new Array<readonly string[] | null>(2 * this.need).fill(null);
  }

  static linesNeeded(rows: number, scrollback: number): number {
    return 2 * rows + scrollback + 1;
  }

  /** bytes scanned in this region */
  get scanned(): number {
    return this.pos - this.origin;
  }

  /**
   * Ends the region (what was scanned goes to the emulator) and starts the next at the current
   * parser state, for a screen of `rows` and `scrollback`.
   */
  nextRegion(rows: number, scrollback: number): void {
    const need = FastForward.linesNeeded(rows, scrollback);
    if (need !== this.need) {
      this.need = need;
      this.ringAt = new Float64Array(2 * need);
      this.ringLf = new Float64Array(2 * need).fill(-1);
      this.ringPen = new Array<readonly string[] | null>(2 * need).fill(null);
    }
    this.origin = this.pos;
    this.runStart = this.pos;
    this.lastPrint = 0;
    this.plain = this.state === GROUND;
    this.bestAt = -1;
    this.bestPen = null;
    this.pen = NO_PEN;
  }

  /**
   * The latest cut at or after `minAt` bytes of the region, or null when it holds none. Call it
   * before nextRegion, with the whole region scanned.
   */
  cut(minAt: number): Cut | null {
    const slot = this.latestValid();
    const at = slot >= 0 ? this.ringAt[slot] : this.bestAt;
    const pen = slot >= 0 ? this.ringPen[slot] : this.bestPen;
    if (at < 0 || pen === null || at - this.origin < minAt || this.lastPrint <= at) return null;
    return { at: at - this.origin, prefix: Buffer.from(`\x18\r${pen.join('')}`, 'latin1') };
  }

  /** Scans the next bytes of the region (the clamp's output, in order). */
  push(bytes: Uint8Array): void {
    const n = bytes.length;
    const base = this.pos;
    this.csiStart = -1;
    for (let i = 0; i < n; i++) {
      const b = bytes[i];
      if (this.prevC2) {
        this.prevC2 = false;
        if (b >= 0x80 && b <= 0x9f) {
          this.c1(b, base + i);
          continue;
        }
      }
      switch (this.state) {
        case GROUND:
          if (b >= 0x20 && b !== 0x7f && b !== 0xc2) {
            const j = textEnd(bytes, i + 1, n);
            this.lastPrint = base + j;
            i = j - 1;
          } else if (b === 0x0a || b === 0x0b || b === 0x0c) this.lf++;
          else if (b === CR) this.candidate(base + i + 1);
          else if (b === 0x1b) this.state = ESC;
          else if (b === 0xc2) {
            this.prevC2 = true;
            this.lastPrint = base + i + 1;
          } else if (b === 0x08) this.breaks(PLAIN, base + i);
          else if (b !== 0x07 && b !== 0x09 && b !== 0x7f) this.breaks(OTHER, base + i);
          continue;
        case ESC:
          if (this.anywhere(b, base + i)) continue;
          if (b === 0x5b) {
            this.state = CSI;
            this.csiStart = i - 1;
            this.csiPrivate = false;
            this.csiInter = false;
            this.csiBad = false;
            this.paramBytes = 0;
            this.p0 = 0;
            this.p0Done = false;
            this.colon = false;
            continue;
          }
          this.breaks(OTHER, base + i);
          if (b === 0x5d) this.state = OSC;
          else if (b === 0x50 || b === 0x58 || b === 0x5e || b === 0x5f) this.state = STRING;
          else if (b >= 0x20 && b <= 0x2f) this.state = ESC_INTER;
          else if (b >= 0x30 && b <= 0x7e) this.state = GROUND;
          continue;
        case ESC_INTER:
          if (this.anywhere(b, base + i)) continue;
          if (b >= 0x30 && b <= 0x7e) this.state = GROUND;
          continue;
        case CSI:
          if (this.anywhere(b, base + i)) continue;
          if (b >= 0x40 && b <= 0x7e) {
            this.state = GROUND;
            this.csiEnd(b, bytes, i, base + i);
          } else if (b >= 0x30 && b <= 0x3f) {
            if (b >= 0x3c) {
              if (this.paramBytes === 0 && !this.csiInter) this.csiPrivate = true;
              else this.csiBad = true;
            } else if (this.csiInter) this.csiBad = true;
            else if (b === 0x3b) this.p0Done = true;
            else if (b === 0x3a) this.colon = true;
            else if (!this.p0Done) this.p0 = b === 0x30 ? Math.max(this.p0, 1) : 2;
            if (++this.paramBytes > SGR_PARAMS_MAX) this.csiBad = true;
          } else if (b >= 0x20 && b <= 0x2f) this.csiInter = true;
          else if (b !== 0x7f) this.breaks(OTHER, base + i); // a C0 control inside: executed
          continue;
        case OSC:
          if (b === 0x07) this.state = GROUND;
          else if (b === 0xc2) this.prevC2 = true;
          else this.anywhere(b, base + i);
          continue;
        default: // STRING
          if (b === 0xc2) this.prevC2 = true;
          else this.anywhere(b, base + i);
          continue;
      }
    }
    this.pos = base + n;
  }

  /**
   * ESC, CAN and SUB act in every state; true when `b` was one of them (or a byte ≥ 0x80 inside
   * ESC or CSI, which the clamp turns into CAN: the scan then waits for the next ESC, CAN or SUB).
   */
  private anywhere(b: number, at: number): boolean {
    if (b === 0x1b) {
      if (this.state !== ESC) this.breaks(OTHER, at);
      this.state = ESC;
      return true;
    }
    if (b === CAN || b === 0x1a) {
      this.breaks(OTHER, at);
      this.state = GROUND;
      return true;
    }
    if (b >= 0x80 && (this.state === ESC || this.state === ESC_INTER || this.state === CSI)) {
      this.breaks(OTHER, at);
      this.state = STRING;
      this.prevC2 = b === 0xc2;
      return true;
    }
    return false;
  }

  /** A C1 control (UTF-8 C2 80..9F): not plain; the state it leads to as in xterm.js. */
  private c1(b: number, at: number): void {
    this.breaks(OTHER, at);
    if (b === 0x9b) {
      this.state = CSI;
      this.csiStart = -1;
      this.csiPrivate = false;
      this.csiInter = false;
      this.csiBad = true; // never counted plain
      this.paramBytes = 0;
    } else if (b === 0x9d) this.state = OSC;
    else if (b === 0x90 || b === 0x98 || b === 0x9e || b === 0x9f) this.state = STRING;
    else this.state = GROUND;
  }

  /** A CSI ended with `final` at `bytes[i]`. */
  private csiEnd(final: number, bytes: Uint8Array, i: number, at: number): void {
    if (this.csiPrivate || this.csiInter || this.csiBad) {
      this.breaks(OTHER, at);
      return;
    }
    if (final === SGR_FINAL) {
      if (!this.plain) return;
      const reset = this.p0 < 2 && !this.colon;
      if (reset && this.paramBytes <= 1) this.pen = RESET_PEN;
      else if (this.csiStart < 0)
        this.pen = null; // split across chunks: not carried
      else {
        const seq = Buffer.from(bytes.buffer, bytes.byteOffset + this.csiStart, i + 1 - this.csiStart).toString(
          'latin1',
        );
        if (reset) this.pen = [seq];
        else if (this.pen !== null && this.pen.length < SGR_KEEP) this.pen = [...this.pen, seq];
        else this.pen = null;
      }
      return;
    }
    if (final === EL_FINAL) return;
    this.breaks(PLAIN_CSI[final] ? PLAIN : OTHER, at);
  }

  /** A CR outside any sequence: the region may be cut right after it (`at`). */
  private candidate(at: number): void {
    if (!this.plain) return;
    const slot = this.lf % this.ringAt.length;
    this.ringAt[slot] = at;
    this.ringLf[slot] = this.lf;
    this.ringPen[slot] = this.pen;
  }

  /**
   * Output that is not line-local (at `at`) ends the open run of candidates (its latest valid
   * one is kept); OTHER output also ends P: no cut after it in this region.
   */
  private breaks(kind: typeof PLAIN | typeof OTHER, at: number): void {
    if (!this.plain) return;
    const slot = this.latestValid();
    if (slot >= 0) {
      this.bestAt = this.ringAt[slot];
      this.bestPen = this.ringPen[slot];
    }
    this.runStart = at + 1;
    if (kind === OTHER) this.plain = false;
  }

  /** The ring slot of the open run's latest candidate with enough line feeds after it and a pen to carry (-1: none). */
  private latestValid(): number {
    const size = this.ringAt.length;
    const newest = this.lf - this.need;
    for (let k = newest; k >= 0 && k > this.lf - size; k--) {
      const slot = k % size;
      if (this.ringLf[slot] !== k) continue; // no CR after that many line feeds
      if (this.ringAt[slot] < this.runStart) return -1; // before the open run
      if (this.ringPen[slot] !== null) return slot;
    }
    return -1;
  }
}
