/**
 * A lane flooding its pty, through the engine's real path (pty -> RemoteTerminal -> emulator
 * worker): every byte arrives, the emulator's backlog stays bounded because the pty is paused
 * (the agent then blocks on write) and resumed, and the screen shows the end of the stream.
 * The marks are set low (64 KiB / 16 KiB) so pausing and resuming a real pty is exercised.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { RemoteTerminal } from '../../lanes/terminal/remoteTerminal.js';
import { PtyHost, type PtyExit } from '../../lanes/terminal/ptyHost.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const MiB = 1024 * 1024;

it('takes a 30 MB flood through a paused and resumed pty into the lane terminal', async () => {
  const total = 30 * 1000 * 1000;
  const highWater = 64 * 1024;
  const term = new RemoteTerminal({ cols: 120, rows: 40, highWater, lowWater: 16 * 1024 });
  const host = PtyHost.spawn({
    command: process.execPath,
    args: [path.join(fixtures, 'flood.mjs'), String(total)],
    cwd: fixtures,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TERM: 'xterm-256color' },
    cols: 120,
    rows: 40,
  });
  let received = 0;
  let seq = 0;
  let pauses = 0;
  let resumes = 0;
  let maxPending = 0;
  let maxHeap = 0;
  const heapBefore = process.memoryUsage().heapUsed;
  try {
    term.onReply((d) => host.write(d));
    term.onPressure((paused) => {
      if (paused) {
        pauses++;
        host.pause();
      } else {
        resumes++;
        host.resume();
      }
    });
    host.onData((chunk) => {
      received += chunk.length;
      term.write(chunk, seq++, 0);
      maxPending = Math.max(maxPending, term.pending);
    });
    const sampler = setInterval(() => {
      maxHeap = Math.max(maxHeap, process.memoryUsage().heapUsed - heapBefore);
    }, 50);
    const exit = await new Promise<PtyExit>((resolve) => host.onExit(resolve));
    clearInterval(sampler);
    await term.sync();

    expect(exit).toEqual({ code: 0, signal: null });
    expect(received).toBe(total);
    expect(pauses).toBeGreaterThanOrEqual(1);
    expect(resumes).toBe(pauses);
    expect(term.pending).toBe(0);
    // The backlog never grew past the high water mark by more than one read (64 KiB) ...
    expect(maxPending).toBeLessThanOrEqual(highWater + 64 * 1024);
    // ... and the heap did not take in the flood (30 MB of it).
    expect(maxHeap).toBeLessThan(100 * MiB);
    expect(term.lastLine()).toBe('END-OF-FLOOD');
  } finally {
    term.dispose();
    host.kill('SIGKILL');
  }
});
