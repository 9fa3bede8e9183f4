/**
 * The output clamp: an agent's bytes made safe for the emulator, as tmux's input parser
 * (input.c) makes them safe for its panes. The recording keeps the exact bytes; only what
 * xterm.js parses goes through here (lanes/terminal/laneTerminal.ts, src/replay/export.ts).
 *
 * - Repeat counts are bounded by the screen. xterm.js runs some CSI handlers once per count
 *   (IL, DL, SU, SD, CHT, CBT loop; REP allocates count × cells), so `ESC[9999999999S` burns a
 *   core for hours and a huge `ESC[…b` throws and stops the write queue. A count above the
 *   screen does nothing more than the screen's size (tmux clamps the same way), so it is
 *   rewritten to it: rows for L M S T, columns for @ P X I Z, SP @, SP A, '} and '~, and for
 *   REP (b) the columns after the character it repeats (tmux: the rest of the line).
 * - A control sequence longer than CSI_LIMIT bytes is dropped (tmux drops past 64 bytes).
 * - A string (OSC, DCS, SOS, PM, APC) is cut after `stringLimit` bytes of payload (tmux: 1 MiB):
 *   the emulator gets CAN (which aborts the string) and the rest is dropped up to the terminator.
 *
 * It is a streaming state machine over chunks: a sequence may be split at any byte. It follows
 * xterm.js's own parser (EscapeSequenceParser's VT500 table, and its UTF-8 decoder, where a C1
 * control is the pair C2 80..9F) closely enough that every CSI xterm.js would dispatch passes
 * here first. Where the two could disagree (a byte ≥ 0x80 inside ESC or CSI, which xterm.js may
 * skip as invalid UTF-8 and go on), the held sequence is dropped and CAN sent, which puts the
 * emulator's parser in its ground state for sure. Normal output passes unchanged, without a copy.
 *
 * One state machine, kept whole in one file (longer than most, much of it comments): its states
 * share the bookkeeping of the held sequence and of the pass-through range.
 */

/** bytes of one escape or control sequence, introducer to final byte */
export const CSI_LIMIT = 256;
/** bytes of one string's payload (OSC, DCS, SOS, PM, APC) */
export const STRING_LIMIT = 1024 * 1024;

const GROUND = 0;
/** after ESC (held: it may start a CSI) */
const ESC = 1;
/** inside CSI (held until the final byte) */
const CSI = 2;
/** inside a CSI that was too long: dropped up to its final byte */
const CSI_DROP = 3;
/** inside OSC, DCS, SOS, PM or APC: passed and counted */
const STR = 4;
/** inside a string past the limit: dropped up to the terminator */
const DISCARD = 5;

/** CSI phases, as xterm.js's CSI_ENTRY, CSI_PARAM, CSI_INTERMEDIATE and CSI_IGNORE */
const ENTRY = 0;
const PARAM = 1;
const INTER = 2;
const IGNORE = 3;

const CAN = Uint8Array.of(0x18);
const C2 = Uint8Array.of(0xc2);
const MAX_VALUE = 0x7fffffff;

/**
 * What bounds the first parameter of a CSI, by (intermediate << 8 | final): 1 the columns, 2 the
 * rows, 3 the columns after the repeated character (REP follows a printed character).
 */
const BOUNDS = new Map<number, 1 | 2 | 3>();
for (const f of 'LMST') BOUNDS.set(f.charCodeAt(0), 2);
for (const f of '@PXIZ') BOUNDS.set(f.charCodeAt(0), 1);
BOUNDS.set(0x62, 3);
for (const [i, f] of [' @', ' A', "'}", "'~"]) BOUNDS.set((i.charCodeAt(0) << 8) | f.charCodeAt(0), 1);

/** the same for a final byte with no intermediate */
const FINAL_BOUND = new Uint8Array(128);
for (const [key, kind] of BOUNDS) if (key < 128) FINAL_BOUND[key] = kind;

/** C0 controls xterm.js executes inside ESC and CSI sequences (all but CAN, SUB and ESC) */
const isExecuted = (b: number): boolean => b < 0x20 && b !== 0x18 && b !== 0x1a && b !== 0x1b;

export interface ClampOptions {
  cols: number;
  rows: number;
  /** bytes of string payload kept (default STRING_LIMIT) */
  stringLimit?: number;
}

export class OutputClamp {
  private cols: number;
  private rows: number;
  private readonly stringLimit: number;
  private state = GROUND;
  /** the last byte of the previous chunk was C2 (a C1 control may be split across chunks) */
  private lastWasC2 = false;
  /** the held sequence's bytes (ESC or CSI), from its introducer */
  private readonly raw = new Uint8Array(CSI_LIMIT);
  private rawLen = 0;
  /** raw[0, heldLen) is not in the current chunk's pending range (an earlier chunk, or hoisted) */
  private heldLen = 0;
  /** index of the held sequence's introducer in the current chunk; -1: it started before */
  private seqStart = -1;
  private phase = ENTRY;
  private prefixed = false;
  private inters = 0;
  private inter = 0;
  private param0 = 0;
  private inFirst = true;
  private osc = false;
  private strLen = 0;

  // per chunk
  private buf: Uint8Array = new Uint8Array(0);
  /** the chunk as a Buffer (for its native indexOf) */
  private view: Buffer = Buffer.alloc(0);
  /** the next C2 at or after the last search in the chunk (its length: none) */
  private nextC2 = -1;
  private out: Uint8Array[] = [];
  /** start of the pending pass-through range [emitFrom, i) of the current chunk */
  private emitFrom = 0;

  constructor(opts: ClampOptions) {
    this.cols = Math.max(1, opts.cols);
    this.rows = Math.max(1, opts.rows);
    this.stringLimit = opts.stringLimit ?? STRING_LIMIT;
  }

  /**
   * Whether the emulator's parser is in its ground state after everything given so far: not in
   * a string, not after a C2 that may start a C1 control (a sequence still held is not given yet).
   */
  get atGround(): boolean {
    return this.state !== STR && !this.lastWasC2;
  }

  /** The screen the counts are bounded by: call it with the emulator's resize. */
  resize(cols: number, rows: number): void {
    this.cols = Math.max(1, cols);
    this.rows = Math.max(1, rows);
  }

  /**
   * The bytes to hand the emulator for `chunk`: the chunk itself when nothing changed, else a
   * new array (possibly empty: a sequence still open at the end is held for the next chunk).
   */
  push(chunk: Uint8Array): Uint8Array {
    const n = chunk.length;
    this.buf = chunk;
    this.view = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.nextC2 = -1;
    this.out = [];
    this.emitFrom = 0;
    let i = 0;
    if (n > 0 && this.lastWasC2 && chunk[0] >= 0x80 && chunk[0] <= 0x9f) {
      if (this.state === GROUND || this.state === STR || this.state === DISCARD) {
        i = this.c1(0);
      }
    }
    while (i < n) {
      const b = chunk[i];
      switch (this.state) {
        case GROUND:
          i = this.ground(chunk, i);
          continue;
        case ESC:
          i = this.inEsc(b, i);
          continue;
        case CSI:
          i = this.inCsi(b, i);
          continue;
        case CSI_DROP:
          if (b >= 0x80) this.state = GROUND;
          else if (b === 0x1b) this.hold(i++);
          else if (b === 0x18 || b === 0x1a) {
            this.state = GROUND;
            i++;
          } else if (isExecuted(b)) i++;
          else {
            this.skip(i++);
            if (b >= 0x40 && b <= 0x7e) this.state = GROUND;
          }
          continue;
        case STR:
          i = this.inString(b, i);
          continue;
        case DISCARD:
          i = this.inDiscard(i);
          continue;
      }
    }
    if (this.state === ESC || this.state === CSI) {
      // Hold the open sequence: it is emitted (or rewritten) once its end arrives.
      if (this.seqStart >= 0) this.flushTo(this.seqStart);
      this.emitFrom = n;
      this.seqStart = -1;
      this.heldLen = this.rawLen;
    }
    this.lastWasC2 = n > 0 ? chunk[n - 1] === 0xc2 : this.lastWasC2;
    if (this.out.length === 0 && this.emitFrom === 0) return chunk;
    this.flushTo(n);
    const parts = this.out;
    this.out = [];
    if (parts.length === 1) return parts[0];
    let len = 0;
    for (const p of parts) len += p.length;
    const res = new Uint8Array(len);
    let at = 0;
    for (const p of parts) {
      res.set(p, at);
      at += p.length;
    }
    return res;
  }

  // ------------------------------------------------------------------ states

  /** Passes text up to the next ESC or C1 control, and short CSIs that need no clamp, in one loop. */
  private ground(chunk: Uint8Array, i: number): number {
    const n = chunk.length;
    for (;;) {
      let b = 0;
      const stop = Math.min(n, i + 32);
      while (i < stop && (b = chunk[i]) !== 0x1b && b !== 0xc2) i++;
      if (i === stop) {
        if (i >= n) return n;
        // A long run of text: search natively (memchr); C2 is rare, so its position is kept.
        if (this.nextC2 < i) this.nextC2 = indexOrEnd(this.view, 0xc2, i);
        i = Math.min(indexOrEnd(this.view, 0x1b, i), this.nextC2);
        if (i >= n) return n;
        b = chunk[i];
      }
      if (b === 0xc2) {
        const j = i + 1;
        if (j < n && chunk[j] >= 0x80 && chunk[j] <= 0x9f) return this.c1(j);
        i = j;
        continue;
      }
      const end = i + 1 < n && chunk[i + 1] === 0x5b ? this.plainCsi(chunk, i) : -1;
      if (end < 0) {
        this.hold(i);
        return i + 1;
      }
      i = end;
    }
  }

  /**
   * The fast path for `ESC [` at j: a CSI of parameters only (an optional private marker, digits,
   * `;` and `:`) ending in this chunk, that needs no clamp. Returns the index after its final
   * byte, or -1: anything else (intermediates, controls inside, a count to clamp, the chunk's end)
   * takes the state machine from the ESC.
   */
  private plainCsi(chunk: Uint8Array, j: number): number {
    const n = chunk.length;
    let k = j + 2;
    let prefixed = false;
    if (k < n && chunk[k] >= 0x3c && chunk[k] <= 0x3f) {
      prefixed = true;
      k++;
    }
    let p0 = 0;
    let first = true;
    let b = 0;
    for (; k < n; k++) {
      b = chunk[k];
      if (b >= 0x30 && b <= 0x39) {
        if (first && p0 < MAX_VALUE) p0 = p0 * 10 + b - 0x30;
      } else if (b === 0x3b || b === 0x3a) first = false;
      else break;
    }
    if (k >= n || b < 0x40 || b > 0x7e || k - j >= CSI_LIMIT) return -1;
    const kind = prefixed ? 0 : FINAL_BOUND[b];
    if (kind !== 0 && p0 > this.bound(kind)) return -1;
    return k + 1;
  }

  private bound(kind: number): number {
    return kind === 2 ? this.rows : kind === 1 ? this.cols : Math.max(1, this.cols - 1);
  }

  /** A C1 control at i (its C2 just before); returns the next index. */
  private c1(i: number): number {
    const c = this.buf[i];
    if (this.state === DISCARD) {
      // The C2 was dropped with the string: give it back unless this ends the string.
      if (c === 0x9c) {
        this.emitFrom = i + 1;
        this.state = GROUND;
        return i + 1;
      }
      if (i > 0) this.emitFrom = i - 1;
      else {
        this.out.push(C2);
        this.emitFrom = 0;
      }
    }
    if (c === 0x9b) {
      this.hold(i);
      this.raw[0] = 0x9b;
      this.startCsi();
    } else if (c === 0x9d || c === 0x90 || c === 0x98 || c === 0x9e || c === 0x9f) {
      this.startString(c === 0x9d);
    } else this.state = GROUND;
    return i + 1;
  }

  private inEsc(b: number, i: number): number {
    if (b === 0x5b) {
      this.append(b);
      this.startCsi();
    } else if (b === 0x5d || b === 0x50 || b === 0x58 || b === 0x5e || b === 0x5f) {
      this.release();
      this.startString(b === 0x5d);
    } else if (b === 0x1b) {
      this.release();
      this.hold(i);
    } else if (isExecuted(b)) {
      this.hoist(i);
    } else if (b === 0x7f) {
      if (!this.append(b)) return this.abandon(i);
    } else if (b >= 0x80) {
      return this.abandon(i);
    } else {
      // An ESC sequence (intermediates, then a final byte): nothing in it is bounded.
      this.release();
      this.state = GROUND;
    }
    return i + 1;
  }

  private inCsi(b: number, i: number): number {
    if (b >= 0x80) return this.abandon(i);
    if (b === 0x1b || b === 0x18 || b === 0x1a) {
      // xterm.js abandons the sequence without dispatching it: pass it as it is.
      this.release();
      if (b === 0x1b) this.hold(i);
      else this.state = GROUND;
      return i + 1;
    }
    if (isExecuted(b)) {
      this.hoist(i);
      return i + 1;
    }
    if (!this.append(b)) {
      // Too long: drop it, as tmux does.
      this.cutHeld();
      this.out.push(CAN);
      this.emitFrom = i;
      this.state = CSI_DROP;
      return i;
    }
    if (b >= 0x40 && b <= 0x7e) {
      this.dispatch(b, i);
    } else if (b >= 0x30 && b <= 0x3b) {
      if (this.phase === INTER) this.phase = IGNORE;
      else if (this.phase !== IGNORE) {
        this.phase = PARAM;
        if (this.inFirst) {
          if (b <= 0x39) this.param0 = Math.min(this.param0 * 10 + b - 0x30, MAX_VALUE);
          else this.inFirst = false;
        }
      }
    } else if (b >= 0x3c && b <= 0x3f) {
      if (this.phase === ENTRY) {
        this.prefixed = true;
        this.phase = PARAM;
      } else this.phase = IGNORE;
    } else if (b >= 0x20 && b <= 0x2f) {
      if (this.phase !== IGNORE) {
        this.phase = INTER;
        this.inters++;
        this.inter = b;
      }
    }
    return i + 1;
  }

  /** The CSI's final byte f at i: rewrite its count when it passes the screen, else pass it. */
  private dispatch(f: number, i: number): void {
    this.state = GROUND;
    let bound = 0;
    if (this.phase !== IGNORE && !this.prefixed && this.inters <= 1) {
      const kind = BOUNDS.get(this.inters === 0 ? f : (this.inter << 8) | f);
      if (kind) bound = this.bound(kind);
    }
    if (bound === 0 || this.param0 <= bound) {
      this.release();
      return;
    }
    // ESC [ bound, then the rest of the sequence after the first parameter's digits.
    const raw = this.raw;
    let k = raw[0] === 0x1b ? 2 : 1;
    while (k < this.rawLen && ((raw[k] >= 0x30 && raw[k] <= 0x39) || raw[k] === 0x7f)) k++;
    const head = `\x1b[${bound}`;
    const res = new Uint8Array(head.length + this.rawLen - k);
    for (let j = 0; j < head.length; j++) res[j] = head.charCodeAt(j);
    res.set(raw.subarray(k, this.rawLen), head.length);
    this.cutHeld();
    this.out.push(res);
    this.emitFrom = i + 1;
  }

  private inString(b: number, i: number): number {
    if (b === 0x1b) {
      this.hold(i);
    } else if (b === 0x18 || b === 0x1a || (b === 0x07 && this.osc)) {
      this.state = GROUND;
    } else if (b >= 0x80 && b <= 0x9f && (i > 0 ? this.buf[i - 1] === 0xc2 : this.lastWasC2)) {
      return this.c1(i);
    } else if (++this.strLen > this.stringLimit) {
      // Cut: CAN aborts the string in the emulator; the rest is dropped up to the terminator.
      this.flushTo(i);
      this.out.push(CAN);
      this.emitFrom = i + 1;
      this.state = DISCARD;
    }
    return i + 1;
  }

  private inDiscard(i: number): number {
    const buf = this.buf;
    const n = buf.length;
    for (; i < n; i++) {
      const b = buf[i];
      if (b === 0x1b) {
        this.emitFrom = i;
        this.hold(i);
        return i + 1;
      }
      if (b === 0x18 || b === 0x1a || (b === 0x07 && this.osc)) {
        this.emitFrom = i + 1;
        this.state = GROUND;
        return i + 1;
      }
      if (b >= 0x80 && b <= 0x9f && (i > 0 ? buf[i - 1] === 0xc2 : this.lastWasC2)) return this.c1(i);
    }
    this.emitFrom = n;
    return n;
  }

  // ------------------------------------------------------------------ output

  /** Starts holding a sequence whose introducer is at i (ESC, or C1 CSI). */
  private hold(i: number): void {
    this.state = ESC;
    this.seqStart = i;
    this.raw[0] = 0x1b;
    this.rawLen = 1;
    this.heldLen = 0;
  }

  private startCsi(): void {
    this.state = CSI;
    this.phase = ENTRY;
    this.prefixed = false;
    this.inters = 0;
    this.inter = 0;
    this.param0 = 0;
    this.inFirst = true;
  }

  private startString(osc: boolean): void {
    this.state = STR;
    this.osc = osc;
    this.strLen = 0;
  }

  private append(b: number): boolean {
    if (this.rawLen >= CSI_LIMIT) return false;
    this.raw[this.rawLen++] = b;
    return true;
  }

  /** The held sequence goes out as it came. */
  private release(): void {
    if (this.heldLen > 0) this.out.push(this.raw.slice(0, this.heldLen));
    this.rawLen = 0;
    this.heldLen = 0;
    this.seqStart = -1;
  }

  /** The held sequence goes out not at all: what came before it in this chunk is flushed. */
  private cutHeld(): void {
    if (this.seqStart >= 0) this.flushTo(this.seqStart);
    this.rawLen = 0;
    this.heldLen = 0;
    this.seqStart = -1;
  }

  /** A byte ≥ 0x80 inside ESC or CSI: drop the sequence, CAN, and read the byte in ground. */
  private abandon(i: number): number {
    this.cutHeld();
    this.out.push(CAN);
    this.emitFrom = i;
    this.state = GROUND;
    return i;
  }

  /** A C0 control inside a held sequence runs before it (the same for xterm.js), and the sequence stays held. */
  private hoist(i: number): void {
    if (this.seqStart >= 0) this.flushTo(this.seqStart);
    this.out.push(this.buf.subarray(i, i + 1));
    this.heldLen = this.rawLen;
    this.seqStart = -1;
    this.emitFrom = i + 1;
  }

  /** Drops byte i. */
  private skip(i: number): void {
    this.flushTo(i);
    this.emitFrom = i + 1;
  }

  private flushTo(k: number): void {
    if (k > this.emitFrom) this.out.push(this.buf.subarray(this.emitFrom, k));
    this.emitFrom = Math.max(this.emitFrom, k);
  }
}

function indexOrEnd(buf: Buffer, byte: number, from: number): number {
  const at = buf.indexOf(byte, from);
  return at < 0 ? buf.length : at;
}
