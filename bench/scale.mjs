// 100 lanes in one engine, mostly waiting, 10 flooding (issue "Cheaper per lane than tmux",
// target "Scale"), through the built binary (`npm run build` first):
//   lanes     1 echo lane (ptyLib's ECHO_SOURCE), FLOODS lanes running bench/flood.mjs (they
//             start together when the go file appears), the rest bench/waiting.mjs (an agent at
//             its prompt: ~20 lines once, then one status line a second)
//   idle      the engine alone with every lane up, no client: CPU and RSS
//   frames    a dashboard in a 120x40 pty, the first flooding lane focused (its screen redrawn
//             as it floods): Ink's render time of each frame, logged by the dashboard itself
//             (AO_FRAME_LOG, src/ui/runDashboard.tsx)
//   echo      the same dashboard attached to the echo lane: one key at a time, until its framed
//             echo comes back out of the dashboard's terminal; the bare-pty baseline in this run
//   engine    RSS sampled every 500 ms from start to stop (peak), CPU over the flooding window
// Targets: echo p99 < 20 ms, frame p99 < 50 ms, engine RSS < 600 MiB.
// Prints a readable report and, last, one JSON line. Knobs: AO_BENCH_SCALE_LANES (100),
// AO_BENCH_SCALE_FLOODS (10), AO_BENCH_ECHO_SAMPLES (200).
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  benchEnv,
  CLI,
  ECHO_SOURCE,
  execFileP,
  initRepo,
  log,
  measureEcho,
  ms,
  quitDashboard,
  sleep,
  spawnPty,
  stopEngine,
  summary,
  tempRepo,
  writeBenchProfile,
} from './ptyLib.mjs';

const FLOOD = fileURLToPath(new URL('./flood.mjs', import.meta.url));
const WAITING = fileURLToPath(new URL('./waiting.mjs', import.meta.url));
const LANES = Number(process.env.AO_BENCH_SCALE_LANES ?? 100);
const FLOODS = Number(process.env.AO_BENCH_SCALE_FLOODS ?? 10);
const SAMPLES = Number(process.env.AO_BENCH_ECHO_SAMPLES ?? 200);
const EMPTY_SECONDS = 4;
const IDLE_SECONDS = 8;
const FRAME_SECONDS = 12;
/** `new` requests at once while creating the lanes */
const CREATE_AT_ONCE = 4;
const TARGET = { echoP99Ms: 20, frameP99Ms: 50, rssMiB: 600 };
const TICK = 100; // USER_HZ on Linux

if (!existsSync(CLI)) {
  console.error(`bench/scale.mjs: ${CLI} is missing: run \`npm run build\` first`);
  process.exit(1);
}
if (!Number.isInteger(LANES) || !Number.isInteger(FLOODS) || FLOODS < 0 || LANES < FLOODS + 1) {
  console.error(
    `bench/scale.mjs: AO_BENCH_SCALE_LANES (${LANES}) must be an integer of at least AO_BENCH_SCALE_FLOODS (${FLOODS}) + 1 (the echo lane)`,
  );
  process.exit(1);
}
if (!Number.isInteger(SAMPLES) || SAMPLES < 1) {
  console.error(`bench/scale.mjs: AO_BENCH_ECHO_SAMPLES (${SAMPLES}) must be a positive integer`);
  process.exit(1);
}

/** CPU seconds used so far by the process (all its threads, not its children). */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
}
/** CPU seconds of each thread of the process, by thread id, with its name. */
function threadCpu(pid) {
  const out = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, { name, cpu: (Number(f[11]) + Number(f[12])) / TICK });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}
function rssMiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0; // the process is gone
  }
}
/** Every process under `pid` (children, theirs, ...). */
function descendants(pid) {
  const children = new Map();
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(p)]);
    } catch {
      // gone meanwhile
    }
  }
  const out = [];
  for (let todo = [pid]; todo.length > 0;) {
    const next = children.get(todo.pop()) ?? [];
    out.push(...next);
    todo.push(...next);
  }
  return out;
}
const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
const mib = (x) => `${Math.round(x)} MiB`;

const started = performance.now();
const work = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'ao-bench-scale-work-')));
const repo = tempRepo();
const goFile = path.join(work, 'go');
const frameFile = path.join(work, 'frames.log');
// the default state dir, named so the bench can reach the engine's socket itself
const stateDir = path.join(repo.dir, '.git', 'ao');
const env = benchEnv({ AO_BENCH_GO: goFile, AO_STATE_DIR: stateDir });
let dash = null;
let engineStarted = false;
let sampler = null;
const rss = { samples: [], peak: 0 };

let cleaned = null;
/** Kills the dashboard, stops the engine with every lane, removes the temp dirs: once, whatever failed. */
function cleanup() {
  cleaned ??= (async () => {
    if (sampler) clearInterval(sampler);
    if (dash && !dash.state.exited) dash.p.kill('SIGKILL');
    // flood lanes wait for the go file: let them start and be stopped with the rest, not hang
    if (existsSync(work)) writeFileSync(goFile, '');
    if (engineStarted) await stopEngine(repo.dir, env);
    rmSync(repo.dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  })();
  return cleaned;
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(sig, () => {
    console.error(`bench/scale.mjs: ${sig}: stopping the engine and removing the temp repo`);
    void cleanup().finally(() => process.exit(130));
  });

const results = { lanes: LANES, floods: FLOODS, samples: SAMPLES, loadAtStart: os.loadavg()[0] };
log(
  `   ${os.cpus().length} cores, Node ${process.version}, load average ${load()} at the start (other work on the machine slows every number)`,
);
log(
  `   ${LANES} lanes in one engine: 1 echo, ${FLOODS} flooding, ${LANES - FLOODS - 1} waiting at a prompt; dashboard 120x40`,
);
try {
  const echoScript = path.join(work, 'echo.mjs');
  writeFileSync(echoScript, ECHO_SOURCE);

  // the baseline: the echo program on a bare node-pty, measured in this run
  {
    const child = spawnPty(process.execPath, [echoScript], { cwd: work, env: benchEnv() });
    await child.waitFor('echo ready', 'the bare echo program');
    await measureEcho(child, 20); // warm-up
    results.echoBaseline = await measureEcho(child, SAMPLES);
    child.p.kill();
  }

  await initRepo(repo);
  mkdirSync(path.join(repo.dir, '.ao', 'profiles'), { recursive: true });
  writeFileSync(path.join(repo.dir, '.ao', 'config.json'), JSON.stringify({ maxConcurrentLanes: LANES }));
  writeBenchProfile(repo.dir, 'echo', 'bench echo', [echoScript]);
  // 100 GiB: more than any run writes; the engine's stop ends them
  writeBenchProfile(repo.dir, 'flood', 'bench flood', [FLOOD, '102400']);
  writeBenchProfile(repo.dir, 'waiting', 'bench agent waiting at its prompt', [WAITING]);

  const cli = (...args) => execFileP(process.execPath, [CLI, ...args], { cwd: repo.dir, env, timeout: 60_000 });
  engineStarted = true; // from here on, cleanup stops it (a start that failed half-way too)
  await cli('engine', 'start');
  const pid = JSON.parse((await cli('engine', 'status', '--json')).stdout).pid;
  if (!Number.isInteger(pid)) throw new Error('`engine status --json` named no pid');
  sampler = setInterval(() => {
    const r = rssMiB(pid);
    rss.samples.push(r);
    rss.peak = Math.max(rss.peak, r);
  }, 500);
  {
    const cpu0 = cpuSeconds(pid);
    await sleep(EMPTY_SECONDS * 1000);
    results.emptyEngineCpuPerSecond = (cpuSeconds(pid) - cpu0) / EMPTY_SECONDS;
  }
  results.rssEmptyMiB = rssMiB(pid);
  results.fdsEmpty = readdirSync(`/proc/${pid}/fd`).length;
  // the recorder worker starts with the engine, the emulator worker with the first lane
  const threadsWithoutLanes = new Set(threadCpu(pid).keys());

  // the lanes: a `new` request each on the control socket, through the client `ctl` uses (a
  // `ctl new` process each would add a node start, ~0.5 CPU-s, to every lane on a 2-core
  // machine), a few at a time; the echo lane alone first, so a dashboard selects it when it opens
  const { sendRequest } = await import('../dist/src/control/client.js');
  const request = async (req) => {
    const res = await sendRequest(stateDir, req);
    if (!res.ok) throw new Error(`${req.verb} ${req.name ?? ''}: ${res.error} (${res.code})`);
    return res.data;
  };
  const createStart = performance.now();
  const names = [];
  for (let i = 1; i <= FLOODS; i++) names.push(`flood-${i}`);
  for (let i = 1; names.length < LANES - 1; i++) names.push(`wait-${i}`);
  let created = 0;
  const create = async (name) => {
    const kind = name === 'echo' ? 'echo' : name.startsWith('flood-') ? 'flood' : 'waiting';
    await request({ verb: 'new', name, profile: kind, task: kind });
    if (++created % 10 === 0 || created === LANES)
      log(
        `   created ${String(created).padStart(3)}/${LANES} lanes (${((performance.now() - createStart) / 1000).toFixed(0)} s, engine RSS ${mib(rssMiB(pid))})`,
      );
  };
  await create('echo');
  const queue = [...names];
  await Promise.all(
    Array.from({ length: CREATE_AT_ONCE }, async () => {
      while (queue.length > 0) await create(queue.shift());
    }),
  );
  results.createSeconds = (performance.now() - createStart) / 1000;
  const status = async () => (await request({ verb: 'status' })).lanes ?? [];
  {
    const lanes = await status();
    const alive = lanes.filter((l) => l.alive).length;
    if (alive !== LANES)
      throw new Error(
        `${alive} of ${LANES} lanes are running after creation (states: ${[...new Set(lanes.map((l) => l.state))].join(', ')}); is maxConcurrentLanes ${LANES}?`,
      );
  }

  // the engine alone, every lane up and waiting (the floods wait for the go file)
  await sleep(2000);
  {
    const cpu0 = cpuSeconds(pid);
    await sleep(IDLE_SECONDS * 1000);
    results.idleEngineCpuPerSecond = (cpuSeconds(pid) - cpu0) / IDLE_SECONDS;
    results.rssIdleMiB = rssMiB(pid);
    results.fdsIdle = readdirSync(`/proc/${pid}/fd`).length;
    // the lanes' own processes: each lane's exit shim (sh) and its program (node here)
    const procs = descendants(pid);
    results.laneProcesses = procs.length;
    results.laneProcessesRssMiB = Math.round(procs.reduce((n, p) => n + rssMiB(p), 0));
  }

  // the dashboard, its frames logged; the first flooding lane focused, so its screen is drawn
  dash = spawnPty(process.execPath, [CLI], { cwd: repo.dir, env: { ...env, AO_FRAME_LOG: frameFile } });
  await dash.waitFor('? help', 'the dashboard footer', 60_000);
  await dash.waitFor('echo', 'the echo lane in the list', 30_000);
  await sleep(1500);
  if (FLOODS > 0) dash.p.write('j'); // lanes.next: from echo to flood-1

  // go: the floods start together
  const before = await status();
  const bytesOf = (lanes) =>
    lanes.filter((l) => l.name.startsWith('flood-')).reduce((n, l) => n + (l.outputBytes ?? 0), 0);
  const threads0 = threadCpu(pid);
  const engineCpu0 = cpuSeconds(pid);
  const dashCpu0 = cpuSeconds(dash.p.pid);
  writeFileSync(goFile, '');
  const windowStart = performance.now();
  if (FLOODS > 0) await dash.waitFor('function step', "the focused flood lane's output", 30_000);
  await sleep(1500);
  // frames: what the dashboard logs from now (its log is flushed once a second: the extra second
  // after the window is in the same set-up)
  const frameOffset = existsSync(frameFile) ? readFileSync(frameFile, 'utf8').length : 0;
  await sleep(FRAME_SECONDS * 1000);
  await sleep(1200);
  const frames = readFileSync(frameFile, 'utf8').slice(frameOffset).split('\n').filter(Boolean).map(Number);
  results.frame = summary(frames);

  // echo: back to the echo lane and attach
  if (FLOODS > 0) dash.p.write('k');
  await sleep(500);
  dash.p.write('\r'); // lane.attach on the selected lane
  await dash.waitFor('attached to echo', 'attach mode', 30_000);
  await dash.waitFor('echo ready', 'the echo lane screen', 30_000);
  await sleep(500);
  await measureEcho(dash, 20); // warm-up
  results.echoFlood = await measureEcho(dash, SAMPLES);

  const windowSeconds = (performance.now() - windowStart) / 1000;
  const engineCpu = cpuSeconds(pid) - engineCpu0;
  const dashCpu = cpuSeconds(dash.p.pid) - dashCpu0;
  const threads1 = threadCpu(pid);
  const after = await status();
  results.window = {
    seconds: +windowSeconds.toFixed(1),
    engineCpuPerSecond: +(engineCpu / windowSeconds).toFixed(2),
    dashboardCpuPerSecond: +(dashCpu / windowSeconds).toFixed(2),
    floodMibps: +((bytesOf(after) - bytesOf(before)) / 1024 / 1024 / windowSeconds).toFixed(1),
    // what the engine spends per MiB the floods write (its whole CPU over the window, the
    // waiting lanes' and the dashboard's share in it)
    engineCpuMsPerMib: +((engineCpu * 1000) / ((bytesOf(after) - bytesOf(before)) / 1024 / 1024)).toFixed(1),
    dashboardRssMiB: Math.round(rssMiB(dash.p.pid)),
    // the busiest threads of the engine over the window, CPU-s per second. Node names none of
    // them: the main thread is the one whose id is the pid's, and threads started with the
    // lanes (not there with the engine alone) hold the emulator worker
    threads: [...threads1]
      .map(([tid, t]) => ({
        tid,
        thread: String(tid) === String(pid) ? 'main' : threadsWithoutLanes.has(tid) ? 'other' : 'started with lanes',
        cpuPerSecond: (t.cpu - (threads0.get(tid)?.cpu ?? 0)) / windowSeconds,
      }))
      .sort((a, b) => b.cpuPerSecond - a.cpuPerSecond)
      .slice(0, 5)
      .map((t) => ({ ...t, cpuPerSecond: +t.cpuPerSecond.toFixed(2) })),
  };

  dash.p.write('\x1d'); // ctrl-]: detach
  await dash.waitFor('flood-1', 'the dashboard after detach', 30_000).catch(() => {});
  results.quit = await quitDashboard(dash);
  clearInterval(sampler);
  sampler = null;
  results.rssPeakMiB = rss.peak;
  const stopStart = performance.now();
  await stopEngine(repo.dir, env);
  engineStarted = false;
  results.stopSeconds = (performance.now() - stopStart) / 1000;
} catch (err) {
  results.error = err instanceof Error ? err.message : String(err);
  log(`   scale benchmark failed: ${results.error}`);
} finally {
  await cleanup();
}
results.rssPeakMiB ??= rss.peak || null;
results.seconds = Math.round((performance.now() - started) / 1000);
results.loadAtEnd = os.loadavg()[0];

const r = results;
const row = (label, s) =>
  log(
    `   ${label.padEnd(44)} p50 ${ms(s.p50).padStart(9)}   p99 ${ms(s.p99).padStart(9)}   max ${ms(s.max).padStart(9)}`,
  );
if (r.createSeconds !== undefined)
  log(
    `   ${LANES} lanes created in ${r.createSeconds.toFixed(0)} s (\`new\` on the socket, ${CREATE_AT_ONCE} at a time: ${((r.createSeconds / LANES) * 1000).toFixed(0)} ms a lane)`,
  );
if (r.rssIdleMiB !== undefined) {
  r.rssPerLaneMiB = (r.rssIdleMiB - r.rssEmptyMiB) / LANES;
  log(
    `   engine RSS: ${mib(r.rssEmptyMiB)} with no lane, ${mib(r.rssIdleMiB)} with ${LANES} up (${r.rssPerLaneMiB.toFixed(2)} MiB per lane), peak ${mib(r.rssPeakMiB)} while flooding`,
  );
  log(
    `   engine CPU, no client: ${r.emptyEngineCpuPerSecond.toFixed(3)} CPU-s per second with no lane, ${r.idleEngineCpuPerSecond.toFixed(3)} with ${LANES} up and the floods not started (${(((r.idleEngineCpuPerSecond - r.emptyEngineCpuPerSecond) / LANES) * 1000).toFixed(2)} ms per lane per second)`,
  );
  log(
    `   engine file descriptors: ${r.fdsEmpty} with no lane, ${r.fdsIdle} with ${LANES}; the lanes' ${r.laneProcesses} processes (shim and node each) ${mib(r.laneProcessesRssMiB)} RSS together`,
  );
}
if (r.echoBaseline) row('echo baseline: bare node-pty, nothing else', r.echoBaseline);
if (r.echoFlood) row(`echo, dashboard attached, ${FLOODS} lanes flooding`, r.echoFlood);
if (r.frame) {
  row(`dashboard frame (Ink render), ${FLOODS} flooding`, r.frame);
  log(`   (${r.frame.n} frames in ~${FRAME_SECONDS + 1} s, a flooding lane focused)`);
}
if (r.window) {
  const w = r.window;
  log(
    `   over the ${w.seconds} s flooding window: engine ${w.engineCpuPerSecond} CPU-s/s, dashboard ${w.dashboardCpuPerSecond} CPU-s/s (RSS ${w.dashboardRssMiB} MiB); the ${FLOODS} floods together ${w.floodMibps} MiB/s, ${w.engineCpuMsPerMib} engine CPU-ms per MiB`,
  );
  log(`   busiest engine threads (CPU-s/s): ${w.threads.map((t) => `${t.thread} ${t.cpuPerSecond}`).join(', ')}`);
}
if (r.quit) log(`   quit: ${r.quit}; engine stop with ${LANES} lanes: ${r.stopSeconds?.toFixed(1)} s`);
const verdict = (ok) => (ok ? 'reached' : 'NOT reached');
if (r.echoFlood && r.frame && r.rssPeakMiB)
  log(
    `   targets: echo p99 < ${TARGET.echoP99Ms} ms ${verdict(r.echoFlood.p99 < TARGET.echoP99Ms)}; frame p99 < ${TARGET.frameP99Ms} ms ${verdict(r.frame.p99 < TARGET.frameP99Ms)}; engine RSS < ${TARGET.rssMiB} MiB ${verdict(r.rssPeakMiB < TARGET.rssMiB)}`,
  );
log(`   the run took ${r.seconds} s; load average ${load()} at the end`);
log(JSON.stringify(r));
process.exit(r.error ? 1 : 0);
