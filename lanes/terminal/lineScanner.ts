import { StringDecoder } from 'node:string_decoder';

/** Escape sequences (CSI, OSC) removed before a line is matched. */
const ESCAPES = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)/g;
/** A partial line longer than this is cut (a 10 MB line without a newline stays bounded). */
const MAX_CARRY = 4096;

/**
 * Finds whole output lines that match any of the patterns (learning lines, handoff markers),
 * across chunk boundaries, with escape sequences removed. Runs in the emulator worker.
 */
export class LineScanner {
  private readonly decoder = new StringDecoder('utf8');
  private carry = '';

  constructor(private readonly patterns: RegExp[]) {}

  /** The matching lines completed by this chunk, trimmed. */
  push(chunk: Uint8Array): string[] {
    if (this.patterns.length === 0) return [];
    const text = this.carry + this.decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    const lines = text.split(/\r?\n|\r(?!\n)/);
    this.carry = (lines.pop() ?? '').slice(-MAX_CARRY);
    const found: string[] = [];
    for (const raw of lines) {
      const line = raw.replace(ESCAPES, '');
      if (this.patterns.some((p) => p.test(line))) found.push(line.trim());
    }
    return found;
  }
}
