/**
 * Emulators of ended lanes are released (issue "Cheaper per lane than tmux", memory): a lane
 * whose agent exits frees its terminal in the emulator worker once its last bytes are parsed,
 * and its final screen stays readable; a live lane keeps its emulator.
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

beforeAll(async () => {
  repo = await createTempRepo();
  await mkdir(path.join(repo.dir, '.ao', 'profiles'), { recursive: true });
  const profile = (description: string, script: string) =>
    JSON.stringify({
      description,
      command: process.execPath,
      args: ['-e', script],
      taskInput: 'none',
      handoffOnExit: false,
      patterns: { busy: [], waitingInput: [] },
    });
  // prints a screenful and exits a moment later
  await writeFile(
    path.join(repo.dir, '.ao', 'profiles', 'brief.json'),
    profile(
      'prints and exits',
      "for (let i = 0; i < 200; i++) process.stdout.write('line ' + i + ' ' + 'x'.repeat(60) + '\\r\\n'); process.stdout.write('\\x1b[1mthe end\\x1b[0m'); setTimeout(() => {}, 300);",
    ),
  );
  // stays
  await writeFile(
    path.join(repo.dir, '.ao', 'profiles', 'stays.json'),
    profile('prints and stays', "process.stdout.write('still here'); setInterval(() => {}, 1000);"),
  );
  await writeFile(path.join(repo.dir, '.ao', 'config.json'), JSON.stringify({ maxConcurrentLanes: 8 }));
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

it('frees the emulator of a lane whose agent ended, keeps its last screen, and keeps a live lane’s', async () => {
  const before = (await emulatorStats()).terminals;
  await sup.newLane({ name: 'stays', profile: 'stays', task: '' });
  await waitFor(() => sup.screenText('stays').join('\n').includes('still here'), 'the live lane drawn', 20_000);
  for (let i = 0; i < 5; i++) await sup.newLane({ name: `brief-${i}`, profile: 'brief', task: '' });
  expect((await emulatorStats()).terminals).toBeGreaterThanOrEqual(before + 2);
  for (let i = 0; i < 5; i++) {
    await waitFor(() => sup.getLane(`brief-${i}`)?.state === 'stopped', `brief-${i} stopped`, 30_000);
  }
  // released a moment after each exit: only the live lane's emulator is left of the six
  await waitFor(
    async () => (await emulatorStats()).terminals === before + 1,
    'the ended lanes’ emulators released',
    15_000,
    100,
  );
  const stats = await emulatorStats();
  expect(stats.unparsedBytes).toBe(0);
  // the final screens are still there, to the last byte the agent wrote, styles included
  for (let i = 0; i < 5; i++) {
    const text = sup.screenText(`brief-${i}`);
    expect(text.join('\n')).toContain('line 199');
    expect(text.join('\n')).toContain('the end');
    expect(JSON.stringify(sup.screenStyled(`brief-${i}`))).toContain('"bold":true');
  }
  expect(sup.screenText('stays').join('\n')).toContain('still here');
  await sup.stop('stays');
}, 90_000);
