/**
 * `ao-console replay` end to end in tmux: a demo session is run to a merge in-process, then the
 * built binary replays it as a person would: play, pause, seek, jump event by event to the
 * approve decision, close.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSupervisor } from '../../lanes/supervisor/supervisor.js';
import { CLI } from '../helpers/cliBin.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { waitFor } from '../helpers/waitFor.js';

const SOCKET = `ao-replay-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-t', 'replay');
const keys = (...k: string[]) => tmux('send-keys', '-t', 'replay', ...k);
const see = (re: RegExp, what: string) =>
  waitFor(() => re.test(screen()), `${what}; screen:\n${screen()}`, 15_000, 100);

let repo: TempRepo;
let finalLine = '';

beforeAll(async () => {
  repo = await createTempRepo();
  const sup = await createSupervisor({
    repoRoot: repo.dir,
    stateDir: repo.stateDir,
    cols: 100,
    rows: 30,
    env: { ...process.env, AO_DEMO_SPEED: '0' },
    tickMs: 100,
  });
  try {
    await sup.newLane({ name: 'hello', profile: 'demo', task: 'ask create file hello.txt' });
    await waitFor(() => sup.getLane('hello')?.state === 'waiting-input', 'waiting-input');
    sup.send('hello', 'y\r');
    await waitFor(() => sup.getLane('hello')?.state === 'awaiting-approval', 'awaiting-approval');
    await sup.approve('hello');
    await sup.syncScreen('hello'); // nobody draws the lane: its screen as of now
    finalLine =
      sup
        .screenText('hello')
        .filter((l) => l.trim())
        .pop() ?? '';
  } finally {
    await sup.shutdown('test over');
  }
}, 120_000);

afterAll(async () => {
  try {
    tmux('kill-server');
  } catch {
    // already gone
  }
  await repo?.cleanup();
});

describe('ao-console replay in tmux', () => {
  it('plays, pauses, seeks and jumps to the approve event of a finished demo session', async () => {
    expect(finalLine).not.toBe('');
    tmux(
      'new-session',
      '-d',
      '-s',
      'replay',
      '-x',
      '120',
      '-y',
      '40',
      '-c',
      repo.dir,
      `NO_COLOR=1 ${process.execPath} ${CLI} replay --speed 0.25; sleep 30`,
    );
    await see(/❚❚ paused 0:00\.0 \/ \d+:\d\d\.\d · 0.25x · lane hello/, 'the paused player');
    expect(screen()).toMatch(/events \(\d+\):/);

    keys('G'); // the end: the final screen
    await see(
      new RegExp(
        finalLine
          .trim()
          .slice(0, 30)
          .replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
      ),
      'the final screen at the end',
    );

    keys('g'); // the start
    await see(/❚❚ paused 0:00\.0/, 'back at the start');
    keys('Space');
    await see(/▶ playing/, 'playing');
    await new Promise((r) => setTimeout(r, 1500)); // 0.25x: about 0.4 s of the recording
    keys('Space');
    await see(/❚❚ paused (?!0:00\.0)\d+:\d\d\.\d/, 'paused after some play time');

    keys('g');
    await see(/❚❚ paused 0:00\.0/, 'start');
    keys('Right'); // seek +5 s (clamped to the end of a short session)
    await see(/❚❚ paused (?!0:00\.0)\d+:\d\d\.\d/, 'seeked forward');
    keys('g');
    await see(/❚❚ paused 0:00\.0/, 'start again');

    // Step through the events towards the approve decision: j when it is below the current
    // event (or not in view yet), k when above; each key is waited for until the screen is still,
    // so a loaded machine can make it lag but not lose the way.
    const stable = async () => {
      let last = screen();
      for (let n = 0; n < 60; n++) {
        await new Promise((r) => setTimeout(r, 150));
        const now = screen();
        if (now === last) return now;
        last = now;
      }
      return last;
    };
    for (let n = 0; n < 60; n++) {
      const rows = (await stable()).split('\n');
      const cur = rows.findIndex((r) => r.startsWith('▸ '));
      if (/^▸ \S+ decision +approve/.test(rows[cur] ?? '')) break;
      const target = rows.findIndex((r) => /^ {2}\S+ decision +approve/.test(r));
      keys(target >= 0 && target < cur ? 'k' : 'j');
    }
    await see(/▸ \S+ decision +approve/, 'the approve decision as the current event');
    expect(screen()).toMatch(/hello\.txt/);

    keys('q');
    await see(/^\s*$/, 'the player closed');
  }, 240_000);
});
