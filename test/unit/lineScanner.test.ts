import { describe, expect, it, vi } from 'vitest';
import { LineScanner, requiredLiteral } from '../../lanes/terminal/lineScanner.js';

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

  it('reads the text every match needs off a pattern, or none when it cannot be sure', () => {
    const lit = (re: RegExp) => requiredLiteral(re)?.toString() ?? null;
    expect(lit(/^LEARNING:\s*(.+)$/)).toBe('LEARNING:');
    expect(lit(/^AO_HANDOFF\b/)).toBe('AO_HANDOFF');
    expect(lit(/^done\.$/)).toBe('done.');
    expect(lit(/^abcd?/)).toBe('abc');
    expect(lit(/^abcd*e/)).toBe('abc');
    expect(lit(/^ab/)).toBeNull(); // too short to be worth a search
    expect(lit(/^LEARNING:/i)).toBeNull();
    expect(lit(/^(done|finished)/)).toBeNull();
    expect(lit(/[Dd]one/)).toBeNull();
    expect(lit(/^DONE|^FINISHED/)).toBeNull();
  });

  it('finds lines the same whether a line end or the needed text is split between chunks', () => {
    const text = 'one\r\nLEARNING: split \x1b[1mhere\x1b[0m\r\nnoise LEARNING: not at start\r\nLEARNING: é\n';
    const bytes = Buffer.from(text);
    const whole = new LineScanner([/^LEARNING:\s*(.+)$/]).push(bytes);
    expect(whole).toEqual(['LEARNING: split here', 'LEARNING: é']);
    for (let cut = 1; cut < bytes.length; cut++) {
      const s = new LineScanner([/^LEARNING:\s*(.+)$/]);
      expect([...scan(s, bytes.subarray(0, cut)), ...scan(s, bytes.subarray(cut))]).toEqual(whole);
    }
  });

  it('still matches every line for a pattern without a needed text', () => {
    const s = new LineScanner([/^LEARNING:/, /(done|finished)$/]);
    expect(scan(s, 'a\nwe are fin')).toEqual([]);
    expect(scan(s, 'ished\r\nLEARNING: x\n')).toEqual(['we are finished', 'LEARNING: x']);
  });

  it('does not decode a flood that holds no needed text', () => {
    const s = new LineScanner([/^LEARNING:\s*(.+)$/]);
    const decode = vi.spyOn(Buffer.prototype, 'toString');
    try {
      for (let i = 0; i < 100; i++) expect(scan(s, `line ${i} of a build log\r\n`.repeat(50))).toEqual([]);
      expect(decode).not.toHaveBeenCalled();
      expect(scan(s, 'LEARNING: at last\n')).toEqual(['LEARNING: at last']);
      expect(decode).toHaveBeenCalled();
    } finally {
      decode.mockRestore();
    }
  });
});
