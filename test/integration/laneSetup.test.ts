/**
 * Lane setup (lanes/supervisor/laneSetup.ts) against real git, real ptys (the demo agent) and a
 * real SQLite file: files copied and linked from the main checkout and the setup command run in
 * a new lane's worktree before its agent starts; nothing setup added is in the handoff commit; a
 * failing or hanging setup command fails the lane with its output; an untrusted setup command
 * never runs, and runs once the commands are allowed and the lane is resumed.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { waitFor } from '../helpers/waitFor.js';
import { trustRepo, useTempTrustFile } from '../helpers/trust.js';
import { createSupervisor, type Supervisor } from '../../lanes/supervisor/supervisor.js';
import { git } from '../../lanes/git/git.js';
import type { LaneState } from '../../lanes/lane/types.js';
import { decodeChunk } from '../../lanes/store/output.js';

const trustFile = useTempTrustFile();
const env = { ...process.env, AO_DEMO_SPEED: '0' };

let repo: TempRepo | null = null;
let sup: Supervisor | null = null;

afterEach(async () => {
  await sup?.shutdown('test over');
  sup = null;
  await repo?.cleanup();
  repo = null;
});
afterAll(() => trustFile.cleanup());

async function start(setup: object, opts: { trust?: boolean } = {}): Promise<Supervisor> {
  repo = await createTempRepo({
    files: {
      'README.md': '# temp repo\n',
      // `node_modules/` matches directories only: a node_modules symlink is not ignored by it
      '.gitignore': 'node_modules/\n',
      'config/app.json': '{"tracked": true}\n',
    },
  });
  // what the main checkout has that git does not: an env file and installed dependencies
  await writeFile(path.join(repo.dir, '.env'), 'SECRET_TOKEN=abc123\n');
  await mkdir(path.join(repo.dir, 'node_modules', 'left-pad'), { recursive: true });
  await writeFile(path.join(repo.dir, 'node_modules', 'left-pad', 'index.js'), 'module.exports = 1;\n');
  await mkdir(path.join(repo.dir, '.ao'), { recursive: true });
  await writeFile(path.join(repo.dir, '.ao', 'config.json'), JSON.stringify({ setup }));
  if (opts.trust !== false) await trustRepo(repo.dir);
  sup = await createSupervisor({
    repoRoot: repo.dir,
    stateDir: repo.stateDir,
    cols: 100,
    rows: 30,
    env,
    tickMs: 100,
    stopGraceMs: 1000,
  });
  return sup;
}

const stateOf = (lane: string) => sup!.getLane(lane)?.state;
const reach = (lane: string, s: LaneState, ms = 30_000) =>
  waitFor(() => stateOf(lane) === s, `${lane} to be ${s} (is ${stateOf(lane)})`, ms);

interface EventRow {
  kind: string;
  from_state: string | null;
  to_state: string | null;
  cause: string | null;
}

function events(lane: string): EventRow[] {
  const d = new Database(path.join(repo!.stateDir, 'ao.db'), { readonly: true });
  try {
    return d
      .prepare(
        `SELECT e.kind, e.from_state, e.to_state, e.cause FROM lane_events e JOIN lanes l ON l.id = e.lane_id
         WHERE l.name = ? ORDER BY e.id`,
      )
      .all(lane) as EventRow[];
  } finally {
    d.close();
  }
}

function recorded(lane: string): string {
  const d = new Database(path.join(repo!.stateDir, 'ao.db'), { readonly: true });
  try {
    const rows = d
      .prepare(
        `SELECT o.data, o.enc FROM output_chunks o JOIN lanes l ON l.id = o.lane_id WHERE l.name = ? ORDER BY o.seq`,
      )
      .all(lane) as { data: Buffer; enc: number }[];
    return Buffer.concat(rows.map((r) => decodeChunk(r.enc, r.data))).toString('utf8');
  } finally {
    d.close();
  }
}

const agentStarted = (lane: string) =>
  events(lane).some((e) => e.from_state === 'starting' && e.to_state === 'running');

describe('lane setup', () => {
  it('copies, links and runs before the agent starts; nothing it added is committed at handoff', async () => {
    await start({
      copy: ['.env', '.env.local', 'config/app.json'],
      link: ['node_modules'],
      shell: 'echo setup-output-here; ls -a > setup-listing.txt; test -L node_modules',
    });
    await sup!.newLane({ name: 'ready', profile: 'demo', task: 'create file src/a.txt' });
    await reach('ready', 'awaiting-approval');
    const wt = sup!.getLane('ready')!.worktree;

    // copied, linked, and the command saw both
    expect(readFileSync(path.join(wt, '.env'), 'utf8')).toBe('SECRET_TOKEN=abc123\n');
    expect(lstatSync(path.join(wt, 'node_modules')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(path.join(wt, 'node_modules'))).toBe(path.join(repo!.dir, 'node_modules'));
    expect(readdirSync(path.join(wt, 'node_modules'))).toEqual(['left-pad']);
    const listing = readFileSync(path.join(wt, 'setup-listing.txt'), 'utf8').split('\n');
    expect(listing).toEqual(expect.arrayContaining(['.env', 'node_modules']));

    // in the lane's events: the missing file and the tracked one as notes, setup done before the agent
    const ev = events('ready');
    const causes = ev.map((e) => e.cause ?? '');
    expect(causes).toContain('setup: .env.local skipped: it does not exist in the main checkout');
    expect(causes.some((c) => c.startsWith('setup: config/app.json not copied: git tracks it'))).toBe(true);
    const done = ev.findIndex((e) => e.kind === 'setup-done');
    const running = ev.findIndex((e) => e.from_state === 'starting' && e.to_state === 'running');
    expect(done).toBeGreaterThan(-1);
    expect(running).toBeGreaterThan(done);
    // the setup command's output is in the lane's recording
    expect(recorded('ready')).toContain('setup-output-here');

    // the handoff commit has the agent's file only
    const changed = (await git(['diff', '--name-only', 'main', 'ao/ready'], { cwd: repo!.dir })).stdout.trim();
    expect(changed.split('\n')).toEqual(['src/a.txt']);
    const review = await sup!.review('ready');
    expect(review.diffStat.map((d) => d.path)).toEqual(['src/a.txt']);
    expect(review.diff).not.toContain('SECRET_TOKEN');
  });

  it('a failing setup command fails the lane with its output; the agent never starts', async () => {
    await start({ shell: 'echo preparing; echo broken-dependency-xyz >&2; exit 3' });
    await sup!.newLane({ name: 'broken', profile: 'demo', task: 'create file src/a.txt' });
    await reach('broken', 'failed');
    const last = events('broken')
      .filter((e) => e.kind === 'state')
      .at(-1)!;
    expect(last.cause).toContain('setup command exited with code 3');
    expect(last.cause).toContain('broken-dependency-xyz');
    expect(agentStarted('broken')).toBe(false);
    // the lane's screen is the setup command's
    expect(sup!.screenText('broken').join('\n')).toContain('broken-dependency-xyz');
    expect(existsSync(path.join(sup!.getLane('broken')!.worktree, 'src', 'a.txt'))).toBe(false);
  });

  it('a setup command past its timeout is killed with its process group and fails the lane', async () => {
    const marker = `31.${process.pid}`;
    await start({ shell: `sleep ${marker} & echo waiting-forever; sleep ${marker}`, timeoutSec: 1 });
    await sup!.newLane({ name: 'hangs', profile: 'demo', task: 'create file src/a.txt' });
    await reach('hangs', 'failed', 20_000);
    const last = events('hangs')
      .filter((e) => e.kind === 'state')
      .at(-1)!;
    expect(last.cause).toContain('setup command timed out after 1 s (process group killed)');
    expect(last.cause).toContain('waiting-forever');
    await waitFor(() => !sleepers(marker), 'the setup command and its background child to be gone', 10_000);
    expect(agentStarted('hangs')).toBe(false);
  });

  it('an untrusted setup command never runs; allowed and resumed, it runs and the agent starts', async () => {
    await start({ shell: 'echo ran > setup-ran.txt' }, { trust: false });
    await sup!.newLane({ name: 'wary', profile: 'demo', task: 'create file src/a.txt' });
    await reach('wary', 'failed');
    const wt = sup!.getLane('wary')!.worktree;
    const last = events('wary')
      .filter((e) => e.kind === 'state')
      .at(-1)!;
    expect(last.cause).toMatch(/^setup command not run: the repo config's commands are not allowed yet/);
    expect(last.cause).toContain('ao-console trust');
    expect(existsSync(path.join(wt, 'setup-ran.txt'))).toBe(false);
    expect(agentStarted('wary')).toBe(false);

    await trustRepo(repo!.dir);
    await sup!.resume('wary');
    await reach('wary', 'awaiting-approval');
    expect(readFileSync(path.join(wt, 'setup-ran.txt'), 'utf8')).toBe('ran\n');
    const changed = (await git(['diff', '--name-only', 'main', 'ao/wary'], { cwd: repo!.dir })).stdout.trim();
    expect(changed).toBe('src/a.txt');
  });
});

/** Whether a process whose command line holds `sleep <marker>` is alive. */
function sleepers(marker: string): boolean {
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
      if (cmd.includes(`sleep ${marker}`) && state !== 'Z') return true;
    } catch {
      // gone
    }
  }
  return false;
}
