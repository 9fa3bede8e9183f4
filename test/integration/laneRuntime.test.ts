/**
 * LaneRuntime on a real pty and a real emulator worker: a burst's pty reads are gathered into
 * chunks (lanes/lane/laneRuntime.ts BURST_MS), and a runtime whose recorder failed still lets go.
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

function start(script: string, record: (seq: number, tMs: number, data: Buffer) => boolean | void): LaneRuntime {
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
