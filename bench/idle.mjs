// The cost of lanes that mostly wait (issue "cheaper per lane than tmux"): 16 lanes whose
// programs redraw a spinner and a 20-row box at 10 fps (bench/spinner.mjs), for SECONDS seconds
// once they have run WARMUP seconds (at least SECONDS: the first SECONDS are measured too and
// printed in brackets). CPU is read from /proc (utime + stime of the process and its threads,
// not of its children):
//   tmux       a tmux server with the 16 programs in 16 windows (the baseline), then the same
//              server with one client attached (120x40) showing one window: server + client CPU
//   engine     the ao-console engine (`serve --background`) with the 16 programs as lanes, no dashboard
//   engine+1   the same engine with one dashboard open (120x40), and that dashboard's own CPU
// Disk: the engine's bytes written to disk (/proc/<pid>/io write_bytes) and its store's growth
// (ao.db's pages, the WAL's included) over the engine-alone window, against the output bytes recorded then.
// Prints a readable report and, last, one JSON line. Needs `npm run build` first.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'dist', 'src', 'cli.js');
const SPINNER = fileURLToPath(new URL('./spinner.mjs', import.meta.url));
const LANES = Number(process.env.AO_BENCH_IDLE_LANES ?? 16);
const SECONDS = Number(process.env.AO_BENCH_IDLE_SECONDS ?? 20);
// Operators keep the console open all day: its idle cost is what it costs once V8 has compiled
// its hot code. The first SECONDS after the lanes start (or the dashboard opens) are measured
// and printed too; the figures the targets use are taken after WARMUP seconds (in the engine's
// first 20 s its V8 helper threads spend ~0.4-0.8 CPU-s compiling: docs/performance.md).
const WARMUP = Number(process.env.AO_BENCH_IDLE_WARMUP ?? 40);
const TICK = 100; // USER_HZ on Linux
const log = (s = '') => process.stdout.write(s + '\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (!existsSync(CLI)) {
  console.error(`bench/idle.mjs: ${CLI} is missing: run \`npm run build\` first`);
  process.exit(1);
}

/** CPU seconds used so far by the process (all its threads, not its children). */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
}
function writeBytes(pid) {
  const m = /^write_bytes:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  return m ? Number(m[1]) : 0;
}
function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}
/** CPU seconds each pid uses over the next SECONDS seconds. */
async function measure(pids) {
  const before = pids.map(cpuSeconds);
  await sleep(SECONDS * 1000);
  return pids.map((p, i) => +(cpuSeconds(p) - before[i]).toFixed(2));
}

async function tmuxBaseline() {
  const socket = `ao-bench-${process.pid}`;
  const tmux = (...args) => execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  tmux('new-session', '-d', '-s', 'b', '-x', '120', '-y', '40', process.execPath, SPINNER);
  for (let i = 1; i < LANES; i++) tmux('new-window', '-t', 'b', process.execPath, SPINNER);
  const pid = Number(tmux('display', '-p', '#{pid}').trim());
  await sleep(2000);
  const [cpu] = await measure([pid]);
  const rss = rssMiB(pid);
  // one client attached, showing the first window (as an operator watching one agent)
  tmux('select-window', '-t', 'b:0');
  const pty = await import('node-pty');
  const client = pty.spawn('tmux', ['-L', socket, '-f', '/dev/null', 'attach', '-t', 'b'], {
    cols: 120,
    rows: 40,
    name: 'xterm-256color',
    env: { ...process.env, TMUX: '' },
  });
  client.onData(() => {});
  await sleep(2000);
  const [serverWithClient, clientCpu] = await measure([pid, client.pid]);
  client.kill('SIGKILL');
  tmux('kill-server');
  return { cpu, rss, withClient: +(serverWithClient + clientCpu).toFixed(2), serverWithClient, client: clientCpu };
}

async function engineRun() {
  const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'ao-bench-idle-')));
  const env = { ...process.env, AO_STATE_DIR: path.join(dir, '.git', 'ao'), NODE_ENV: process.env.NODE_ENV ?? '' };
  const git = (...args) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('config', 'user.name', 'bench');
  git('config', 'user.email', 'bench@example.invalid');
  mkdirSync(path.join(dir, '.ao', 'profiles'), { recursive: true });
  writeFileSync(
    path.join(dir, '.ao', 'profiles', 'spinner.json'),
    JSON.stringify({ description: 'bench spinner', command: process.execPath, args: [SPINNER], taskInput: 'none' }),
  );
  writeFileSync(path.join(dir, '.ao', 'config.json'), JSON.stringify({ maxConcurrentLanes: LANES }));
  writeFileSync(path.join(dir, 'README.md'), '# bench\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'bench');
  const cli = (...args) => execFileSync(process.execPath, [CLI, ...args], { cwd: dir, env, encoding: 'utf8' });
  const result = {};
  try {
    cli('engine', 'start');
    const status = JSON.parse(cli('engine', 'status', '--json'));
    const pid = status.pid;
    for (let i = 0; i < LANES; i++) cli('ctl', 'new', '--name', `s${i}`, '--profile', 'spinner', '--task', 'spin');
    await sleep(3000);
    const db = path.join(dir, '.git', 'ao', 'ao.db');
    const { default: Database } = await import('better-sqlite3');
    const reader = new Database(db, { readonly: true, fileMustExist: true });
    const recorded = reader.prepare('SELECT coalesce(sum(coalesce(raw_len, length(data))), 0) AS n FROM output_chunks');
    const lanesBytes = () => recorded.get().n;
    // the store's size as its pages hold it (the WAL file grows to a checkpoint and is reused)
    const pages = () => reader.pragma('page_count', { simple: true }) * reader.pragma('page_size', { simple: true });
    [result.engineFirst] = await measure([pid]);
    await sleep(Math.max(0, WARMUP - SECONDS) * 1000);
    const out0 = lanesBytes();
    const disk0 = writeBytes(pid);
    const store0 = pages();
    [result.engineAlone] = await measure([pid]);
    result.engineAloneRss = rssMiB(pid);
    result.outputBytes = lanesBytes() - out0;
    result.diskWrittenBytes = writeBytes(pid) - disk0;
    result.storeGrowthBytes = pages() - store0;
    reader.close();

    const pty = await import('node-pty');
    const dash = pty.spawn(process.execPath, [CLI], { cwd: dir, env, cols: 120, rows: 40, name: 'xterm-256color' });
    let screen = '';
    dash.onData((d) => (screen = (screen + d).slice(-20000)));
    for (let i = 0; i < 100 && !screen.includes('ao-console'); i++) await sleep(100);
    await sleep(2000);
    [result.engineWithDashboardFirst, result.dashboardFirst] = await measure([pid, dash.pid]);
    await sleep(Math.max(0, WARMUP - SECONDS) * 1000);
    [result.engineWithDashboard, result.dashboard] = await measure([pid, dash.pid]);
    result.dashboardRss = rssMiB(dash.pid);
    result.engineWithDashboardRss = rssMiB(pid);
    dash.kill('SIGKILL');
  } finally {
    try {
      cli('engine', 'stop', '--yes');
    } catch (err) {
      console.error(`bench/idle.mjs: engine stop failed: ${err.message}`);
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

const tmux = await tmuxBaseline();
const eng = await engineRun();
const ratio = (x) => (tmux.cpu > 0 ? (x / tmux.cpu).toFixed(1) : 'n/a');
log(
  `   ${LANES} lanes redrawing a spinner and a 20-row box at 10 fps, CPU-seconds per ${SECONDS} s ` +
    `(ao-console after ${WARMUP} s; its first ${SECONDS} s in brackets):`,
);
log(`   tmux server (baseline):          ${tmux.cpu} CPU-s, RSS ${tmux.rss} MiB`);
log(
  `   tmux server + 1 attached client: ${tmux.withClient} CPU-s (server ${tmux.serverWithClient}, client ${tmux.client})`,
);
log(
  `   engine, no dashboard:            ${eng.engineAlone} CPU-s (${ratio(eng.engineAlone)}x tmux), RSS ${eng.engineAloneRss} MiB [${eng.engineFirst}]`,
);
log(
  `   engine, one dashboard open:      ${eng.engineWithDashboard} CPU-s (${ratio(eng.engineWithDashboard)}x tmux), RSS ${eng.engineWithDashboardRss} MiB [${eng.engineWithDashboardFirst}]`,
);
log(
  `   the dashboard itself:            ${eng.dashboard} CPU-s (${ratio(eng.dashboard)}x tmux), RSS ${eng.dashboardRss} MiB [${eng.dashboardFirst}]`,
);
const mib = (b) => (b / 1024 / 1024).toFixed(1);
log(
  `   disk, engine alone: ${mib(eng.diskWrittenBytes)} MiB written for ${mib(eng.outputBytes)} MiB of lane output ` +
    `(${(eng.diskWrittenBytes / eng.outputBytes).toFixed(2)}x); the store grew ${mib(eng.storeGrowthBytes)} MiB ` +
    `(${(eng.storeGrowthBytes / eng.outputBytes).toFixed(2)}x of the output)`,
);
log(JSON.stringify({ lanes: LANES, seconds: SECONDS, warmup: WARMUP, tmux, ...eng }));
