// `npm run bench`: every benchmark side by side with a baseline measured in the same run.
// The machine is small and noisy, so results are ratios against the baseline, never timings
// asserted in tests. Each measurement runs in its own process.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const run = (script, args) => {
  const out = execFileSync(process.execPath, [here(script), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').pop());
};
const log = (s) => process.stdout.write(s + '\n');

log('ao-console benchmarks (ratios against a baseline measured in the same run)\n');

log('1. ingest: 8 lanes flooding 32 MiB each');
const base1 = run('ingest.mjs', ['baseline', '8', '32']);
const eng = run('ingest.mjs', ['engine', '8', '32']);
const base2 = run('ingest.mjs', ['baseline', '8', '32']);
const baseMibps = (base1.mibps + base2.mibps) / 2;
log(`   bare node-pty, counting bytes: ${base1.mibps} / ${base2.mibps} MiB/s (mean ${baseMibps.toFixed(1)})`);
log(`   engine (pty + emulator + detection + SQLite): ${eng.mibps} MiB/s, ${eng.bytes} bytes recorded`);
log(`   ratio engine/baseline: ${(eng.mibps / baseMibps).toFixed(2)}x   (target >= 0.6x)\n`);

log('2. memory: 16 lanes writing 50 MiB each through the engine');
const mem = run('ingest.mjs', ['engine', '16', '50']);
log(
  `   peak RSS ${mem.peakRssMiB} MiB (target < 250 MiB); RSS after 1/4 of the output ${mem.rssAtQuarterMiB} MiB, at the end ${mem.rssAtEndMiB} MiB`,
);
log(
  `   growth from 1/4 to all of the output: ${mem.rssAtEndMiB - mem.rssAtQuarterMiB} MiB for ${((mem.bytes * 3) / 4 / 1024 / 1024).toFixed(0)} MiB more output\n`,
);

for (const [n, script, title] of [
  [3, 'echo.mjs', 'attach-mode keystroke echo while 7 lanes flood, and time to first frame'],
  [4, 'seek.mjs', 'replay seek in a 100 MB lane recording'],
  [5, 'clamp.mjs', 'the output clamp against the emulator parse speed'],
  [6, 'idle.mjs', 'lanes that wait: engine and dashboard CPU against a tmux server'],
]) {
  if (!existsSync(here(script))) continue;
  log(`${n}. ${title}`);
  execFileSync(process.execPath, [here(script)], { stdio: 'inherit' });
  log('');
}
