import { describe, expect, it } from 'vitest';
import { LineScanner } from '../../lanes/terminal/lineScanner.js';

const scan = (s: LineScanner, text: string | Buffer) => s.push(typeof text === 'string' ? Buffer.from(text) : text);

describe('LineScanner', () => {
  it('finds matching lines across chunks, without escapes, only once they are complete', () => {
    const s = new LineScanner([/^LEARNING:\s*(.+)$/m]);
    expect(scan(s, 'noise\r\n\x1b[32mLEARN')).toEqual([]);
    expect(scan(s, 'ING:\x1b[0m run the tests fir')).toEqual([]);
    expect(scan(s, 'st\r\nother\n')).toEqual(['LEARNING: run the tests first']);
  });

  it('keeps UTF-8 split between chunks intact', () => {
    const s = new LineScanner([/^LEARNING: café$/]);
    const bytes = Buffer.from('LEARNING: café\n');
    const cut = bytes.indexOf(0xc3) + 1; // inside the two bytes of "é"
    expect(scan(s, bytes.subarray(0, cut))).toEqual([]);
    expect(scan(s, bytes.subarray(cut))).toEqual(['LEARNING: café']);
  });

  it('keeps memory bounded on a huge line without a newline', () => {
    const s = new LineScanner([/^x+$/]);
    for (let i = 0; i < 100; i++) scan(s, 'y'.repeat(100_000));
    expect(scan(s, '\nxx\n')).toEqual(['xx']);
  });

  it('does nothing without patterns', () => {
    expect(scan(new LineScanner([]), 'LEARNING: a\n')).toEqual([]);
  });
});
