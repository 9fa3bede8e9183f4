/**
 * `AO_FRAME_LOG=<file>` (src/ui/runDashboard.tsx), which bench/scale.mjs reads its frame times
 * from: the built dashboard in tmux appends Ink's render time of its frames to the file, one
 * number of milliseconds a line, in a file only the user can read; a resize (frames drawn anew)
 * adds more. Figures only, no timing asserted.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cliBin.js';
import { stopEverything } from '../helpers/laneProcs.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { startTmux, type TmuxSession } from '../helpers/tmux.js';
import { waitFor } from '../helpers/waitFor.js';

const HEADER = /^ao-console · repo \S+ · base /m;

/** The lines of the frame log (none while the file is not there yet). */
function frameLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

describe('AO_FRAME_LOG: the dashboard logs its frame times', () => {
  let repo: TempRepo;
  let t: TmuxSession | undefined;
  let log: string;

  beforeAll(async () => {
    repo = await createTempRepo();
    log = path.join(repo.dir, '.git', 'frames.log');
  });
  afterAll(async () => {
    await t?.kill();
    if (repo) {
      await stopEverything(repo);
      await repo.cleanup();
    }
  });

  it('appends one render time (ms) a line for the frames drawn, 0600, more after a resize', async () => {
    t = await startTmux({
      command: [process.execPath, CLI],
      cwd: repo.dir,
      env: { AO_STATE_DIR: repo.stateDir, AO_FRAME_LOG: log },
      cols: 120,
      rows: 36,
    });
    await t.waitFor((s) => HEADER.test(s), 'the dashboard header', 60_000);
    // flushed once a second
    const first = await waitFor(() => frameLines(log).length > 0 && frameLines(log), 'frames in the log', 15_000);
    for (const line of first) {
      expect(line).toMatch(/^\d+(\.\d+)?$/);
      expect(Number.isFinite(Number(line))).toBe(true);
    }
    expect(statSync(log).mode & 0o777).toBe(0o600);

    await t.resize(100, 30);
    await t.waitFor((s) => HEADER.test(s), 'the dashboard after the resize', 30_000);
    const after = await waitFor(
      () => frameLines(log).length > first.length && frameLines(log),
      'frames of the resized dashboard in the log',
      15_000,
    );
    expect(after.slice(0, first.length)).toEqual(first);
    for (const line of after) expect(line).toMatch(/^\d+(\.\d+)?$/);
  });
});
