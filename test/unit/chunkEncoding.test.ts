/**
 * Recorded output is stored compressed where that pays (lanes/store/output.ts encodeChunk) and
 * always reads back as the exact bytes.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ENC_DEFLATE, ENC_RAW, decodeChunk, deflateBufferBytes, encodeChunk } from '../../lanes/store/output.js';

const spinnerFrame = (n: number) => {
  let out = `\x1b[1;1H\x1b[36m${'⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏'[n % 10]}\x1b[0m Thinking… (${(n / 10).toFixed(1)}s · esc to interrupt)\x1b[K`;
  out += '\x1b[3;1H╭' + '─'.repeat(58) + '╮';
  for (let r = 0; r < 18; r++) out += `\x1b[${4 + r};1H│ ${`row ${r} ${r === n % 18 ? '●' : '○'}`.padEnd(56)} │`;
  return Buffer.from(out);
};

describe('output chunk encoding', () => {
  it('deflates a spinner frame to under a fifth and reads back every byte', () => {
    const frame = spinnerFrame(7);
    const stored = encodeChunk(frame);
    expect(stored.enc).toBe(ENC_DEFLATE);
    expect(stored.rawLen).toBe(frame.length);
    expect(stored.data.byteLength).toBeLessThan(frame.length / 5);
    expect(decodeChunk(stored.enc, Buffer.from(stored.data)).equals(frame)).toBe(true);
  });

  it("leaves no 16 KiB output buffer behind per chunk (zlib's default): 64 frames allocate under 256 KiB", () => {
    const frames = Array.from({ length: 64 }, (_, i) => spinnerFrame(i));
    const before = process.memoryUsage().arrayBuffers;
    const kept = frames.map((f) => encodeChunk(f));
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(kept.every((k) => k.enc === ENC_DEFLATE)).toBe(true);
    expect(grown).toBeLessThan(256 * 1024);
  });

  it('deflates chunks of every size, from the smallest compressed to 1 MiB, back to the same bytes', () => {
    expect(deflateBufferBytes(96)).toBe(72);
    expect(deflateBufferBytes(10)).toBe(64);
    expect(deflateBufferBytes(4 << 20)).toBe(64 * 1024);
    for (const size of [96, 97, 200, 4095, 4096, 65_536, 87_382, 1 << 20]) {
      // text that deflates, some of it to just under the ratio, some well under
      const data = Buffer.alloc(size);
      for (let i = 0; i < size; i++) data[i] = i % 7 === 0 ? (i * 2654435761) >>> 24 : 97 + (i % 5);
      const stored = encodeChunk(data);
      expect(decodeChunk(stored.enc, Buffer.from(stored.data)).equals(data), `size ${size}`).toBe(true);
    }
    const big = Buffer.from('abc'.repeat(400_000));
    const stored = encodeChunk(big);
    expect(stored.enc).toBe(ENC_DEFLATE);
    expect(decodeChunk(stored.enc, Buffer.from(stored.data)).equals(big)).toBe(true);
  });

  it('keeps small and incompressible chunks as they are', () => {
    for (const data of [Buffer.from('\x1b[?25l'), randomBytes(4096)]) {
      const stored = encodeChunk(data);
      expect(stored.enc).toBe(ENC_RAW);
      expect(stored.rawLen).toBeNull();
      expect(Buffer.from(stored.data).equals(data)).toBe(true);
      expect(decodeChunk(stored.enc, Buffer.from(stored.data)).equals(data)).toBe(true);
    }
  });

  it('round-trips invalid UTF-8, NULs and every byte value', () => {
    const data = Buffer.concat([
      Buffer.alloc(300, 0),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from(Array.from({ length: 256 }, (_, i) => i)).fill(0x41, 0, 100),
    ]);
    const stored = encodeChunk(data);
    expect(decodeChunk(stored.enc, Buffer.from(stored.data)).equals(data)).toBe(true);
  });

  it('says which chunk cannot be decoded, and refuses an unknown encoding', () => {
    expect(() => decodeChunk(ENC_DEFLATE, Buffer.from([0xff, 0xff, 0xff]), 'lane 3 output chunk 9')).toThrow(
      /lane 3 output chunk 9: stored compressed, cannot be decoded/,
    );
    expect(() => decodeChunk(7, Buffer.from('x'), 'lane 3 output chunk 9')).toThrow(/unknown encoding 7/);
  });
});
