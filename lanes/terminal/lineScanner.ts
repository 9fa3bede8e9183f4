/** Escape sequences (CSI, OSC) removed before a line is matched. */
const ESCAPES = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)/g;
/** A partial line longer than this is cut (a 10 MB line without a newline stays bounded). */
const MAX_CARRY = 4096;
const LF = 0x0a;
const CR = 0x0d;
/** Characters that stand for themselves in a pattern's source (outside a class). */
const PLAIN = /[A-Za-z0-9 :_\-=<>@#%&'",/!~`]/;

/**
 * The text every match of `re` must contain, as UTF-8 bytes, or null when none can be read off
 * its source: the run of plain characters at its start (after `^`), without a last character a
 * quantifier applies to. /^LEARNING:\s*(.+)$/ gives "LEARNING:"; /[Dd]one/ or /x|y/ give null.
 */
export function requiredLiteral(re: RegExp): Buffer | null {
  const src = re.source;
  // case-insensitive, or a top-level alternative anywhere: the start is not required as written
  if (re.flags.includes('i') || src.includes('|')) return null;
  let i = src.startsWith('^') ? 1 : 0;
  let lit = '';
  for (; i < src.length; i++) {
    const c = src[i];
    if (c === '\\' && i + 1 < src.length && /[^A-Za-z0-9]/.test(src[i + 1])) {
      lit += src[++i];
      continue;
    }
    if (!PLAIN.test(c)) break;
    lit += c;
  }
  // /ab?/ needs only "a"; /ab{2}/ and /ab*/ likewise
  if (i < src.length && '?*{'.includes(src[i])) lit = lit.slice(0, -1);
  return lit.length >= 3 ? Buffer.from(lit) : null;
}

/**
 * Finds whole output lines that match any of the patterns (learning lines, handoff markers),
 * across chunk boundaries, with escape sequences removed. Runs in the emulator worker on every
 * byte of every lane, so lines are cut on the raw bytes and decoded only when one of them holds
 * a text every match needs (`requiredLiteral`): a flood costs a byte search, not a decode and
 * a regex per line. (So that text must come through without an escape sequence inside it.)
 */
export class LineScanner {
  /** the bytes after the last line end so far (at most MAX_CARRY) */
  private carry: Buffer = Buffer.alloc(0);
  /** one per pattern, or null when some pattern has none: then every line is decoded */
  private readonly literals: Buffer[] | null;

  constructor(private readonly patterns: RegExp[]) {
    const lits = patterns.map(requiredLiteral);
    this.literals = lits.every((l): l is Buffer => l !== null) ? lits : null;
  }

  /** The matching lines completed by this chunk, trimmed. */
  push(chunk: Uint8Array): string[] {
    if (this.patterns.length === 0) return [];
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const last = Math.max(bytes.lastIndexOf(LF), bytes.lastIndexOf(CR));
    if (last < 0) {
      const joined = this.carry.byteLength > 0 && bytes.byteLength < MAX_CARRY;
      this.carry = keepTail(joined ? Buffer.concat([this.carry, bytes]) : bytes);
      return [];
    }
    const head = bytes.subarray(0, last + 1);
    const carry = this.carry;
    this.carry = keepTail(bytes.subarray(last + 1));
    if (this.literals && !this.literals.some((l) => holds(carry, head, l))) return [];
    const done = carry.byteLength > 0 ? Buffer.concat([carry, head]) : head;
    const lines = done.toString('utf8').split(/\r?\n|\r(?!\n)/);
    lines.pop(); // what follows the last line end: nothing
    const found: string[] = [];
    for (const raw of lines) {
      const line = raw.replace(ESCAPES, '');
      if (this.patterns.some((p) => p.test(line))) found.push(line.trim());
    }
    return found;
  }
}

/** Whether `carry` then `head` hold `lit`, without copying `head` (a flood's batch can be 1 MiB). */
function holds(carry: Buffer, head: Buffer, lit: Buffer): boolean {
  if (head.includes(lit)) return true;
  if (carry.byteLength === 0) return false;
  if (carry.includes(lit)) return true;
  // across the join: the carry's last bytes and the head's first
  const n = lit.byteLength - 1;
  const seam = Buffer.concat([carry.subarray(Math.max(0, carry.byteLength - n)), head.subarray(0, n)]);
  return seam.includes(lit);
}

/** A copy of the last MAX_CARRY bytes (a copy: the chunk's buffer is reused or transferred). */
function keepTail(b: Buffer): Buffer {
  return Buffer.from(b.subarray(Math.max(0, b.byteLength - MAX_CARRY)));
}
