/**
 * Fast-forward (lanes/terminal/fastForward.ts): a region of output cut where it allows leaves a
 * real xterm.js emulator in exactly the state a full parse does (screen, scrollback, cursor,
 * pen, what a later REP repeats), and no cut is offered where the cut part holds something with
 * an effect of its own (a mode, a title, a query, a scroll region) or too little follows it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LaneTerminal } from '../../lanes/terminal/laneTerminal.js';
import { findCut, linesNeeded } from '../../lanes/terminal/fastForward.js';

const COLS = 50;
const ROWS = 8;
const SCROLLBACK = 20;
const terms: LaneTerminal[] = [];
afterEach(() => {
  for (const t of terms.splice(0)) t.dispose();
});

function make(): LaneTerminal {
  const t = new LaneTerminal({ cols: COLS, rows: ROWS, scrollback: SCROLLBACK });
  terms.push(t);
  return t;
}

const bytes = (s: string) => Buffer.from(s, 'utf8');

/** Everything the emulator shows or keeps: every buffer line, styles, the cursor, and a redraw. */
function state(t: LaneTerminal) {
  return {
    lines: t.bufferText(),
    styled: t.styled(),
    cursor: t.cursor(),
    redraw: t.serialize({ scrollback: SCROLLBACK }),
  };
}

/**
 * `before` parsed, then `region` (chunks) parsed in full by one terminal and fast-forwarded by
 * another; then `after` parsed by both. Returns both states and the cut (null: none offered).
 */
async function both(before: string, region: (string | Buffer)[], after = '') {
  const full = make();
  const fast = make();
  full.write(bytes(before));
  fast.write(bytes(before));
  const atGround = fast.atGround;
  await Promise.all([full.whenIdle(), fast.whenIdle()]);

  const chunks = region.map((c) => (typeof c === 'string' ? bytes(c) : c));
  for (const c of chunks) full.write(c);
  const clamped = chunks.map((c) => fast.clamped(c));
  const all = Buffer.concat(clamped);
  const cut = atGround && fast.fullScrollRegion ? findCut(all, linesNeeded(ROWS, SCROLLBACK), 0) : null;
  if (cut) {
    fast.writeClamped(cut.prefix, 0);
    fast.writeClamped(all.subarray(cut.at), all.length - cut.at);
  } else fast.writeClamped(all, all.length);
  for (const t of [full, fast]) t.write(bytes(after));
  await Promise.all([full.whenIdle(), fast.whenIdle()]);
  return { full: state(full), fast: state(fast), cut };
}

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number) {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['build', 'ok', 'é', '日本語', '✓', 'const x = 1;', '│', '⠋ Thinking…', '   '];
const SGRS = [
  '\x1b[0m',
  '\x1b[1;36m',
  '\x1b[32m',
  '\x1b[m',
  '\x1b[38;5;208m',
  '\x1b[48;2;1;2;3m',
  '\x1b[7m',
  '\x1b[0;4m',
];

/** A line of plain output: text, colours, tabs, an erase, maybe long enough to wrap. */
function lineOf(r: () => number): string {
  let s = '';
  const parts = 1 + Math.floor(r() * 6);
  for (let i = 0; i < parts; i++) {
    const k = r();
    if (k < 0.25) s += SGRS[Math.floor(r() * SGRS.length)];
    else if (k < 0.3) s += '\t';
    else if (k < 0.35) s += '\x1b[K';
    else if (k < 0.38)
      s += 'w'.repeat(COLS + Math.floor(r() * 20)); // wraps
    else s += WORDS[Math.floor(r() * WORDS.length)];
  }
  // a progress line redrawn in place, or a plain line end
  return r() < 0.15 ? `\r\x1b[2K${s}` : `${s}\r\n`;
}

/** Output P may hold but the lines after a cut may not: cursor moves, erases, line shifts, BS. */
function plainOnly(r: () => number): string {
  const moves = [
    '\x1b[3;7H',
    '\x1b[2J',
    '\x1b[A',
    '\x1b[5G',
    '\x1b[2L',
    '\x1b[M',
    '\x1b[3P',
    '\x1b[2@',
    '\x08',
    '\x1b[S',
  ];
  return moves[Math.floor(r() * moves.length)];
}

describe('FastForward', () => {
  it('cuts a flood so the emulator ends exactly as a full parse leaves it', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 400; i++)
      lines.push(i % 11 === 0 ? `\r\x1b[2K\x1b[33m⠋\x1b[0m Thinking… ${i}` : `\x1b[32m+\x1b[0m line ${i} │ text\r\n`);
    // the screen before holds other text, the cursor mid-screen and a pen that is not reset
    const before = 'old screen\r\n\x1b[44mblue\r\nmore\x1b[5;3H';
    const r = await both(before, [lines.join('')], '\x1b[31mend\x1b[3b');
    expect(r.cut).not.toBeNull();
    expect(r.cut!.at).toBeGreaterThan(10_000);
    expect(r.fast).toEqual(r.full);
    // after the CR the cut follows, lines that end in a bare LF start where the last one ended
    const bare = `start\r${Array.from({ length: 60 }, (_, i) => `w${i}`).join('\n')}`;
    const b = await both('x'.repeat(7), [bare]);
    expect(b.cut).not.toBeNull();
    expect(b.fast).toEqual(b.full);
  });

  it('matches a full parse on random plain floods, cut anywhere they allow', async () => {
    let cuts = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const r = rng(seed);
      const region: Buffer[] = [];
      let text = '';
      const n = 60 + Math.floor(r() * 120);
      for (let i = 0; i < n; i++) {
        text += r() < 0.1 ? plainOnly(r) : lineOf(r);
      }
      // then enough lines of line-local output, and maybe anything at all after them
      for (let i = 0; i < 2 * ROWS + SCROLLBACK + 5 + Math.floor(r() * 30); i++) text += lineOf(r);
      if (r() < 0.5) text += '\x1b[?1049h\x1b[2;5r\x1b[10;10Hafter\x1b[?1049l';
      // split at random places, escape sequences and characters included
      let at = 0;
      const buf = bytes(text);
      while (at < buf.length) {
        const len = 1 + Math.floor(r() * 700);
        region.push(buf.subarray(at, at + len));
        at += len;
      }
      const res = await both(`seed ${seed}\r\n\x1b[35m`, region, '\x1b[2b!');
      if (res.cut) cuts++;
      expect(res.fast, `seed ${seed}`).toEqual(res.full);
    }
    expect(cuts).toBeGreaterThan(40);
  });

  it('offers no cut when the front holds a title, a mode, a query, a tab stop or a saved cursor', async () => {
    const flood = Array.from({ length: 60 }, (_, i) => `line ${i}\r\n`).join('');
    for (const effect of [
      '\x1b]0;title\x07',
      '\x1b[?1049h',
      '\x1b[?25l',
      '\x1b[6n',
      '\x1b[c',
      '\x1bH',
      '\x1b7',
      '\x1b(0',
      '\x0e',
      '\x1b[2;5r',
      '\x1b[3b',
      '\u0085',
    ]) {
      const r = await both('', [`a\r\n${effect}b\r\n${flood}`]);
      expect(r.cut, JSON.stringify(effect)).toBeNull();
    }
  });

  it('offers no cut without enough lines after it, or nothing printed after it', async () => {
    const need = linesNeeded(ROWS, SCROLLBACK);
    const few = Array.from({ length: need - 2 }, (_, i) => `line ${i}\r\n`).join('');
    expect((await both('', [few])).cut).toBeNull();
    const blank = '\r\n'.repeat(need + 5);
    expect((await both('', [`text\r\n${blank}`])).cut).toBeNull();
    // a cursor move after the cut breaks the run of line-local lines: the cut must come before it
    const enough = Array.from({ length: need + 3 }, (_, i) => `line ${i}\r\n`).join('');
    const r = await both('', [`${enough}\x1b[3;3Hx\r\n${few}`]);
    expect(r.cut).not.toBeNull();
    expect(r.cut!.at).toBeLessThan(enough.length);
    expect(r.fast).toEqual(r.full);
  });

  it('offers no cut while the emulator is inside a string or has a scroll region', async () => {
    const flood = Array.from({ length: 80 }, (_, i) => `line ${i}\r\n`).join('');
    expect((await both('\x1b]0;an open title', [flood])).cut).toBeNull();
    expect((await both('\x1bP1$r', [flood])).cut).toBeNull();
    expect((await both('\x1b[2;6r', [flood])).cut).toBeNull();
    // a string that ended lets the next region be cut
    const r = await both('\x1b]0;title\x07', [flood]);
    expect(r.cut).not.toBeNull();
    expect(r.fast).toEqual(r.full);
  });

  it('carries the pen across the cut, and refuses a cut where the pen is too long to carry', async () => {
    const lines = Array.from({ length: 80 }, (_, i) => `line ${i}\r\n`).join('');
    const pen = '\x1b[1m\x1b[4m\x1b[38;5;100m';
    const r = await both('\x1b[45m', [`${pen}${lines}`]);
    expect(r.cut).not.toBeNull();
    expect(r.fast).toEqual(r.full);
    const long = Array.from({ length: 20 }, (_, i) => `\x1b[${31 + (i % 7)}m`).join('');
    expect((await both('', [`a\r\n${long}${lines}`])).cut).toBeNull();
  });
});
