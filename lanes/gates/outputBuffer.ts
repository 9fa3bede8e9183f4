/**
 * A bounded output buffer that keeps the head and the tail of a stream and counts what it cut:
 * a failing test run's first lines (what ran) and last lines (the summary) are what matter.
 */
export const DEFAULT_OUTPUT_LIMIT = 64 * 1024;

export class HeadTailBuffer {
  private head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private total = 0;
  private readonly headLimit: number;
  private readonly tailLimit: number;

  constructor(limit = DEFAULT_OUTPUT_LIMIT) {
    this.headLimit = Math.floor(limit / 2);
    this.tailLimit = limit - this.headLimit;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    let rest = chunk;
    if (this.headBytes < this.headLimit) {
      const take = Math.min(this.headLimit - this.headBytes, rest.length);
      this.head.push(rest.subarray(0, take));
      this.headBytes += take;
      rest = rest.subarray(take);
    }
    if (rest.length === 0) return;
    this.tail.push(rest);
    this.tailBytes += rest.length;
    while (this.tail.length > 1 && this.tailBytes - this.tail[0].length >= this.tailLimit) {
      this.tailBytes -= this.tail[0].length;
      this.tail.shift();
    }
  }

  /** bytes seen in total */
  get size(): number {
    return this.total;
  }

  toString(): string {
    const head = Buffer.concat(this.head).toString('utf8');
    let tail = Buffer.concat(this.tail);
    if (tail.length > this.tailLimit) tail = tail.subarray(tail.length - this.tailLimit);
    const cut = this.total - this.headBytes - tail.length;
    if (cut <= 0) return head + tail.toString('utf8');
    return `${head}\n… ${cut} bytes cut …\n${tail.toString('utf8')}`;
  }
}
