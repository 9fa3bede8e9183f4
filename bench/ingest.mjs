// One ingest measurement, run in its own process so RSS is its own:
//   node bench/ingest.mjs baseline <lanes> <mib>  bare node-pty, counting bytes only
//   node bench/ingest.mjs engine <lanes> <mib>    the engine: pty, emulator, state detection, SQLite recording
// Prints one JSON line: { mode, lanes, bytes, ms, mibps, peakRssMiB, rssAtQuarterMiB, rssAtEndMiB }.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [mode, lanesArg, mibArg] = process.argv.slice(2);
const lanes = Number(lanesArg ?? 8);
const mib = Number(mibArg ?? 32);
const flood = fileURLToPath(new URL('./flood.mjs', import.meta.url));
const expected = lanes * mib * 1024 * 1024;
const goDir = mkdtempSync(path.join(os.tmpdir(), 'ao-bench-go-'));
const goFile = path.join(goDir, 'go');
process.env.AO_BENCH_GO = goFile;
const startAll = () => {
  writeFileSync(goFile, '');
  return performance.now();
};

let peak = 0;
let rssAtQuarter = 0;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 50);

function report(bytes, ms, rssAtEnd) {
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const out = {
    mode,
    lanes,
    bytes,
    ms: Math.round(ms),
    mibps: Math.round((bytes / 1024 / 1024 / (ms / 1000)) * 10) / 10,
    peakRssMiB: Math.round(peak / 1024 / 1024),
    rssAtQuarterMiB: Math.round(rssAtQuarter / 1024 / 1024),
    rssAtEndMiB: Math.round(rssAtEnd / 1024 / 1024),
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

async function baseline() {
  const pty = await import('node-pty');
  let bytes = 0;
  let done = 0;
  let start = 0;
  await new Promise((resolve) => {
    for (let i = 0; i < lanes; i++) {
      const p = pty.spawn(process.execPath, [flood, String(mib)], {
        cols: 120,
        rows: 40,
        cwd: os.tmpdir(),
        encoding: null,
        env: process.env,
      });
      p.onData((d) => {
        bytes += d.length;
        if (!rssAtQuarter && bytes > expected / 4) rssAtQuarter = process.memoryUsage().rss;
      });
      p.onExit(() => {
        if (++done === lanes) resolve();
      });
    }
    setTimeout(() => (start = startAll()), 300);
  });
  report(bytes, performance.now() - start, process.memoryUsage().rss);
}

async function engine() {
  const { createSupervisor } = await import('../dist/lanes/supervisor/supervisor.js');
  const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'ao-bench-')));
  const git = (...args) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('-c', 'user.name=bench', '-c', 'user.email=bench@example.invalid', 'commit', '-q', '--allow-empty', '-m', 'init');
  mkdirSync(path.join(dir, '.ao', 'profiles'), { recursive: true });
  writeFileSync(path.join(dir, '.ao', 'config.json'), JSON.stringify({ maxConcurrentLanes: lanes }));
  writeFileSync(
    path.join(dir, '.ao', 'profiles', 'flood.json'),
    JSON.stringify({
      description: 'bench flood',
      command: '{node}',
      args: [flood, String(mib)],
      taskInput: 'none',
      envPassthrough: ['PATH', 'HOME', 'AO_BENCH_GO'],
      handoffOnExit: false,
      patterns: { busy: [], waitingInput: [] },
    }),
  );
  const sup = await createSupervisor({ repoRoot: dir, stateDir: path.join(dir, '.git', 'ao'), cols: 120, rows: 40 });
  let exited = 0;
  let lastExit = 0;
  const allExited = new Promise((resolve) => {
    sup.on((e) => {
      if (e.type === 'lane-exit' && ++exited === lanes) {
        lastExit = performance.now();
        resolve();
      }
    });
  });
  const quarter = setInterval(() => {
    const bytes = sup.listLanes().reduce((n, l) => n + l.outputBytes, 0);
    if (!rssAtQuarter && bytes > expected / 4) rssAtQuarter = process.memoryUsage().rss;
  }, 50);
  for (let i = 0; i < lanes; i++) await sup.newLane({ name: `flood-${i}`, profile: 'flood', task: '' });
  await new Promise((r) => setTimeout(r, 300));
  const first = startAll();
  await allExited;
  clearInterval(quarter);
  const bytes = sup.listLanes().reduce((n, l) => n + l.outputBytes, 0);
  const rssAtEnd = process.memoryUsage().rss;
  await sup.shutdown('bench over');
  report(bytes, lastExit - first, rssAtEnd);
  rmSync(dir, { recursive: true, force: true });
}
process.on('exit', () => rmSync(goDir, { recursive: true, force: true }));

await (mode === 'baseline' ? baseline() : engine());
process.exit(0);
