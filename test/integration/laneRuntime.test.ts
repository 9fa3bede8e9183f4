/**
 * LaneRuntime on a real pty and a real emulator worker: a burst's pty reads are gathered into
 * chunks (lanes/lane/laneRuntime.ts BURST_MS), a runtime whose recorder failed still lets go, an
 * attach hands on every byte after its screen, and an exit waits (a bounded time) for its recording.
 */
import { afterEach, expect, it } from 'vitest';
import { LaneRuntime } from '../../lanes/lane/laneRuntime.js';
import { waitFor } from '../helpers/waitFor.js';

const runtimes: LaneRuntime[] = [];
afterEach(() => {
  for (const r of runtimes.splice(0)) {
    r.kill('SIGKILL');
    r.dispose();
  }
});

function start(
  script: string,
  record: (seq: number, tMs: number, data: Buffer) => boolean | void,
  extra: Partial<ConstructorParameters<typeof LaneRuntime>[0]> = {},
): LaneRuntime {
  const r = new LaneRuntime({
    command: process.execPath,
    args: ['-e', script],
    cwd: process.cwd(),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TERM: 'xterm-256color' },
    cols: 80,
    rows: 24,
    timeBase: Date.now(),
    firstSeq: 0,
    busyPatterns: [],
    waitingPatterns: [],
    idleMs: 1000,
    linePatterns: [],
    record,
    onExit: () => {},
    ...extra,
  });
  runtimes.push(r);
  return r;
}

// writes lines as fast as the pty takes them, until killed
const FLOOD =
  "const fs = require('fs'); const b = Buffer.from(('x'.repeat(100) + '\\n').repeat(200)); for (;;) fs.writeSync(1, b);";

it('a runtime gathering a burst when its recorder fails for good lets go without throwing', async () => {
  let failed = false;
  let chunks = 0;
  const r = start(FLOOD, () => {
    chunks++;
    if (failed) throw new Error('recorder worker crashed');
  });
  await waitFor(() => chunks > 3, 'the flood to be recorded', 20_000);
  // the moment a burst's reads are gathered (read, not ingested yet), the recorder is gone
  const gathered = () => (r as unknown as { gatheredBytes: number }).gatheredBytes;
  const until = Date.now() + 10_000;
  while (gathered() === 0 && Date.now() < until) await new Promise((res) => setImmediate(res));
  expect(gathered()).toBeGreaterThan(0);
  failed = true;
  expect(() => r.dispose()).not.toThrow();
});

it('a resize ingests the burst read before it, so it comes after that output in the recording too', async () => {
  const seqs: number[] = [];
  const r = start(FLOOD, (seq) => {
    seqs.push(seq);
  });
  await waitFor(() => seqs.length > 3, 'the flood to be recorded', 20_000);
  const gathered = () => (r as unknown as { gatheredBytes: number }).gatheredBytes;
  for (let i = 0; i < 10; i++) {
    // while a burst's reads are gathered
    const until = Date.now() + 10_000;
    while (gathered() === 0 && Date.now() < until) await new Promise((res) => setImmediate(res));
    expect(gathered()).toBeGreaterThan(0);
    r.resize(i % 2 ? 80 : 100, 24);
    // nothing read before the resize waits to be ingested after it
    expect(gathered()).toBe(0);
    expect(r.nextSeq).toBe(seqs[seqs.length - 1] + 1);
  }
});

it('an attach while output flows hands on every byte after its screen, the chunks read during its sync included', async () => {
  // numbered lines, 500 at a time every millisecond (the emulator has some to parse: a sync takes a while)
  const COUNTER =
    "let i = 0; setInterval(() => { let s = ''; for (let k = 0; k < 500; k++) s += ++i + '\\n'; process.stdout.write(s); }, 1);";
  let chunks = 0;
  const r = start(COUNTER, () => {
    chunks++;
  });
  await waitFor(() => chunks > 20, 'the counter to run', 20_000);
  r.setWatched(true); // (its output goes to the worker on the next turn: during the attach's sync too)
  for (let round = 0; round < 10; round++) {
    let stream = '';
    const attached = await r.attach((text) => (stream += text));
    await new Promise((res) => setTimeout(res, 50));
    attached.detach();
    // the screen's last line (maybe a number cut short) goes on in the stream: one count, no gap
    const plain = attached.rows.map((row) => row.replace(/\x1b\[[0-9;]*m/g, '').trim()).filter(Boolean);
    // (cursor at the start of a row: that line was complete)
    const last = plain[plain.length - 1] + (attached.cursor.x === 0 ? '\n' : '');
    const lines = (last + stream).split(/\r?\n/);
    lines.pop(); // what follows the last line end (a number cut short at the detach, or nothing)
    // (an empty one: the screen ended between a line's \r and its \n)
    expect(lines.length, `round ${round}`).toBeGreaterThan(10);
    const numbers = lines.filter(Boolean).map(Number);
    const gaps = numbers.filter((n, k) => k > 0 && n !== numbers[k - 1] + 1);
    const at = numbers.findIndex((n, k) => k > 0 && n !== numbers[k - 1] + 1);
    expect(gaps, `round ${round}: ${JSON.stringify(numbers.slice(Math.max(0, at - 2), at + 2))}`).toEqual([]);
  }
});

it("reports the agent's exit once its output is committed, and at the latest after recordedWaitMs", async () => {
  let commit!: () => void;
  const exits: number[] = [];
  const r = start("process.stdout.write('bye')", () => {}, {
    recorded: () => new Promise<void>((res) => (commit = res)),
    onExit: () => exits.push(Date.now()),
  });
  await waitFor(() => commit !== undefined || null, 'the agent to exit', 20_000);
  await new Promise((res) => setTimeout(res, 200));
  expect(exits).toEqual([]); // not before the recording is committed
  expect(r.alive).toBe(true);
  commit();
  await r.whenExited();
  expect(exits.length).toBe(1);
  expect(r.alive).toBe(false);

  // a recorder that never answers holds the exit back no longer than recordedWaitMs
  const started = Date.now();
  const wedged = start("process.stdout.write('bye')", () => {}, {
    recorded: () => new Promise<void>(() => {}),
    recordedWaitMs: 300,
  });
  await wedged.whenExited();
  expect(Date.now() - started).toBeGreaterThanOrEqual(300);
});
