// `npm run bench`: every benchmark side by side with a baseline measured in the same run, then
// the targets of issue "Cheaper per lane than tmux" with each figure, its baseline, the ratio and
// PASS / FAIL. The machine is small and noisy, so results are ratios against the baseline, never
// timings asserted in tests. Each measurement runs in its own process.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const log = (s) => process.stdout.write(s + '\n');
/** Runs a benchmark script; prints what it says but its last line, which is JSON, returned. */
const run = (script, args = []) => {
  let out;
  try {
    out = execFileSync(process.execPath, [here(script), ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    // a benchmark that misses its own target exits 1 after its report: keep the report
    if (typeof err.stdout !== 'string' || !err.stdout.trim()) throw err;
    out = err.stdout;
  }
  const lines = out.trim().split('\n');
  const last = lines.pop();
  if (lines.length > 0) log(lines.join('\n'));
  return JSON.parse(last);
};
const started = Date.now();

log('ao-console benchmarks (ratios against a baseline measured in the same run)');
log(
  `machine: ${os.cpus().length} cores, Node ${process.version}, load average ${os.loadavg()[0].toFixed(1)} at the start\n`,
);

log('1. ingest: 8 lanes flooding 32 MiB each');
const base1 = run('ingest.mjs', ['baseline', '8', '32']);
const eng = run('ingest.mjs', ['engine', '8', '32']);
const base2 = run('ingest.mjs', ['baseline', '8', '32']);
const baseMibps = (base1.mibps + base2.mibps) / 2;
log(`   bare node-pty, counting bytes: ${base1.mibps} / ${base2.mibps} MiB/s (mean ${baseMibps.toFixed(1)})`);
log(`   engine (pty + emulator + detection + SQLite): ${eng.mibps} MiB/s, ${eng.bytes} bytes recorded`);
log(`   ratio engine/baseline: ${(eng.mibps / baseMibps).toFixed(2)}x\n`);

log('2. memory: 16 lanes writing 50 MiB each through the engine');
const mem = run('ingest.mjs', ['engine', '16', '50']);
log(
  `   peak RSS ${mem.peakRssMiB} MiB; RSS after 1/4 of the output ${mem.rssAtQuarterMiB} MiB, at the end ${mem.rssAtEndMiB} MiB`,
);
log(
  `   growth from 1/4 to all of the output: ${mem.rssAtEndMiB - mem.rssAtQuarterMiB} MiB for ${((mem.bytes * 3) / 4 / 1024 / 1024).toFixed(0)} MiB more output\n`,
);

log('3. attach-mode keystroke echo while 7 lanes flood, and time to first frame');
const echo = run('echo.mjs');
log('\n4. replay seek in a 100 MB lane recording');
const seek = run('seek.mjs');
log(`   seek p50 ${seek.p50Ms} ms, p95 ${seek.p95Ms} ms, max ${seek.maxMs} ms (target max < ${seek.targetMs} ms)`);
log('\n5. the output clamp against the emulator parse speed');
run('clamp.mjs');
log('\n6. lanes that wait: engine and dashboard CPU against a tmux server');
const idle = run('idle.mjs');
log('\n7. flood: 8 lanes each cat a 20 MiB file, against tmux');
const race = run('floodRace.mjs');
log('\n8. scale: 100 lanes in one engine, 10 flooding, 89 waiting at a prompt, a dashboard attached');
const scale = run('scale.mjs');

// ------------------------------------------------------------------ the targets
const rows = [];
/** `better`: 'lower' means figure/baseline must be at most `limit`; 'higher' at least. */
const target = (name, figure, baseline, ratio, limit, pass) =>
  rows.push({ name, figure, baseline, ratio, limit, verdict: pass === null ? 'n/a' : pass ? 'PASS' : 'FAIL' });
const x = (r) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : 'n/a');
const cpu = (s) => `${s} CPU-s`;
const idleRatio = idle.engineAlone / idle.tmux.cpu;
target(
  `idle: engine, no client (16 spinners, ${idle.warmup} s on)`,
  cpu(idle.engineAlone),
  `tmux ${cpu(idle.tmux.cpu)}`,
  x(idleRatio),
  '<= 1.0x',
  idleRatio <= 1.0,
);
const withDash = idle.engineWithDashboard + idle.dashboard;
const dashRatio = withDash / idle.tmux.withClient;
target(
  `idle: engine + 1 dashboard (${idle.warmup} s on)`,
  cpu(withDash.toFixed(2)),
  `tmux + client ${cpu(idle.tmux.withClient)}`,
  x(dashRatio),
  '<= 1.5x',
  dashRatio <= 1.5,
);
const rss = idle.engineWithDashboardRss + idle.dashboardRss;
target('idle: RSS of engine + dashboard', `${rss} MiB`, '-', '-', '< 200 MiB', rss < 200);
const raceRatio = race.tmux / race.engine;
target(
  'flood: 8 x cat 20 MiB, speed',
  `${race.engine.toFixed(2)} s`,
  `tmux ${race.tmux.toFixed(2)} s`,
  x(raceRatio),
  '>= 1.2x',
  raceRatio >= 1.2,
);
target('flood: recordings byte-exact', `${race.exact}/${race.lanes}`, '-', '-', 'all', race.exact === race.lanes);
const floodEcho = echo.echo?.dashboardFlood?.p99;
target(
  'flood: keystroke echo p99 (7 floods, attached)',
  floodEcho === undefined ? 'n/a' : `${floodEcho.toFixed(1)} ms`,
  echo.echo ? `bare pty ${echo.echo.baseline.p99.toFixed(1)} ms` : '-',
  '-',
  '< 50 ms',
  floodEcho === undefined ? false : floodEcho < 50,
);
const ingestRatio = eng.mibps / baseMibps;
target(
  'ingest: engine bytes/s',
  `${eng.mibps} MiB/s`,
  `node-pty ${baseMibps.toFixed(1)} MiB/s`,
  x(ingestRatio),
  '>= 0.6x',
  ingestRatio >= 0.6,
);
const frame = echo.frame?.median;
target(
  'startup: first dashboard frame',
  frame === undefined ? 'n/a' : `${frame.toFixed(0)} ms`,
  echo.frame ? `node -e ${echo.frame.nodeMedian.toFixed(0)} ms` : '-',
  '-',
  '< 400 ms',
  frame === undefined ? false : frame < 400,
);
const amp = idle.diskWrittenBytes / idle.outputBytes;
target(
  'disk: bytes written / bytes stored (idle)',
  `${(idle.diskWrittenBytes / 1048576).toFixed(1)} MiB`,
  `${(idle.outputBytes / 1048576).toFixed(1)} MiB output`,
  x(amp),
  '<= 1.2x',
  amp <= 1.2,
);
const store = idle.storeGrowthBytes / idle.outputBytes;
target(
  'disk: store growth / raw output (spinners)',
  `${(idle.storeGrowthBytes / 1048576).toFixed(1)} MiB`,
  `${(idle.outputBytes / 1048576).toFixed(1)} MiB output`,
  x(store),
  '<= 0.25x',
  store <= 0.25,
);
// three checks, one row: it passes only when all three do
const scaled = scale.echoFlood && scale.frame && scale.rssPeakMiB;
target(
  `scale: ${scale.lanes} lanes (${scale.floods} flooding)`,
  scaled
    ? `echo p99 ${scale.echoFlood.p99.toFixed(1)} ms, frame p99 ${scale.frame.p99.toFixed(1)} ms, RSS ${Math.round(scale.rssPeakMiB)} MiB`
    : `failed: ${scale.error ?? 'no figures'}`,
  scale.echoBaseline ? `bare pty echo p99 ${scale.echoBaseline.p99.toFixed(1)} ms` : '-',
  '-',
  'echo p99 < 20 ms, frame p99 < 50 ms, RSS < 600 MiB',
  !!scaled && scale.echoFlood.p99 < 20 && scale.frame.p99 < 50 && scale.rssPeakMiB < 600,
);

log('\nTargets (issue "Cheaper per lane than tmux"):');
const cols = ['name', 'figure', 'baseline', 'ratio', 'limit', 'verdict'];
const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
log('   ' + cols.map((c, i) => c.padEnd(width[i])).join('  '));
for (const r of rows) log('   ' + cols.map((c, i) => String(r[c]).padEnd(width[i])).join('  '));
log(
  `\n${rows.filter((r) => r.verdict === 'PASS').length}/${rows.length} targets met; the run took ${Math.round((Date.now() - started) / 1000)} s`,
);
