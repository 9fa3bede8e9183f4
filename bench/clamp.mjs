// The output clamp's cost (lanes/terminal/clamp.ts) against the emulator's own parse speed, on
// typical agent output (bench/flood.mjs's coloured lines with wide characters, and plain log
// text), fed in 4 KiB chunks as a pty delivers them:
//   clamp alone, xterm.js alone, and xterm.js behind the clamp (LaneTerminal's path).
// Also one hostile stream (ESC[9999999999S and friends between lines) through the clamped path.
// Usage: npm run build && node bench/clamp.mjs [MiB, default 16]   (a summary, then one JSON line)
import xtermHeadless from '@xterm/headless';
import { OutputClamp } from '../dist/lanes/terminal/clamp.js';

const { Terminal } = xtermHeadless;
const mib = Number(process.argv[2] ?? 16);
const CHUNK = 4096;

function coloured() {
  const lines = [];
  for (let i = 0; i < 1000; i++) {
    let line = `\x1b[3${i % 8}mline ${i} `;
    for (let j = 0; j < 12; j++) line += `\x1b[38;5;${(i + j) % 256};48;2;${j};${i % 256};9mab日本\x1b[1mcd`;
    lines.push(`${line}\x1b[0m\r\n`);
  }
  return Buffer.from(lines.join(''));
}

function plain() {
  const lines = [];
  for (let i = 0; i < 2000; i++)
    lines.push(`[${i}] src/lanes/file${i % 97}.ts: ok, 12 tests passed (${i % 13} ms)\r\n`);
  return Buffer.from(lines.join(''));
}

function hostile() {
  const seqs = ['\x1b[9999999999S', '\x1b[9999999999L', 'a\x1b[9999999999b', '\x1b[9999999999@', '\x1b[9999999999X'];
  const lines = [];
  for (let i = 0; i < 1000; i++) lines.push(`line ${i} ${seqs[i % seqs.length]}\r\n`);
  return Buffer.from(lines.join(''));
}

/** `block` repeated to `mib` MiB, cut in CHUNK-byte chunks. */
function chunks(block) {
  const total = mib * 1024 * 1024;
  const data = Buffer.alloc(total);
  for (let at = 0; at < total; at += block.length) block.copy(data, at, 0, Math.min(block.length, total - at));
  const out = [];
  for (let at = 0; at < total; at += CHUNK) out.push(data.subarray(at, Math.min(total, at + CHUNK)));
  return out;
}

const rate = (bytes, ms) => Math.round((bytes / 1024 / 1024 / (ms / 1000)) * 10) / 10;

function clampAlone(list) {
  const clamp = new OutputClamp({ cols: 120, rows: 40 });
  let bytes = 0;
  const t0 = performance.now();
  for (const c of list) bytes += clamp.push(c).length;
  return rate(bytes, performance.now() - t0);
}

async function emulator(list, withClamp) {
  const term = new Terminal({ cols: 120, rows: 40, scrollback: 200, allowProposedApi: true, logLevel: 'off' });
  const clamp = new OutputClamp({ cols: 120, rows: 40 });
  let bytes = 0;
  const t0 = performance.now();
  for (let i = 0; i < list.length; i++) {
    const data = withClamp ? clamp.push(list[i]) : list[i];
    bytes += list[i].length;
    // Wait every 2 MiB (xterm.js discards past 50 MB of backlog).
    if (i % 512 === 511) await new Promise((r) => term.write(data, r));
    else term.write(data);
  }
  await new Promise((r) => term.write('', r));
  const ms = performance.now() - t0;
  term.dispose();
  return rate(bytes, ms);
}

// The machine is small and shared: each figure is the best of ROUNDS runs, interleaved.
const ROUNDS = 5;
const result = { mib };
for (const [name, block] of [
  ['coloured', coloured()],
  ['plain', plain()],
]) {
  const list = chunks(block);
  clampAlone(list); // warm up
  let alone = 0;
  let xterm = 0;
  let both = 0;
  for (let r = 0; r < ROUNDS; r++) {
    alone = Math.max(alone, clampAlone(list));
    xterm = Math.max(xterm, await emulator(list, false));
    both = Math.max(both, await emulator(list, true));
  }
  result[name] = { clampMibps: alone, xtermMibps: xterm, xtermWithClampMibps: both };
  process.stdout.write(
    `${name}: clamp alone ${alone} MiB/s, xterm.js ${xterm} MiB/s, xterm.js behind the clamp ${both} MiB/s ` +
      `(the clamp costs ~${((xterm / alone) * 100).toFixed(1)}% of the parse time)\n`,
  );
}
const hostileList = chunks(hostile());
result.hostile = { xtermWithClampMibps: await emulator(hostileList, true) };
process.stdout.write(`hostile counts between lines, behind the clamp: ${result.hostile.xtermWithClampMibps} MiB/s\n`);
process.stdout.write(`${JSON.stringify(result)}\n`);
