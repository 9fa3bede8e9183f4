/**
 * Issue 16, consent: a dashboard opened on a repo whose `.ao/config.json` asks to run commands
 * that were never allowed (or changed since) shows them and asks first. `y` records the consent
 * (the trust file), after which a lane's gate command runs (a canary file is created); `n` leaves
 * them off and says how to allow them later. The built binary in tmux, keys by send-keys.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../../lanes/git/git.js';
import { CLI, runCli } from '../helpers/cliBin.js';
import { stopEverything } from '../helpers/laneProcs.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { startTmux, type TmuxSession } from '../helpers/tmux.js';
import { useTempTrustFile } from '../helpers/trust.js';
import { waitFor } from '../helpers/waitFor.js';

const trustFile = useTempTrustFile();
afterAll(() => trustFile.cleanup());
const HEADER = /^ao-console · repo \S+ · base /m;

let repo: TempRepo;
let t: TmuxSession | null = null;
const env = () => ({ AO_DEMO_SPEED: '0', AO_STATE_DIR: repo.stateDir, AO_TRUST_FILE: trustFile.file });

beforeAll(async () => {
  repo = await createTempRepo();
  await mkdir(path.join(repo.dir, '.ao'), { recursive: true });
  // the gate leaves a canary in the repo's state dir: it ran
  const canary = path.join(repo.stateDir, 'canary');
  await writeFile(
    path.join(repo.dir, '.ao', 'config.json'),
    JSON.stringify({
      gates: [
        { builtin: 'merge-clean' },
        {
          name: 'canary',
          run: [process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(canary)}, 'ran')`],
        },
      ],
    }),
  );
  await git(['add', '-A'], { cwd: repo.dir });
  await git(['commit', '-q', '-m', 'config with a command gate'], { cwd: repo.dir });
});
afterEach(async () => {
  await t?.kill();
  t = null;
});
afterAll(async () => {
  await stopEverything(repo, env());
  await repo.cleanup();
});

async function dashboard(): Promise<TmuxSession> {
  const s = await startTmux({ command: [process.execPath, CLI], cwd: repo.dir, env: env(), cols: 120, rows: 36 });
  await s.waitFor((screen) => HEADER.test(screen), 'the dashboard', 60_000);
  return s;
}

describe('the dashboard asks before a repo config runs commands', () => {
  it('n: not allowed, says how to allow later; the question comes back next time', async () => {
    t = await dashboard();
    let screen = await t.waitFor("Allow this repo's commands", 'the trust question');
    expect(screen).toContain('.ao/config.json asks to run this command');
    expect(screen).toContain('gate "canary": run [');
    expect(screen).toContain('y allow them   n not now');
    await t.press('n');
    screen = await t.waitFor("the repo's commands stay off", 'what not allowing means');
    expect(existsSync(trustFile.file)).toBe(false);
    await t.kill();
    t = await dashboard();
    await t.waitFor("Allow this repo's commands", 'asked again');
  }, 120_000);

  it('y: allowed (recorded in the trust file), and a lane handing off runs the gate', async () => {
    t = await dashboard();
    await t.waitFor("Allow this repo's commands", 'the trust question');
    await t.press('y');
    await t.waitFor('allowed 1 command of .ao/config.json', 'the consent recorded');
    const data = JSON.parse(readFileSync(trustFile.file, 'utf8')) as { repos: Record<string, unknown> };
    expect(Object.keys(data.repos)).toEqual([repo.dir]);

    const ctl = (...args: string[]) => runCli(['ctl', ...args], { cwd: repo.dir, env: env(), timeoutMs: 60_000 });
    expect((await ctl('new', '--name', 'c1', '--profile', 'demo', '--task', 'create file c1.txt')).code).toBe(0);
    expect((await ctl('wait', 'c1', '--state', 'awaiting-approval', '--timeout', '60')).code).toBe(0);
    await waitFor(() => existsSync(path.join(repo.stateDir, 'canary')), 'the gate to have run', 10_000);
    await t.kill();
    // allowed once: no question the next time
    t = await dashboard();
    await new Promise((r) => setTimeout(r, 1500));
    expect(await t.capture()).not.toContain("Allow this repo's commands");
  }, 180_000);
});
