/**
 * `ao-console engine status|stop|logs|start`: the repo's engine, the one long-lived process
 * that owns the lanes. Exit 3 when no engine runs (status, stop), like `ctl`.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { Command, InvalidArgumentError } from 'commander';
import type { EngineStatusData } from '../../lanes/control/protocol.js';
import { isBusy } from '../../lanes/lane/rules.js';
import type { LaneState } from '../../lanes/lane/types.js';
import { pidAlive } from '../../lanes/process/procStat.js';
import { NoConsoleError, resolveSocketPath } from '../control/client.js';
import { EngineConnection, openSocket, ProtocolMismatchError } from '../control/engineConnection.js';
import { engineLogPath } from '../../lanes/engine/log.js';
import { EngineStartError, ensureEngine } from '../control/engineStart.js';
import { formatAge } from '../format/table.js';
import { CliError, EXIT, printJson, println, repoOf } from './common.js';

const NO_ENGINE = 'no engine runs for this repo; `ao-console` (or `ao-console engine start`) starts one';

/** Connects as `client`; no engine: exit 3; another protocol: exit 1 with both versions. */
async function connect(stateDir: string, client: string): Promise<EngineConnection> {
  try {
    return await EngineConnection.connect(stateDir, client);
  } catch (err) {
    if (err instanceof NoConsoleError)
      throw new CliError(`${NO_ENGINE} (nothing listens on ${err.socketPath})`, EXIT.noConsole);
    if (err instanceof ProtocolMismatchError) throw new CliError(err.message, EXIT.failure);
    throw err;
  }
}

function lanesLine(lanes: EngineStatusData['lanes'], alive: number | undefined): string {
  const parts = Object.entries(lanes)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([state, n]) => `${n} ${state}`);
  const total = Object.values(lanes).reduce((a, n) => a + (n ?? 0), 0);
  if (total === 0) return 'none';
  return `${parts.join(', ')}${alive !== undefined ? ` (${alive} with a running agent)` : ''}`;
}

/** Lanes that are still working (agent, gates or merge; queued): stopping the engine interrupts them. */
export function workingLanes(lanes: EngineStatusData['lanes']): number {
  return Object.entries(lanes).reduce((a, [state, n]) => a + (isBusy(state as LaneState) ? (n ?? 0) : 0), 0);
}

function printStatus(s: EngineStatusData): void {
  const started = new Date(s.startedAt);
  const rows: [string, string][] = [
    ['engine', `running (pid ${s.pid}, ao-console ${s.version}, protocol ${s.protocol}${s.mode ? `, ${s.mode}` : ''})`],
    ['started', `${started.toISOString()} (${formatAge(s.startedAt)} ago)`],
    ['repo', s.repo],
    ['state dir', s.stateDir],
    ['socket', s.socket],
    ['log', s.log],
    ['clients', `${Math.max(0, s.clients - 1)} besides this command`],
    ['lanes', lanesLine(s.lanes, s.alive)],
    ['idle exit', `after ${s.idleExitMinutes} min with no running agent and no client`],
  ];
  for (const [k, v] of rows) println(`${k.padEnd(10)}${v}`);
}

async function askYes(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `pid` is gone; false after `timeoutMs`. */
async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!pidAlive(pid)) return true;
    await sleep(50);
  }
  return !pidAlive(pid);
}

/** The last `n` lines of a file (reads at most the last 4 MiB). */
function tailLines(file: string, n: number): { text: string; size: number } {
  const size = statSync(file).size;
  const start = Math.max(0, size - 4 * 1024 * 1024);
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(size - start);
    readSync(fd, buf, 0, buf.length, start);
    const lines = buf.toString('utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return { text: n > 0 ? lines.slice(-n).join('\n') + (lines.length > 0 ? '\n' : '') : '', size };
  } finally {
    closeSync(fd);
  }
}

/** Prints what is appended to `file` from `offset` on, following rotation, until SIGINT. */
async function follow(file: string, offset: number): Promise<void> {
  let pos = offset;
  let ino = statSync(file).ino;
  let stop = false;
  const onSig = () => (stop = true);
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  try {
    while (!stop) {
      await sleep(200);
      let st;
      try {
        st = statSync(file);
      } catch {
        continue; // rotated, the new file not there yet
      }
      if (st.ino !== ino || st.size < pos) {
        ino = st.ino;
        pos = 0; // rotated (engine.log -> engine.log.1): the new file from its start
      }
      if (st.size > pos) {
        const fd = openSync(file, 'r');
        try {
          const buf = Buffer.alloc(st.size - pos);
          readSync(fd, buf, 0, buf.length, pos);
          process.stdout.write(buf);
          pos = st.size;
        } finally {
          closeSync(fd);
        }
      }
    }
  } finally {
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
  }
}

/**
 * `engine --stdio`: this process's stdin and stdout become a connection to the repo's engine
 * (started in the background when none runs), byte for byte; what a remote dashboard runs over
 * ssh (src/control/ssh.ts). The client on the other end says hello itself, so a version skew is
 * refused end to end. Ends when either side does; the engine and its lanes keep running.
 */
async function stdioBridge(cmd: Command): Promise<void> {
  const repo = await repoOf(cmd);
  try {
    (await ensureEngine(repo, { client: 'stdio-bridge' })).conn.close();
  } catch (err) {
    if (err instanceof EngineStartError || err instanceof ProtocolMismatchError)
      throw new CliError(err.message, EXIT.failure);
    throw err;
  }
  const socket = await openSocket(resolveSocketPath(repo.stateDir));
  await new Promise<void>((resolve) => {
    const done = () => {
      process.stdin.unpipe(socket);
      process.stdin.destroy();
      resolve();
    };
    socket.once('close', done);
    socket.on('error', () => {}); // 'close' follows
    process.stdin.once('end', () => socket.end());
    process.stdin.pipe(socket, { end: false });
    socket.pipe(process.stdout);
  });
}

function parseLines(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 1_000_000)
    throw new InvalidArgumentError('-n must be a whole number from 0 to 1000000');
  return n;
}

export function registerEngine(program: Command): void {
  const engine = new Command('engine')
    .description(
      "the repo's engine: the long-lived process that owns the lanes (started in the background by `ao-console`)",
    )
    .addHelpText(
      'after',
      `
The engine outlives every dashboard: quitting or closing a dashboard leaves the lanes running.
Exit codes: 0 ok, 1 failure (stop refused or failed), 3 no engine runs for this repo.`,
    )
    .option(
      '--stdio',
      "carry the control protocol over stdin and stdout to this repo's engine, starting it when none runs (what a remote dashboard runs over ssh)",
    )
    .action(async (opts: { stdio?: boolean }, cmd: Command) => {
      if (!opts.stdio) cmd.help({ error: true });
      await stdioBridge(cmd);
    });

  engine
    .command('status')
    .description('is an engine running for this repo: pid, version, protocol, socket, log, clients, lanes by state')
    .option('--json', 'print the status as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const repo = await repoOf(cmd);
      const conn = await connect(repo.stateDir, 'engine-cli');
      try {
        const status = await conn.request<EngineStatusData>('engine-status');
        if (opts.json) printJson(status);
        else printStatus(status);
      } finally {
        conn.close();
      }
    });

  engine
    .command('stop')
    .description(
      'stop every lane cleanly, then the engine; returns once the engine process is gone (asks while lanes work)',
    )
    .option('--yes', 'do not ask, even while lanes are working (needed without a terminal)')
    .action(async (opts: { yes?: boolean }, cmd: Command) => {
      const repo = await repoOf(cmd);
      const conn = await connect(repo.stateDir, 'engine-cli');
      let pid: number;
      let stopped: { lanes: number } | null = null;
      try {
        const status = await conn.request<EngineStatusData>('engine-status');
        pid = status.pid;
        const working = workingLanes(status.lanes);
        if (working > 0 && !opts.yes) {
          const what = `${working} lane${working === 1 ? ' is' : 's are'} working`;
          if (!process.stdin.isTTY || !process.stdout.isTTY)
            throw new CliError(`${what}; stopping the engine stops them: pass --yes to stop anyway`, EXIT.failure);
          if (!(await askYes(`${what}; stop them and the engine? [y/N] `))) {
            println('nothing stopped');
            process.exitCode = EXIT.failure;
            return;
          }
        }
        const closed = new Promise<void>((resolve) => conn.onClose(() => resolve()));
        try {
          stopped = await conn.request<{ lanes: number }>('engine-stop', { by: 'ao-console engine stop' });
        } catch (err) {
          if (!conn.closed) throw err;
        }
        await closed;
      } finally {
        conn.close();
      }
      if (!(await waitGone(pid, 120_000)))
        throw new CliError(`the engine (pid ${pid}) said it stops but still runs after 120 s`, EXIT.failure);
      const n = stopped?.lanes ?? 0;
      println(`engine stopped (pid ${pid}; ${n} lane${n === 1 ? '' : 's'} stopped)`);
    });

  engine
    .command('logs')
    .description("print the engine's log (<state dir>/engine.log)")
    .option('-n, --lines <n>', 'how many lines from the end', parseLines, 50)
    .option('-f, --follow', 'keep printing what the engine writes (ctrl-c ends)')
    .action(async (opts: { lines: number; follow?: boolean }, cmd: Command) => {
      const repo = await repoOf(cmd);
      const file = engineLogPath(repo.stateDir);
      let tail;
      try {
        tail = tailLines(file, opts.lines);
      } catch {
        throw new CliError(`no engine log at ${file} (no engine was started in the background here yet)`, EXIT.failure);
      }
      process.stdout.write(tail.text);
      if (opts.follow) await follow(file, tail.size);
    });

  engine
    .command('start')
    .description('start the engine in the background when none runs; prints its pid and socket')
    .action(async (_opts: unknown, cmd: Command) => {
      const repo = await repoOf(cmd);
      let ensured;
      try {
        ensured = await ensureEngine(repo, { client: 'engine-cli' });
      } catch (err) {
        if (err instanceof EngineStartError || err instanceof ProtocolMismatchError)
          throw new CliError(err.message, EXIT.failure);
        throw err;
      }
      const { conn, started } = ensured;
      try {
        const status = await conn.request<EngineStatusData>('engine-status');
        println(
          `${started ? 'engine started' : 'an engine already runs'}: pid ${status.pid}, socket ${status.socket}, log ${status.log}`,
        );
      } finally {
        conn.close();
      }
    });

  program.addCommand(engine);
}
