// Writes <mib> MiB of agent-like output (coloured status lines, code, a spinner) as fast as the
// pty takes it, then exits 0. Used by the benchmarks as the stand-in for a flooding agent.
import { existsSync, writeSync } from 'node:fs';

// All floods start together when the go file appears (so setup is not measured).
const go = process.env.AO_BENCH_GO;
if (go) while (!existsSync(go)) await new Promise((r) => setTimeout(r, 5));

const total = Number(process.argv[2] ?? '32') * 1024 * 1024;
const lines = [];
for (let i = 0; i < 500; i++) {
  if (i % 50 === 0) lines.push(`\x1b[1;36m● Editing src/module${i}.ts\x1b[0m\r\n`);
  else if (i % 7 === 0)
    lines.push(
      `\x1b[32m+\x1b[0m  const value${i} = compute(${i}, "some text that an agent prints"); // ${'x'.repeat(i % 40)}\r\n`,
    );
  else if (i % 11 === 0) lines.push(`\r\x1b[2K\x1b[33m⠋\x1b[0m Thinking… (esc to interrupt)`);
  else
    lines.push(
      `   ${i.toString().padStart(4)} │ function step${i}(input: string): string { return input.trim() + '${i}'; }\r\n`,
    );
}
const block = Buffer.from(lines.join(''));
let left = total;
while (left > 0) {
  const n = Math.min(left, block.length);
  let off = 0;
  while (off < n) {
    try {
      off += writeSync(1, block, off, n - off);
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err;
    }
  }
  left -= n;
}
process.exit(0);
