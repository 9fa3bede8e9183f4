/**
 * A lane nobody shows produces no screen snapshots (issue "Cheaper per lane than tmux"): the
 * emulator worker reads its last line and its prompt and busy matches itself and posts only
 * those facts when they change. The lane list still follows the agent's output, a prompt still
 * makes the lane waiting-input, and a front end that draws the lane gets its screens.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSupervisor, type Supervisor } from '../../lanes/supervisor/supervisor.js';
import { emulatorStats } from '../../lanes/terminal/remoteTerminal.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { waitFor } from '../helpers/waitFor.js';

let repo: TempRepo;
let sup: Supervisor;

/**
 * A spinner line redrawn every 50 ms ("⠋ tick 12") for 40 frames, then a question; once
 * answered, a spinner again ("⠋ after 12") until stopped.
 */
const SPINNER = `
const frames = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';
let n = 0;
const spin = (label, count, then) => {
  let i = 0;
  const t = setInterval(() => {
    process.stdout.write('\\r\\x1b[2K' + frames[n++ % frames.length] + ' ' + label + ' ' + i++);
    if (i === count) { clearInterval(t); then(); }
  }, 50);
};
spin('tick', 40, () => {
  process.stdout.write('\\r\\n\\u2502 Allow write to notes.md? [y/n] ');
  process.stdin.once('data', () => { process.stdout.write('\\r\\n'); spin('after', Infinity, () => {}); });
});
`;

const LANE = 'spinner';
const snapshots = async () => (await emulatorStats()).snapshots;
const lastLine = () => sup.getLane(LANE)?.lastLine ?? '';
/** the spinner's frame count in the lane's last line ("after 12" -> 12), -1 when not there */
const frame = (label: string) => Number(new RegExp(`${label} (\\d+)$`).exec(lastLine())?.[1] ?? -1);

beforeAll(async () => {
  repo = await createTempRepo();
  await mkdir(path.join(repo.dir, '.ao', 'profiles'), { recursive: true });
  await writeFile(
    path.join(repo.dir, '.ao', 'profiles', 'spinner.json'),
    JSON.stringify({
      description: 'a spinner, a question, a spinner',
      command: process.execPath,
      args: ['-e', SPINNER],
      taskInput: 'none',
      handoffOnExit: false,
      patterns: { busy: [], waitingInput: ['\\[y/n\\]\\s*$'] },
    }),
  );
  sup = await createSupervisor({
    repoRoot: repo.dir,
    stateDir: repo.stateDir,
    cols: 100,
    rows: 30,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: repo.dir, LANG: 'C.UTF-8' },
    tickMs: 100,
    stopGraceMs: 1000,
  });
});

afterAll(async () => {
  await sup?.shutdown('test over');
  await repo?.cleanup();
});

// Nothing here reads the lane's screen (screenText, screenStyled): a look would start watching it.
it('a lane nobody shows posts no screen snapshots; its last line and its prompt still come through', async () => {
  const before = await snapshots();
  await sup.newLane({ name: LANE, profile: 'spinner', task: '' });

  // ~2 s of spinner nobody looks at: the last line follows it frame by frame
  const seen = new Set<string>();
  await waitFor(
    () => {
      if (/tick \d+$/.test(lastLine())) seen.add(lastLine());
      return sup.getLane(LANE)?.state === 'waiting-input';
    },
    `${LANE} to ask (state ${sup.getLane(LANE)?.state}, last line "${lastLine()}")`,
    30_000,
    20,
  );
  expect(seen.size).toBeGreaterThanOrEqual(3); // the facts change with the spinner's count
  expect([...seen].every((l) => /^tick \d+$/.test(l))).toBe(true); // the spinner glyph cut off
  expect(lastLine()).toBe('Allow write to notes.md? [y/n]');
  expect(await snapshots()).toBe(before);

  // answered: the spinner again, still unseen
  sup.send(LANE, 'y\r');
  await waitFor(() => frame('after') >= 10, `the spinner after the answer (last line "${lastLine()}")`);
  expect(sup.getLane(LANE)?.state).not.toBe('waiting-input');
  expect(await snapshots()).toBe(before);

  // a front end draws it: its screens arrive
  sup.watchScreens([LANE]);
  await waitFor(async () => (await snapshots()) >= before + 3, 'screen snapshots of the watched lane', 10_000);

  // no longer drawn: once the worker has the news (a sync answers after it), they stop again
  sup.watchScreens([]);
  await sup.syncScreen(LANE);
  const unwatched = await snapshots();
  const from = frame('after');
  await waitFor(() => frame('after') >= from + 20, `20 more spinner frames (last line "${lastLine()}")`);
  expect(await snapshots()).toBe(unwatched);
  await sup.stop(LANE);
}, 90_000);
