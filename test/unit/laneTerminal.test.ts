import { afterEach, describe, expect, it } from 'vitest';
import { LaneTerminal } from '../../lanes/terminal/laneTerminal.js';

const terms: LaneTerminal[] = [];
function make(cols = 40, rows = 6, extra: Partial<ConstructorParameters<typeof LaneTerminal>[0]> = {}) {
  const t = new LaneTerminal({ cols, rows, ...extra });
  terms.push(t);
  return t;
}
afterEach(() => {
  for (const t of terms.splice(0)) t.dispose();
});

async function feed(t: LaneTerminal, s: string | Uint8Array) {
  t.write(typeof s === 'string' ? Buffer.from(s, 'utf8') : s);
  await t.whenIdle();
}

describe('LaneTerminal', () => {
  it('gives text, last line and cursor of the screen', async () => {
    const t = make();
    await feed(t, 'hello   \r\nworld\r\n\r\n');
    expect(t.text().slice(0, 3)).toEqual(['hello', 'world', '']);
    expect(t.text()).toHaveLength(6);
    expect(t.lastLine()).toBe('world');
    expect(t.cursor()).toEqual({ x: 0, y: 3, visible: true });
    await feed(t, '\x1b[?25l');
    expect(t.cursor().visible).toBe(false);
    await feed(t, '\x1b[?25h');
    expect(t.cursor().visible).toBe(true);
  });

  it('decodes UTF-8 split across writes', async () => {
    const t = make();
    const bytes = Buffer.from('été → 日本', 'utf8');
    for (const b of bytes) t.write(Uint8Array.of(b));
    await t.whenIdle();
    expect(t.text()[0]).toBe('été → 日本');
  });

  it('turns colours and attributes into styled runs', async () => {
    const t = make();
    await feed(t, 'plain \x1b[1;31mred\x1b[0m \x1b[38;2;1;2;3;48;5;200mrgb\x1b[0m \x1b[4;7mu\x1b[m');
    const row = t.styled()[0];
    expect(row).toEqual([
      { text: 'plain ' },
      { text: 'red', fg: 'p1', bold: true },
      { text: ' ' },
      { text: 'rgb', fg: '#010203', bg: 'p200' },
      { text: ' ' },
      { text: 'u', underline: true, inverse: true },
    ]);
    expect(t.ansiLines()[0]).toBe(
      '\x1b[0mplain \x1b[0;1;31mred\x1b[0m \x1b[0;38;2;1;2;3;48;5;200mrgb\x1b[0m \x1b[0;4;7mu\x1b[0m',
    );
  });

  it('answers DA1, DA2, cursor position and XTVERSION queries', async () => {
    const t = make();
    const replies: string[] = [];
    t.onReply((d) => replies.push(d));
    await feed(t, '\x1b[c');
    expect(replies.join('')).toMatch(/^\x1b\[\?[\d;]+c$/);
    replies.length = 0;
    await feed(t, '\x1b[>c');
    expect(replies.join('')).toMatch(/^\x1b\[>[\d;]+c$/);
    replies.length = 0;
    await feed(t, 'ab\x1b[6n');
    expect(replies.join('')).toBe('\x1b[1;3R');
    replies.length = 0;
    await feed(t, '\x1b[>q');
    expect(replies.join('')).toMatch(/^\x1bP>\|xterm\.js\([\d.]+\)\x1b\\$/);
    replies.length = 0;
    await feed(t, '\x1b[>0q');
    expect(replies.join('')).toMatch(/^\x1bP>\|/);
    replies.length = 0;
    await feed(t, '\x1b]11;?\x07');
    expect(replies.join('')).toMatch(/^\x1b\]11;rgb:[0-9a-f/]+\x1b\\$/);
  });

  it('never lets OSC 52, title or other escapes into text or ansiLines', async () => {
    const t = make();
    await feed(
      t,
      '\x9b2Ja\x1b]52;c;ZXZpbA==\x07b\x1b]0;evil title\x07c\x1b]2;t2\x1b\\d\x1b[?1049h\x1b[?1049lX\x1b[31mY',
    );
    const lines = t.ansiLines();
    const joined = lines.join('\n');
    expect(t.text()[0]).toContain('abcd');
    expect(joined).not.toContain(']52');
    expect(joined).not.toContain('evil');
    expect(joined).not.toContain('ZXZpbA');
    expect(joined).not.toContain('\x07');
    expect(joined).not.toContain('\x9b');
    // Only SGR sequences remain.
    const escapes = joined.match(/\x1b[^a-zA-Z]*[a-zA-Z]?/g) ?? [];
    for (const e of escapes) expect(e).toMatch(/^\x1b\[[\d;]*m$/);
  });

  it('keeps memory bounded by scrollback under a 10 MB line without newline', async () => {
    const t = make(80, 24, { scrollback: 1000 });
    const chunk = Buffer.alloc(64 * 1024, 'x');
    for (let i = 0; i < 160; i++) {
      t.write(chunk);
      if (t.pending > 4 * 1024 * 1024) await t.whenIdle();
    }
    await t.whenIdle();
    expect(t.pending).toBe(0);
    expect(t.bufferLength).toBeLessThanOrEqual(1000 + 24);
    expect(t.text()[23]).toBe('x'.repeat(80));
  });

  it('counts bytes written but not parsed, and says when all are parsed', async () => {
    const t = make(80, 24);
    const chunk = Buffer.alloc(256 * 1024, 'y');
    for (let i = 0; i < 8; i++) t.write(chunk); // 2 MiB at once, nothing parsed yet
    expect(t.pending).toBe(8 * 256 * 1024);
    await t.whenIdle();
    expect(t.pending).toBe(0);
  });

  it('serializes the screen so another terminal redraws it', async () => {
    const t = make();
    await feed(t, 'line one\r\n\x1b[32mgreen\x1b[0m');
    const copy = make();
    await feed(copy, t.serialize());
    expect(copy.text()).toEqual(t.text());
    expect(copy.styled()).toEqual(t.styled());
  });

  it('resizes', async () => {
    const t = make(40, 6);
    t.resize(20, 3);
    expect(t.text()).toHaveLength(3);
    expect([t.cols, t.rows]).toEqual([20, 3]);
  });
});
