// Attach-mode keystroke echo and time to first frame, through the built binary (`npm run build`
// first; `node bench/echo.mjs` runs alone, `npm run bench` runs it after the ingest benchmarks).
//
// 1. echo: one key at a time goes into the operator's terminal and we time until the lane's
//    echo of it comes back out of that terminal. Three set-ups, the same echo program in each:
//      baseline   the echo program on a bare node-pty, nothing else running
//      dashboard  `ao-console` in a pty, attached to the echo lane, no other lane busy
//      + 7 floods the same, while 7 other lanes flood output as fast as the engine takes it
//    The echo program puts raw-mode stdin back out framed as <<x>>, so a match is its echo and
//    nothing else on the screen.
// 2. first frame: from spawning `node dist/src/cli.js` in a pty until the dashboard header is
//    on its screen; the median of several runs, next to `node -e` printing one line.
//
// Prints a readable report; the machine is small and shared, so read the numbers as what this
// run reached, not as a promise. Nothing here is faked: a set-up that fails says so.
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
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
  quantile,
  quitDashboard,
  sleep,
  spawnPty,
  stopEngine,
  tempRepo,
  writeBenchProfile,
} from './ptyLib.mjs';

const FLOOD = fileURLToPath(new URL('./flood.mjs', import.meta.url));
const SAMPLES = Number(process.env.AO_BENCH_ECHO_SAMPLES ?? 200);
const FIRST_FRAME_RUNS = Number(process.env.AO_BENCH_FIRST_FRAME_RUNS ?? 7);
const FLOOD_LANES = 7;

if (!existsSync(CLI)) {
  console.error(`bench/echo.mjs: ${CLI} is missing: run \`npm run build\` first`);
  process.exit(1);
}

async function echoBenchmarks() {
  const work = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'ao-bench-echo-work-')));
  const echoScript = path.join(work, 'echo.mjs');
  writeFileSync(echoScript, ECHO_SOURCE);
  const results = {};
  try {
    // baseline: the echo program on a bare node-pty, nothing else running
    {
      const child = spawnPty(process.execPath, [echoScript], { cwd: work, env: benchEnv() });
      await child.waitFor('echo ready', 'the bare echo program');
      await measureEcho(child, 20); // warm-up
      results.baseline = await measureEcho(child, SAMPLES);
      child.p.kill();
    }

    // the dashboard, attached to an echo lane, with 7 flood lanes waiting for the go file
    const repo = tempRepo();
    await initRepo(repo);
    const goFile = path.join(work, 'go');
    mkdirSync(path.join(repo.dir, '.ao', 'profiles'), { recursive: true });
    writeFileSync(path.join(repo.dir, '.ao', 'config.json'), JSON.stringify({ maxConcurrentLanes: FLOOD_LANES + 1 }));
    // 100 GiB: more than any run writes; the lanes are stopped at quit
    writeBenchProfile(repo.dir, 'flood', 'bench flood', [FLOOD, '102400']);
    writeBenchProfile(repo.dir, 'echo', 'bench echo', [echoScript]);
    const env = benchEnv({ AO_BENCH_GO: goFile });
    const child = spawnPty(process.execPath, [CLI], { cwd: repo.dir, env });
    try {
      // the live dashboard (its footer), not just the first frame: the console listens by then
      await child.waitFor('? help', 'the dashboard footer', 60_000);
      const ctl = (...args) =>
        execFileP(process.execPath, [CLI, 'ctl', ...args], { cwd: repo.dir, env, timeout: 60_000 });
      // the echo lane first, so it is the selected one
      await ctl('new', '--name', 'echo', '--profile', 'echo', '--task', 'echo keys');
      for (let i = 1; i <= FLOOD_LANES; i++)
        await ctl('new', '--name', `flood-${i}`, '--profile', 'flood', '--task', 'flood');
      await child.waitFor(`flood-${FLOOD_LANES}`, 'the flood lanes in the list', 30_000);
      await sleep(1000);
      child.p.write('\r'); // lane.attach on the selected (first) lane
      await child.waitFor('attached to echo', 'attach mode', 15_000);
      await child.waitFor('echo ready', 'the echo lane screen', 15_000);
      await sleep(500);
      await measureEcho(child, 20); // warm-up
      results.dashboardIdle = await measureEcho(child, SAMPLES);

      // go: the floods start together
      writeFileSync(goFile, '');
      const floodStart = performance.now();
      await sleep(1500);
      results.dashboardFlood = await measureEcho(child, SAMPLES);
      const floodSeconds = (performance.now() - floodStart) / 1000;
      const status = JSON.parse((await ctl('status', '--json')).stdout);
      const floodBytes = (status.lanes ?? [])
        .filter((l) => l.name.startsWith('flood-'))
        .reduce((n, l) => n + (l.outputBytes ?? 0), 0);
      results.floodMibps = floodBytes > 0 ? floodBytes / 1024 / 1024 / floodSeconds : null;

      child.p.write('\x1d'); // ctrl-]: detach
      await child.waitFor('flood-1', 'the dashboard after detach', 15_000);
      results.quit = await quitDashboard(child);
    } finally {
      if (!child.state.exited) child.p.kill('SIGKILL');
      await stopEngine(repo.dir, env);
      rmSync(repo.dir, { recursive: true, force: true });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return results;
}

async function firstFrameBenchmarks() {
  const repo = tempRepo();
  await initRepo(repo);
  const times = [];
  const readyTimes = [];
  const nodeTimes = [];
  let quit = '';
  try {
    for (let i = 0; i <= FIRST_FRAME_RUNS; i++) {
      // the node floor: starting node and printing one line
      {
        const t0 = performance.now();
        const child = spawnPty(process.execPath, ['-e', 'console.log("hello from node")'], {
          cwd: repo.dir,
          env: benchEnv(),
        });
        await child.waitFor('hello from node', 'node -e');
        if (i > 0) nodeTimes.push(performance.now() - t0);
        await sleep(100);
      }
      const t0 = performance.now();
      const child = spawnPty(process.execPath, [CLI], { cwd: repo.dir, env: benchEnv() });
      try {
        await child.waitFor('ao-console · repo', 'the dashboard header', 30_000);
        // run 0 creates the state dir and the store: a warm-up, not counted
        if (i > 0) times.push(performance.now() - t0);
        // the live dashboard: engine started, lane list and footer keys drawn by Ink
        await child.waitFor('? help', 'the dashboard footer', 30_000);
        if (i > 0) readyTimes.push(performance.now() - t0);
        await sleep(300);
        quit = await quitDashboard(child);
      } finally {
        if (!child.state.exited) child.p.kill('SIGKILL');
      }
      await sleep(300);
    }
  } finally {
    await stopEngine(repo.dir, benchEnv());
    rmSync(repo.dir, { recursive: true, force: true });
  }
  const s = [...times].sort((a, b) => a - b);
  const n = [...nodeTimes].sort((a, b) => a - b);
  const r = [...readyTimes].sort((a, b) => a - b);
  return {
    runs: s.length,
    median: quantile(s, 0.5),
    min: s[0],
    max: s.at(-1),
    readyMedian: quantile(r, 0.5),
    nodeMedian: quantile(n, 0.5),
    quit,
  };
}

const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
log(`   ${os.cpus().length} cores, load average ${load()} at the start (other work on the machine slows every number)`);
log(`   echo program: raw-mode stdin framed back as <<x>>; ${SAMPLES} keys per set-up, one at a time`);
let echo;
try {
  echo = await echoBenchmarks();
} catch (err) {
  log(`   echo benchmark failed: ${err instanceof Error ? err.message : String(err)}`);
}
if (echo) {
  const row = (label, r) =>
    log(
      `   ${label.padEnd(44)} p50 ${ms(r.p50).padStart(9)}   p99 ${ms(r.p99).padStart(9)}   max ${ms(r.max).padStart(9)}`,
    );
  row('baseline: bare node-pty, nothing else', echo.baseline);
  row('dashboard, attached, other lanes idle', echo.dashboardIdle);
  row(`dashboard, attached, ${FLOOD_LANES} lanes flooding`, echo.dashboardFlood);
  const flood =
    echo.floodMibps === null
      ? 'flood rate unknown'
      : `the ${FLOOD_LANES} floods ran at ${echo.floodMibps.toFixed(1)} MiB/s together`;
  log(`   ${flood}; target p99 < 20 ms while flooding: ${echo.dashboardFlood.p99 < 20 ? 'reached' : 'NOT reached'}`);
  log(`   quit: ${echo.quit}`);
}

let frame;
try {
  frame = await firstFrameBenchmarks();
} catch (err) {
  log(`   first-frame benchmark failed: ${err instanceof Error ? err.message : String(err)}`);
}
if (frame) {
  log(
    `   first frame (spawn -> dashboard header on screen): median ${ms(frame.median)} of ${frame.runs} runs (min ${ms(frame.min)}, max ${ms(frame.max)})`,
  );
  log(`   live dashboard (spawn -> engine started, lanes and footer drawn): median ${ms(frame.readyMedian)}`);
  log(`   node floor (spawn -> \`node -e\` prints a line): median ${ms(frame.nodeMedian)}`);
  log(`   target first frame < 400 ms: ${frame.median < 400 ? 'reached' : 'NOT reached'}; quit: ${frame.quit}`);
}
log(`   load average ${load()} at the end`);
log(JSON.stringify({ echo: echo ?? null, frame: frame ?? null }));
process.exit(0);
