/**
 * Issue 17: resizing the terminal must not reset the time a lane has been in its state. A
 * full-screen agent redraws everything on SIGWINCH; that repaint is not work, so an idle lane
 * stays idle and a lane waiting for input stays waiting, with the same `stateSince`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSupervisor, type Supervisor } from '../../lanes/supervisor/supervisor.js';
import type { LaneState } from '../../lanes/lane/types.js';
import { commitFile, createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { waitFor } from '../helpers/waitFor.js';

// A TUI in miniature: clears and redraws its whole screen (a box the size of the terminal and a
// question at the bottom when asked to) on start and on every SIGWINCH (stdout "resize"), then stays quiet.
const TUI = `
const ask = process.argv[2] === 'ask';
function draw() {
  const cols = process.stdout.columns, rows = process.stdout.rows;
  let out = '\\x1b[2J\\x1b[H┌' + '─'.repeat(cols - 2) + '┐';
  for (let r = 2; r < rows - 1; r++) out += '\\x1b[' + r + ';1H│ line ' + r + ' of a ' + cols + 'x' + rows + ' screen\\x1b[' + r + ';' + cols + 'H│';
  out += '\\x1b[' + (rows - 1) + ';1H└' + '─'.repeat(cols - 2) + '┘';
  out += '\\x1b[' + rows + ';1H' + (ask ? 'Allow the edit? [y/n] ' : '> ');
  process.stdout.write(out);
}
process.stdout.on('resize', draw);
draw();
process.stdin.resume();
`;

describe('time in state across resizes', () => {
  let repo: TempRepo;
  let sup: Supervisor;

  beforeEach(async () => {
    repo = await createTempRepo();
    await mkdir(path.join(repo.dir, '.ao', 'profiles'), { recursive: true });
    await writeFile(path.join(repo.dir, '.ao', 'tui.cjs'), TUI);
    for (const [name, args] of [
      ['tui', ['.ao/tui.cjs']],
      ['tui-ask', ['.ao/tui.cjs', 'ask']],
    ] as const) {
      await writeFile(
        path.join(repo.dir, '.ao', 'profiles', `${name}.json`),
        JSON.stringify({
          description: 'a full-screen program that redraws on SIGWINCH',
          command: process.execPath,
          args: [path.join(repo.dir, args[0]), ...args.slice(1)],
          taskInput: 'none',
          idleMs: 400,
          patterns: { busy: [], waitingInput: ['\\[y/n\\] ?$'] },
        }),
      );
    }
    await commitFile(repo.dir, '.gitignore', '.ao/\n');
    sup = await createSupervisor({ repoRoot: repo.dir, stateDir: repo.stateDir, cols: 100, rows: 30, tickMs: 50 });
  });
  afterEach(async () => {
    await sup.shutdown('test over');
    await repo.cleanup();
  });

  const settle = async (lane: string, s: LaneState) => {
    await waitFor(() => sup.getLane(lane)?.state === s, `${lane} to be ${s} (is ${sup.getLane(lane)?.state})`, 15_000);
    return sup.getLane(lane)!.stateSince;
  };

  for (const [profile, settled] of [
    ['tui', 'idle'],
    ['tui-ask', 'waiting-input'],
  ] as const) {
    it(`a ${settled} lane keeps its state and its time in it while the window is resized`, async () => {
      await sup.newLane({ name: profile, profile, task: '' });
      const since = await settle(profile, settled);
      const states = new Set<LaneState>();
      const off = sup.on(() => states.add(sup.getLane(profile)!.state));
      for (const [cols, rows] of [
        [60, 20],
        [140, 45],
        [41, 12],
        [100, 30],
      ] as const) {
        sup.resize(profile, cols, rows);
        await new Promise((r) => setTimeout(r, 250));
      }
      // the last redraw has had time to count as work if it were taken for work
      await new Promise((r) => setTimeout(r, 1500));
      off();
      await sup.syncScreen(profile);
      expect(sup.screenText(profile).join('\n')).toContain('of a 100x30 screen'); // it did redraw
      expect([...states].filter((s) => s !== settled)).toEqual([]);
      expect(sup.getLane(profile)!.state).toBe(settled);
      expect(sup.getLane(profile)!.stateSince).toBe(since);
    });
  }
});
