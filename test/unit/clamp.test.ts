/**
 * The output clamp (lanes/terminal/clamp.ts) byte by byte: normal output passes unchanged (the
 * same array), each hostile sequence comes out bounded, and the result is the same wherever the
 * stream is split into chunks (at every byte boundary, and one byte at a time).
 */
import { describe, expect, it } from 'vitest';
import { CSI_LIMIT, OutputClamp, STRING_LIMIT } from '../../lanes/terminal/clamp.js';

const COLS = 80;
const ROWS = 24;
const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
const text = (u: Uint8Array): string => Buffer.from(u).toString('latin1');

/** Feeds `input` cut at `cuts` to a fresh clamp; returns what the emulator gets, joined. */
function through(input: Buffer, cuts: number[] = [], stringLimit?: number): string {
  const clamp = new OutputClamp({ cols: COLS, rows: ROWS, stringLimit });
  let out = '';
  let from = 0;
  for (const cut of [...cuts, input.length]) {
    out += text(clamp.push(input.subarray(from, cut)));
    from = cut;
  }
  return out;
}

/** The same output at every split into two chunks, and when fed one byte at a time. */
function expectSplitsAgree(input: Buffer, stringLimit?: number): string {
  const whole = through(input, [], stringLimit);
  for (let k = 0; k <= input.length; k++) expect(through(input, [k], stringLimit), `split at ${k}`).toBe(whole);
  const each = Array.from({ length: input.length }, (_, k) => k + 1);
  expect(through(input, each, stringLimit), 'one byte at a time').toBe(whole);
  return whole;
}

const NORMAL = [
  'plain text\r\n',
  '\x1b[1;31mred\x1b[0m \x1b[38;5;208morange\x1b[m \x1b[38;2;10;20;30;48;2;1;2;3mrgb\x1b[0m\r\n',
  '\x1b[38:2::255:0:0mcolon subparameters\x1b[0m\r\n',
  'UTF-8: été © ± 日本語 🙂 ─│┌┐ ¼\r\n',
  '\x1b]0;window title\x07\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\\r\n',
  '\x1b[?1049h\x1b[?25l\x1b[?2004h\x1b[H\x1b[2J\x1b[10;5H\x1b[K\x1b[3A\x1b[1;20r\x1b[?25h\x1b[?1049l',
  '\x1b[>q\x1b[c\x1b[>1u\x1b[<u\x1b[6n\x1bP$qm\x1b\\\x1b(B\x1b7\x1b8\x1b=\x1b>',
  // counts within the screen pass as they are
  '\x1b[5L\x1b[3M\x1b[24S\x1b[2T\x1b[10@\x1b[4P\x1b[80X\x1b[2I\x1b[Zx\x1b[79b\x1b[3 @\x1b[2 A',
  // invalid UTF-8 is the emulator's business: FF FE, a lone continuation, a cut sequence, C3 28
  'bad: \xff\xfe \x80 \xe6\x97 \xc3\x28 end\r\n',
];

describe('OutputClamp: normal output', () => {
  it('passes every sample unchanged, as the same array', () => {
    for (const sample of NORMAL) {
      // The samples are written as UTF-8, except the invalid one, which is bytes.
      const input = sample.startsWith('bad') ? bytes(sample) : Buffer.from(sample, 'utf8');
      const clamp = new OutputClamp({ cols: COLS, rows: ROWS });
      expect(clamp.push(input), JSON.stringify(sample)).toBe(input);
    }
  });

  it('gives back the exact bytes wherever the stream is split', () => {
    const input = Buffer.concat(NORMAL.map((s) => (s.startsWith('bad') ? bytes(s) : Buffer.from(s, 'utf8'))));
    expect(expectSplitsAgree(input)).toBe(text(input));
  });
});

describe('OutputClamp: repeat counts', () => {
  const big = '9999999999';
  const cases: [string, string][] = [
    [`\x1b[${big}L`, `\x1b[${ROWS}L`],
    [`\x1b[${big}M`, `\x1b[${ROWS}M`],
    [`\x1b[${big}S`, `\x1b[${ROWS}S`],
    [`\x1b[${big}T`, `\x1b[${ROWS}T`],
    [`\x1b[${big}@`, `\x1b[${COLS}@`],
    [`\x1b[${big}P`, `\x1b[${COLS}P`],
    [`\x1b[${big}X`, `\x1b[${COLS}X`],
    [`\x1b[${big}I`, `\x1b[${COLS}I`],
    [`\x1b[${big}Z`, `\x1b[${COLS}Z`],
    [`a\x1b[${big}b`, `a\x1b[${COLS - 1}b`],
    [`\x1b[${big} @`, `\x1b[${COLS} @`],
    [`\x1b[${big} A`, `\x1b[${COLS} A`],
    [`\x1b[${big}'}`, `\x1b[${COLS}'}`],
    [`\x1b[${big}'~`, `\x1b[${COLS}'~`],
    [`\x1b[25L`, `\x1b[${ROWS}L`],
    // later parameters and sub-parameters stay
    [`\x1b[${big};7S`, `\x1b[${ROWS};7S`],
    [`\x1b[${big}:1L`, `\x1b[${ROWS}:1L`],
    // a huge number of digits
    [`\x1b[${'0'.repeat(60)}${'9'.repeat(150)}@`, `\x1b[${COLS}@`],
    // DEL inside is ignored by xterm.js, a C0 control runs before the sequence
    [`\x1b[99\x7f99S`, `\x1b[${ROWS}S`],
    [`\x1b[99\n99X`, `\n\x1b[${COLS}X`],
    // the 8-bit CSI (C1 as UTF-8, C2 9B), which xterm.js also obeys
    [`\xc2\x9b${big}S`, `\xc2\x1b[${ROWS}S`],
    // not repeat counts, or bounded by xterm.js itself: unchanged
    [`\x1b[?${big}S`, `\x1b[?${big}S`],
    [`\x1b[${big}m`, `\x1b[${big}m`],
    [`\x1b[${big};${big}H`, `\x1b[${big};${big}H`],
    [`\x1b[${big}$S`, `\x1b[${big}$S`],
    [`\x1b[${ROWS}L`, `\x1b[${ROWS}L`],
  ];

  it.each(cases)('%j becomes %j, wherever it is split', (input, expected) => {
    expect(expectSplitsAgree(bytes(input))).toBe(expected);
  });

  it('bounds counts by the size after a resize', () => {
    const clamp = new OutputClamp({ cols: COLS, rows: ROWS });
    expect(text(clamp.push(bytes('\x1b[100S\x1b[100X')))).toBe('\x1b[24S\x1b[80X');
    clamp.resize(200, 60);
    expect(text(clamp.push(bytes('\x1b[100S\x1b[100X\x1b[999S')))).toBe('\x1b[60S\x1b[100X\x1b[60S');
  });

  it('drops a control sequence longer than the limit, as tmux does, and goes on', () => {
    const long = `\x1b[${'1;'.repeat(CSI_LIMIT)}m`;
    expect(expectSplitsAgree(bytes(`${long}ok\x1b[${'9'.repeat(CSI_LIMIT)}\nS+`))).toBe('\x18ok\x18\n+');
  });

  it('drops a sequence that a byte >= 0x80 interrupts (xterm.js may skip the byte and go on)', () => {
    expect(expectSplitsAgree(bytes('\x1b[12\xff9999999999S'))).toBe('\x18\xff9999999999S');
    expect(expectSplitsAgree(bytes('\x1b\xff[9999999999S'))).toBe('\x18\xff[9999999999S');
    // C1 CSI inside a CSI restarts it, and is clamped
    expect(expectSplitsAgree(bytes('\x1b[1\xc2\x9b9999999999L'))).toBe('\x18\xc2\x1b[24L');
  });
});

describe('OutputClamp: strings', () => {
  const LIMIT = 16;
  const payload = 'x'.repeat(100);
  const kept = (p: string) => p.slice(0, LIMIT);

  it('passes strings within the limit with their terminator', () => {
    for (const s of [
      '\x1b]0;title\x07after',
      '\x1b]0;title\x1b\\after',
      '\x1bP$qm\x1b\\after',
      '\x1b_apc\x1b\\after',
    ]) {
      expect(expectSplitsAgree(bytes(s), LIMIT)).toBe(s);
    }
  });

  it('cuts an OSC past the limit (CAN) and drops the rest up to its terminator', () => {
    const osc = `0;${payload}`;
    expect(expectSplitsAgree(bytes(`\x1b]${osc}\x07after`), LIMIT)).toBe(`\x1b]${kept(osc)}\x18after`);
    // ST: ESC \ reaches the emulator (harmless in ground state)
    expect(expectSplitsAgree(bytes(`\x1b]${osc}\x1b\\after`), LIMIT)).toBe(`\x1b]${kept(osc)}\x18\x1b\\after`);
    expect(expectSplitsAgree(bytes(`\x1b]${osc}\x18after`), LIMIT)).toBe(`\x1b]${kept(osc)}\x18after`);
    // the C1 forms: OSC C2 9D, ST C2 9C
    expect(expectSplitsAgree(bytes(`\xc2\x9d${osc}\xc2\x9cafter`), LIMIT)).toBe(`\xc2\x9d${kept(osc)}\x18after`);
  });

  it('cuts DCS, SOS, PM and APC; BEL does not end them', () => {
    for (const intro of ['P', 'X', '^', '_']) {
      const s = `\x1b${intro}${payload}\x07${payload}\x1b\\after`;
      expect(expectSplitsAgree(bytes(s), LIMIT)).toBe(`\x1b${intro}${kept(payload)}\x18\x1b\\after`);
      expect(expectSplitsAgree(bytes(`\x1b${intro}${payload}\x1aafter`), LIMIT)).toBe(
        `\x1b${intro}${kept(payload)}\x18after`,
      );
    }
  });

  it('still clamps a C1 CSI that ends a dropped string, and passes other C1 controls', () => {
    const s = `\x1b]0;${payload}\xc2\x9b9999999999S\x1bP${payload}\xc2\x85next`;
    expect(expectSplitsAgree(bytes(s), LIMIT)).toBe(
      `\x1b]${kept(`0;${payload}`)}\x18\xc2\x1b[24S\x1bP${kept(payload)}\x18\xc2\x85next`,
    );
  });

  it('keeps an endless DCS to the default limit, then passes what follows its terminator', () => {
    const clamp = new OutputClamp({ cols: COLS, rows: ROWS });
    let out = clamp.push(bytes('before\x1bPq')).length;
    const block = bytes('#0;2;0;0;0#0!200~-'.repeat(4000)); // ~76 KB of sixel-like payload
    let fed = 0;
    while (fed < 8 * STRING_LIMIT) {
      out += clamp.push(block).length;
      fed += block.length;
    }
    expect(out).toBe('before\x1bP'.length + STRING_LIMIT + 1); // the payload kept ('q' is in it), then CAN
    expect(clamp.push(bytes('still inside')).length).toBe(0);
    expect(text(clamp.push(bytes('\x1b\\\x1b[9999999999Lmarker')))).toBe('\x1b\\\x1b[24Lmarker');
  });
});

describe('OutputClamp: random streams', () => {
  /** xorshift32: the same streams on every run */
  function rng(seed: number): () => number {
    let x = seed;
    return () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 0x100000000;
    };
  }
  const TOKENS = [
    'text ',
    '日本',
    '\xc2',
    '\x9b',
    '\x9d',
    '\x9c',
    '\x1b',
    '[',
    ']',
    'P',
    '9999999999',
    '12',
    ';',
    ':',
    '?',
    ' ',
    "'",
    'L',
    'S',
    'b',
    'X',
    'm',
    '\x07',
    '\x18',
    '\n',
    '\x7f',
    '\xff',
    '\\',
  ];

  it('never lets a count past the screen through, wherever the stream is split', () => {
    const next = rng(12345);
    for (let round = 0; round < 300; round++) {
      let s = '';
      for (let t = 0; t < 60; t++) s += TOKENS[Math.floor(next() * TOKENS.length)];
      const input = bytes(s);
      const whole = through(input, [], 8);
      const a = Math.floor(next() * input.length);
      const b = a + Math.floor(next() * (input.length - a));
      expect(through(input, [a, b], 8), JSON.stringify(s)).toBe(whole);
      // Rewritten sequences are plain ESC [ digits final; nothing above the bounds survives.
      for (const m of whole.matchAll(/(?:\x1b\[|\xc2\x9b)(\d+)([LMST@PXIZb])/g)) {
        expect(Number(m[1]), `${JSON.stringify(s)} -> ${JSON.stringify(whole)}`).toBeLessThanOrEqual(
          'LMST'.includes(m[2]) ? ROWS : COLS,
        );
      }
    }
  });
});
