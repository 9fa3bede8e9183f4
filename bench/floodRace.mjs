// Flood against tmux (issue "Cheaper per lane than tmux", target Flood): 8 programs each `cat` a
// 20 MiB file of agent-like output at 160x48, from the first lane's creation until every one has
// exited:
//   tmux     a tmux server (no client) with the 8 `cat`s in 8 windows; done when the server exits
//   engine   the running ao-console engine (no dashboard) with the 8 `cat`s as 8 lanes created over
//            its control socket; done when every lane has stopped; then each lane's recording is
//            compared with the file, byte for byte
// Prints a readable report, then one JSON line. Needs `npm run build` first.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'dist', 'src', 'cli.js');
const FLOOD = fileURLToPath(new URL('./flood.mjs', import.meta.url));
const LANES = Number(process.env.AO_BENCH_RACE_LANES ?? 8);
const MIB = Number(process.env.AO_BENCH_RACE_MIB ?? 20);
const log = (s = '') => process.stdout.write(s + '\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (!existsSync(CLI)) {
  console.error(`bench/floodRace.mjs: ${CLI} is missing: run \`npm run build\` first`);
  process.exit(1);
}
const { sendRequest } = await import(path.join(ROOT, 'dist', 'src', 'control', 'client.js'));
const { decodeChunk } = await import(path.join(ROOT, 'dist', 'lanes', 'store', 'output.js'));

const work = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'ao-bench-race-')));
const file = path.join(work, 'flood.txt');
writeFileSync(file, execFileSync(process.execPath, [FLOOD, String(MIB)], { maxBuffer: (MIB + 1) * 1024 * 1024 }));
// what a pty makes of the file: its line discipline turns each \n into \r\n (onlcr)
const digest = createHash('sha256')
  .update(Buffer.from(readFileSync(file).toString('latin1').replace(/\n/g, '\r\n'), 'latin1'))
  .digest('hex');

async function tmuxRace() {
  const socket = `ao-race-${process.pid}`;
  const tmux = (...args) => execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  const t0 = performance.now();
  tmux('new-session', '-d', '-s', 'r', '-x', '160', '-y', '48', 'cat', file);
  for (let i = 1; i < LANES; i++) tmux('new-window', '-t', 'r', 'cat', file);
  // the server exits with its last window
  while (spawnSync('tmux', ['-L', socket, 'has-session'], { stdio: 'ignore' }).status === 0) await sleep(20);
  return (performance.now() - t0) / 1000;
}

async function engineRace() {
  const dir = path.join(work, 'repo');
  mkdirSync(path.join(dir, '.ao', 'profiles'), { recursive: true });
  const stateDir = path.join(dir, '.git', 'ao');
  const env = { ...process.env, AO_STATE_DIR: stateDir };
  const git = (...args) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('config', 'user.name', 'bench');
  git('config', 'user.email', 'bench@example.invalid');
  writeFileSync(
    path.join(dir, '.ao', 'profiles', 'cat.json'),
    JSON.stringify({
      description: 'bench cat',
      command: 'cat',
      args: [file],
      taskInput: 'none',
      handoffOnExit: false,
      patterns: { busy: [], waitingInput: [] },
    }),
  );
  writeFileSync(path.join(dir, '.ao', 'config.json'), JSON.stringify({ maxConcurrentLanes: LANES }));
  writeFileSync(path.join(dir, 'README.md'), '# bench\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'bench');
  const cli = (...args) => execFileSync(process.execPath, [CLI, ...args], { cwd: dir, env, encoding: 'utf8' });
  cli('engine', 'start');
  const ask = async (req) => {
    const res = await sendRequest(stateDir, req);
    if (!res.ok) throw new Error(`${req.verb}: ${res.error?.message ?? JSON.stringify(res)}`);
    return res.data;
  };
  try {
    const names = Array.from({ length: LANES }, (_, i) => `cat-${i}`);
    const t0 = performance.now();
    await Promise.all(names.map((name) => ask({ verb: 'new', name, profile: 'cat', task: 'cat the file' })));
    await Promise.all(names.map((lane) => ask({ verb: 'wait', lane, state: 'stopped', timeoutMs: 600_000 })));
    const seconds = (performance.now() - t0) / 1000;
    // every lane's recording is the file, byte for byte (read from the store as replay reads it)
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(path.join(stateDir, 'ao.db'), { readonly: true });
    let exact = 0;
    try {
      const chunks = db.prepare(
        'SELECT c.data, c.enc FROM output_chunks c JOIN lanes l ON l.id = c.lane_id WHERE l.name = ? ORDER BY c.seq',
      );
      for (const name of names) {
        const hash = createHash('sha256');
        for (const row of chunks.iterate(name)) hash.update(decodeChunk(row.enc, row.data));
        if (hash.digest('hex') === digest) exact++;
      }
    } finally {
      db.close();
    }
    return { seconds, exact };
  } finally {
    try {
      cli('engine', 'stop', '--yes');
    } catch (err) {
      console.error(`bench/floodRace.mjs: engine stop failed: ${err.message}`);
    }
  }
}

try {
  const tmux1 = await tmuxRace();
  const engine = await engineRace();
  const tmux2 = await tmuxRace();
  const tmux = (tmux1 + tmux2) / 2;
  log(`   ${LANES} programs each cat a ${MIB} MiB file at 160x48, creation to all exited:`);
  log(`   tmux server (baseline):   ${tmux1.toFixed(2)} s / ${tmux2.toFixed(2)} s (mean ${tmux.toFixed(2)} s)`);
  log(
    `   engine:                   ${engine.seconds.toFixed(2)} s (${(tmux / engine.seconds).toFixed(2)}x tmux's speed); ` +
      `recordings byte-exact: ${engine.exact}/${LANES}`,
  );
  log(JSON.stringify({ lanes: LANES, mib: MIB, tmux1, tmux2, tmux, engine: engine.seconds, exact: engine.exact }));
} finally {
  rmSync(work, { recursive: true, force: true });
}
