/**
 * The emulator worker as the engine uses it: screens come back as snapshots, queries are
 * answered, keyframes are taken, and flow control pauses a producer that runs ahead.
 */
import { describe, expect, it } from 'vitest';
import { RemoteTerminal, transferable } from '../../lanes/terminal/remoteTerminal.js';

describe('RemoteTerminal (emulator worker)', () => {
  it('returns the parsed screen as text, styled runs and SGR-only lines', async () => {
    const term = new RemoteTerminal({ cols: 40, rows: 5 });
    term.write(Buffer.from('plain\r\n\x1b[31mred\x1b[0m \x1b]52;c;SGVsbG8=\x07\x1b]0;title\x07done'), 0, 0);
    await term.sync();
    expect(term.text()).toEqual(['plain', 'red done', '', '', '']);
    expect(term.lastLine()).toBe('red done');
    expect(term.styled()[1][0]).toMatchObject({ text: 'red', fg: 'p1' });
    expect(term.ansiLines().join('')).not.toMatch(/\x1b\]/);
    expect(term.cursor()).toMatchObject({ x: 8, y: 1 });
    term.dispose();
  });

  it('posts a screen only while someone looks at the lane (its facts always)', async () => {
    const term = new RemoteTerminal({ cols: 20, rows: 3, waitingPatterns: [/\[y\/n\]$/], busyPatterns: [/working/] });
    const wait = () => new Promise((r) => setTimeout(r, 300));
    term.write(Buffer.from('A'), 0, 0);
    await term.sync(); // a sync is always complete
    expect(term.lastLine()).toBe('A');
    term.write(Buffer.from('B working'), 1, 0);
    await wait();
    // nobody looks: the facts follow the output, no screen came
    expect(term.lastLine()).toBe('AB working');
    expect(term.matches).toEqual({ busy: true, waiting: false });
    term.write(Buffer.from('\r\nok? [y/n]'), 2, 0);
    await wait();
    expect(term.matches).toEqual({ busy: true, waiting: true });
    expect(term.snapshotsReceived).toBe(0);
    expect(term.styled()[0]).toEqual([{ text: 'A' }]); // the last sync's screen: this first look starts watching
    term.write(Buffer.from(' y'), 3, 0);
    await wait();
    expect(term.snapshotsReceived).toBeGreaterThan(0);
    expect(term.text()).toEqual(['AB working', 'ok? [y/n] y', '']);
    expect(term.styled()[1]).toEqual([{ text: 'ok? [y/n] y' }]);
    expect(term.matches).toEqual({ busy: true, waiting: false });
    term.dispose();
  });

  it('answers terminal queries (DA1, cursor position)', async () => {
    const term = new RemoteTerminal({ cols: 40, rows: 5 });
    const replies: string[] = [];
    term.onReply((d) => replies.push(d));
    term.write(Buffer.from('ab\x1b[c\x1b[6n'), 0, 0);
    await term.sync();
    await new Promise((r) => setTimeout(r, 50));
    expect(replies.join('')).toMatch(/\x1b\[\?[0-9;]*c/);
    expect(replies.join('')).toContain('\x1b[1;3R');
    term.dispose();
  });

  it('pauses a producer that runs ahead of the emulator and resumes it, losing nothing', async () => {
    const term = new RemoteTerminal({ cols: 80, rows: 24 });
    const events: boolean[] = [];
    term.onPressure((paused) => events.push(paused));
    const line = Buffer.from(`${'\x1b[32mx\x1b[0m'.repeat(70)}\r\n`);
    const chunk = Buffer.concat(Array.from({ length: 64 }, () => line));
    for (let i = 0; i < 200; i++) term.write(chunk, i, i);
    term.write(Buffer.from('THE END'), 200, 200);
    expect(events[0]).toBe(true);
    await term.sync();
    expect(term.pending).toBe(0);
    expect(events.at(-1)).toBe(false);
    expect(term.lastLine()).toBe('THE END');
    term.dispose();
  });

  it('takes the pty reads it is given as they are (transferred, not copied), and parses chunks that span them', async () => {
    const frames: { seq: number; data: string }[] = [];
    const term = new RemoteTerminal({ cols: 30, rows: 3, keyframe: (k) => frames.push(k) });
    // what a pty read is: a Buffer that is its own ArrayBuffer
    const read = (s: string) => {
      const b = Buffer.allocUnsafeSlow(Buffer.byteLength(s));
      b.write(s);
      return b;
    };
    const kept = Buffer.from('XXcolours: \x1b[32mgreen'); // a slice of Node's pool, still the caller's
    const first = read('hello, ');
    const second = read('wor');
    const third = read('ld\r\n');
    // chunk 7 spans two given reads and a kept slice; chunk 8 is a read of its own, split mid-sequence
    term.write([first, second, third, kept.subarray(2)], 7, 10, true);
    term.write([read('\x1b[0'), read('m!')], 8, 20, true);
    await term.sync();
    expect(term.text()).toEqual(['hello, world', 'colours: green!', '']);
    expect(term.styled()[1]).toEqual([{ text: 'colours: ' }, { text: 'green', fg: 'p2' }, { text: '!' }]);
    // the given reads went to the worker; the kept slice is untouched
    expect([first.length, second.length, third.length]).toEqual([0, 0, 0]);
    expect(kept.toString()).toBe('XXcolours: \x1b[32mgreen');
    // the keyframe after chunk 7 has all of it and nothing of chunk 8
    expect(frames[0].seq).toBe(7);
    expect(frames[0].data).toContain('world');
    expect(frames[0].data).not.toContain('!');
    term.dispose();
  });

  it('copies what it may not take: slices and buffers not given, each run of them into one part', () => {
    const whole = Buffer.allocUnsafeSlow(4).fill(1);
    const pooled = Buffer.from('ab');
    const slice = whole.subarray(1);
    const { parts, transfer } = transferable(
      [pooled, Buffer.from('cd'), whole, slice, whole],
      [true, true, true, true, false],
    );
    expect(parts.map((p) => Buffer.from(p).toString('hex'))).toEqual(['61626364', '01010101', '01010101010101']);
    expect(parts[1]).toBe(whole);
    expect(transfer).toEqual(parts.map((p) => p.buffer));
    expect(new Set(transfer).size).toBe(transfer.length);
    // the same buffer given twice: taken once, then copied (a transfer list may not repeat one)
    const twice = transferable([whole, whole], [true, true]);
    expect(twice.parts[0]).toBe(whole);
    expect(twice.parts[1]).not.toBe(whole);
    expect(twice.transfer).toEqual([whole.buffer, twice.parts[1].buffer]);
  });

  it('takes a replay keyframe after the first chunk of a run', async () => {
    const frames: { seq: number; data: string }[] = [];
    const term = new RemoteTerminal({ cols: 20, rows: 3, keyframe: (k) => frames.push(k) });
    term.write(Buffer.from('hello'), 7, 10);
    term.write(Buffer.from(' world'), 8, 20);
    await term.sync();
    expect(frames[0].seq).toBe(7);
    expect(frames[0].data).toContain('hello');
    expect(frames[0].data).not.toContain('world');
    term.dispose();
  });
});
