/**
 * The output clamp seen on the screen (LaneTerminal puts it before xterm.js): hostile sequences
 * parse at once and the output after them shows, and a clamped count draws exactly what
 * xterm.js draws with the full count (a count past the screen does nothing more).
 */
import xtermHeadless from '@xterm/headless';
import { afterEach, describe, expect, it } from 'vitest';
import { LaneTerminal } from '../../lanes/terminal/laneTerminal.js';

const { Terminal } = xtermHeadless;
const COLS = 80;
const ROWS = 24;
const terms: { dispose(): void }[] = [];
afterEach(() => {
  for (const t of terms.splice(0)) t.dispose();
});

function lane(): LaneTerminal {
  const t = new LaneTerminal({ cols: COLS, rows: ROWS, scrollback: 50 });
  terms.push(t);
  return t;
}

async function feed(t: LaneTerminal, s: string): Promise<void> {
  t.write(Buffer.from(s, 'latin1'));
  await t.whenIdle();
}

/** The screen of a bare xterm.js (no clamp) fed `s`. */
async function bareScreen(s: string): Promise<{ text: string[]; x: number; y: number }> {
  const t = new Terminal({ cols: COLS, rows: ROWS, scrollback: 50, allowProposedApi: true, logLevel: 'off' });
  terms.push(t);
  await new Promise<void>((resolve) => t.write(Buffer.from(s, 'latin1'), resolve));
  const buf = t.buffer.active;
  const text: string[] = [];
  for (let y = 0; y < ROWS; y++) text.push((buf.getLine(buf.baseY + y)?.translateToString(true) ?? '').trimEnd());
  return { text, x: buf.cursorX, y: buf.cursorY };
}

const HOSTILE = [
  '\x1b[9999999999L',
  '\x1b[9999999999M',
  '\x1b[9999999999S',
  '\x1b[9999999999T',
  '\x1b[9999999999@',
  '\x1b[9999999999P',
  '\x1b[9999999999X',
  '\x1b[9999999999I',
  '\x1b[9999999999Z',
  'a\x1b[9999999999b',
  '\x1b[9999999999 @',
  '\x1b[9999999999 A',
  "\x1b[9999999999'}",
  "\x1b[9999999999'~",
  `\x1b[${'9'.repeat(5000)}S`,
  '\x1b[9999999999\xffS', // xterm.js skips the invalid byte: it would be SU 2^31
  '\xc2\x9b9999999999L',
  `\x1b]0;${'t'.repeat(3 * 1024 * 1024)}\x07`,
  `\x1bPq${'#0;2;0;0;0#0!9~-'.repeat(200_000)}\x1b\\`,
];

describe('hostile output on the lane screen', () => {
  it.each(HOSTILE.map((s) => [s.length > 40 ? `${JSON.stringify(s.slice(0, 30))}… (${s.length} bytes)` : s, s]))(
    '%j parses at once and the next line shows',
    async (_name, seq) => {
      const t = lane();
      await feed(t, `before\r\n${seq}\r\nMARKER after\r\n`);
      expect(t.text().join('\n')).toContain('MARKER after');
    },
  );

  it('shows a row of the repeated character for a huge REP (bounded by the width, as tmux)', async () => {
    const t = lane();
    await feed(t, '\x1b[Hx\x1b[9999999999b\r\nMARKER');
    expect(t.text()[0]).toBe('x'.repeat(COLS));
    expect(t.text()[1]).toBe('MARKER');
  });

  it('keeps a bounded title from an endless OSC, and the output after its terminator', async () => {
    const t = lane();
    await feed(t, `\x1b]2;${'t'.repeat(2 * 1024 * 1024)}`);
    await feed(t, 'swallowed by the string');
    await feed(t, '\x07visible');
    expect(t.text()[0]).toBe('visible');
  });
});

describe('a clamped count draws what the full count draws', () => {
  // A full screen of numbered rows, the cursor inside; with and without a scroll region.
  const fill = Array.from({ length: ROWS }, (_, i) => `row ${i} ${'abcdefghij'.repeat(6)}`).join('\r\n');
  const setups = [`${fill}\x1b[6;11H`, `${fill}\x1b[4;20r\x1b[8;11H`];
  const sequences = ['L', 'M', 'S', 'T', '@', 'P', 'X', 'I', 'Z', ' @', ' A', "'}", "'~"].map((f) => `\x1b[1000${f}`);

  it.each(sequences)('%j', async (seq) => {
    for (const setup of setups) {
      const t = lane();
      await feed(t, setup + seq);
      const bare = await bareScreen(setup + seq);
      expect(t.text()).toEqual(bare.text);
      expect({ x: t.cursor().x, y: t.cursor().y }).toEqual({ x: bare.x, y: bare.y });
    }
  });
});
