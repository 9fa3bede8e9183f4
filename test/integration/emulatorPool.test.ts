/**
 * Several emulator workers (issue "Cheaper per lane than tmux", flood): lanes are spread over up
 * to emulatorWorkerLimit() workers, the one with the fewest terminals first; each terminal's
 * output, screen and query replies stay its own; a closed terminal frees its place; a worker that
 * dies fails only its own terminals and leaves the pool.
 */
import type { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { RemoteTerminal, emulatorStats, emulatorWorkerLimit } from '../../lanes/terminal/remoteTerminal.js';
import { waitFor } from '../helpers/waitFor.js';

// Read when the first terminal of this test file's process opens.
const had = process.env.AO_EMULATOR_WORKERS;
process.env.AO_EMULATOR_WORKERS = '3';
afterAll(() => {
  if (had === undefined) delete process.env.AO_EMULATOR_WORKERS;
  else process.env.AO_EMULATOR_WORKERS = had;
});

describe('emulatorWorkerLimit', () => {
  it('leaves a core to the main thread by default, at least 1 and at most 4', () => {
    const limit = emulatorWorkerLimit({});
    expect(limit).toBeGreaterThanOrEqual(1);
    expect(limit).toBeLessThanOrEqual(4);
    expect(emulatorWorkerLimit({ AO_EMULATOR_WORKERS: '' })).toBe(limit);
    expect(emulatorWorkerLimit({ AO_EMULATOR_WORKERS: '6' })).toBe(6);
  });

  it('refuses a count that is not 1 to 8, naming the variable', () => {
    for (const bad of ['0', '9', '2.5', 'two', '-1'])
      expect(() => emulatorWorkerLimit({ AO_EMULATOR_WORKERS: bad })).toThrow(/AO_EMULATOR_WORKERS.*1 to 8/);
  });
});

describe('terminals spread over several emulator workers', () => {
  it('gives each new terminal the least busy worker, keeps screens and replies apart, frees closed ones', async () => {
    const terms = Array.from({ length: 5 }, () => new RemoteTerminal({ cols: 60, rows: 6 }));
    const replies = terms.map(() => [] as string[]);
    terms.forEach((t, i) => t.onReply((d) => replies[i].push(d)));
    expect((await emulatorStats()).workers).toEqual([2, 2, 1]);

    // every terminal gets a flood of its own (parsed in parallel) and then a cursor query
    const lines = 2000;
    terms.forEach((t, i) => {
      for (let n = 0; n < lines; n++) t.write(Buffer.from(`lane ${i} line ${n}\r\n`), n, n);
      t.write(Buffer.from(`${'x'.repeat(i + 1)}\x1b[6n`), lines, lines);
    });
    await Promise.all(terms.map((t) => t.sync()));
    terms.forEach((t, i) => {
      const text = t.text();
      expect(text.at(-2)).toBe(`lane ${i} line ${lines - 1}`);
      expect(text.at(-1)).toBe('x'.repeat(i + 1));
      expect(text.join('\n')).not.toMatch(new RegExp(`lane (?!${i} )`));
    });
    await waitFor(() => replies.every((r) => r.length > 0), 'every cursor query answered', 5000);
    // the cursor is on the last row, after the lane's own x's: its reply is its own
    replies.forEach((r, i) => expect(r.join('')).toBe(`\x1b[6;${i + 2}R`));

    terms[0].dispose();
    terms[3].dispose();
    const after = await emulatorStats();
    expect(after.workers).toEqual([0, 2, 1]);
    // the next terminal goes where there is room
    const next = new RemoteTerminal({ cols: 60, rows: 6 });
    expect((await emulatorStats()).workers).toEqual([1, 2, 1]);
    next.write(Buffer.from('fresh'), 0, 0);
    await next.sync();
    expect(next.text()[0]).toBe('fresh');
    for (const t of [next, terms[1], terms[2], terms[4]]) t.dispose();
    await waitFor(async () => (await emulatorStats()).terminals === 0, 'every terminal released', 10_000, 50);
    expect((await emulatorStats()).unparsedBytes).toBe(0);
  });

  it('a worker that dies fails only its own terminals, unblocks them, and leaves the pool to the others', async () => {
    const errors: string[][] = [[], [], []];
    const pressure: boolean[] = [];
    const terms = errors.map(
      (errs) => new RemoteTerminal({ cols: 40, rows: 4, highWater: 8, lowWater: 4, onError: (m) => errs.push(m) }),
    );
    terms[0].onPressure((p) => pressure.push(p));
    expect((await emulatorStats()).workers).toEqual([1, 1, 1]);
    for (const [i, t] of terms.entries()) {
      t.write(Buffer.from(`before ${i}`), 0, 0);
      await t.sync();
    }
    // terms[0] is paused (more than highWater unparsed) when its worker goes
    terms[0].write(Buffer.from('x'.repeat(64)), 1, 1);
    expect(pressure).toEqual([true]);
    await (terms[0].worker as unknown as { worker: Worker }).worker.terminate();
    await waitFor(() => errors[0].length > 0, 'the dead worker’s terminal told', 5000);
    expect(errors[0][0]).toMatch(/terminal emulator worker crashed: exited/);
    expect(pressure.at(-1)).toBe(false); // its producer runs on: the recording does not need the emulator
    expect((await terms[0].sync()).text[0]).toBe('before 0'); // the last screen, at once
    // the others go on; stats no longer wait for the dead worker
    terms[1].write(Buffer.from(' after'), 1, 1);
    expect((await terms[1].sync()).text[0]).toBe('before 1 after');
    expect(errors[1]).toEqual([]);
    expect(errors[2]).toEqual([]);
    expect((await emulatorStats()).workers).toEqual([1, 1]);
    // a new lane gets a fresh worker in its place
    const fresh = new RemoteTerminal({ cols: 40, rows: 4 });
    expect((await emulatorStats()).workers).toEqual([1, 1, 1]);
    fresh.write(Buffer.from('fresh'), 0, 0);
    expect((await fresh.sync()).text[0]).toBe('fresh');
    for (const t of [...terms, fresh]) t.dispose();
  });
});
