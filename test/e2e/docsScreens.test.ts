/**
 * The dashboard as docs/screens shows it: the built binary in tmux on the demo repo with six
 * demo-agent lanes in different states (awaiting approval with passing and failing gates, waiting
 * for input, failed, still running), captured as text at 80x24 and at 200x60.
 *
 * Every run checks the captures (six lanes, the header that counts the lanes needing the operator,
 * nothing wider or taller than the terminal); `npm run docs:screens` (AO_WRITE_SCREENS=1) also
 * writes them to docs/screens/dashboard-80x24.txt and docs/screens/dashboard-200x60.txt.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { createDemoRepo } from '../../src/demo/project.js';
import { CLI, runCli } from '../helpers/cliBin.js';
import { stopEverything } from '../helpers/laneProcs.js';
import type { TempRepo } from '../helpers/tempRepo.js';
import { startTmux, type TmuxSession } from '../helpers/tmux.js';
import { trustRepo, useTempTrustFile } from '../helpers/trust.js';
import { waitFor } from '../helpers/waitFor.js';

const SCREENS = fileURLToPath(new URL('../../docs/screens/', import.meta.url));
const ENV = { AO_DEMO_SPEED: '0', AO_DEMO_ORPHAN_SECS: '120' };
const HEADER = /^ao-console · repo \S+ · base /m;

/** Six lanes and the state each settles in. */
const LANES = [
  { name: 'add-greeting', task: 'create file src/greeting.js with a friendly greeting', state: 'awaiting-approval' },
  { name: 'deploy-key', task: 'secret: add the deploy configuration', state: 'awaiting-approval' },
  { name: 'docs-notes', task: 'ask before you create file docs/notes.md', state: 'waiting-input' },
  { name: 'price-format', task: 'fail while formatting the prices', state: 'failed' },
  { name: 'cart-lock', task: 'hang on the cart lock', state: 'running' },
  // hands off (HANDOFF marker), then waits for feedback: in review with its agent still running
  { name: 'changelog', task: 'rework: append to CHANGELOG.md the release notes', state: 'awaiting-approval' },
] as const;

let repo: TempRepo | null = null;
let t: TmuxSession | null = null;
afterAll(async () => {
  await t?.kill();
  if (repo) {
    await stopEverything(repo, ENV);
    await repo.cleanup();
  }
});

// The demo repo's test gate is a command: allowed as `ao-console demo` allows it (test/helpers/trust.ts).
const trustFile = useTempTrustFile();
const env = (r: TempRepo) => ({ ...ENV, AO_STATE_DIR: r.stateDir, AO_TRUST_FILE: trustFile.file });

async function states(r: TempRepo): Promise<Record<string, string>> {
  const out = await runCli(['lanes', '--json'], { cwd: r.dir, env: env(r) });
  const lanes = JSON.parse(out.stdout || '[]') as { name: string; state: string }[];
  return Object.fromEntries(lanes.map((l) => [l.name, l.state]));
}

function checkFits(screen: string, cols: number, rows: number): void {
  const ls = screen.replace(/\n$/, '').split('\n');
  expect(ls.length).toBeLessThanOrEqual(rows);
  for (const l of ls) expect(Array.from(l).length).toBeLessThanOrEqual(cols);
  expect(screen).toMatch(HEADER);
  expect(screen).toMatch(/^\* 5 need you/m);
}

it('captures the dashboard with six demo lanes at 80x24 and at 200x60', async () => {
  const dir = await createDemoRepo();
  await trustRepo(dir);
  const r: TempRepo = {
    dir,
    stateDir: path.join(dir, '.git', 'ao'),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
  repo = r;
  t = await startTmux({ command: [process.execPath, CLI], cwd: dir, env: env(r), cols: 80, rows: 24 });
  await t.waitFor((s) => HEADER.test(s), 'the dashboard header', 60_000);
  for (const lane of LANES) {
    const made = await runCli(['ctl', 'new', '--profile', 'demo', '--name', lane.name, '--task', lane.task], {
      cwd: dir,
      env: env(r),
      timeoutMs: 120_000,
    });
    expect(made.code, `${lane.name}: ${made.stdout}${made.stderr}`).toBe(0);
  }
  await waitFor(
    async () => {
      const now = await states(r);
      return LANES.every((l) => now[l.name] === l.state);
    },
    'the six lanes in their states',
    120_000,
    250,
  );

  const small = await t.waitFor(
    (s) => LANES.every((l) => s.includes(l.name.slice(0, 12))) && /^\* 5 need you/m.test(s),
    'six lanes at 80x24',
  );
  checkFits(small, 80, 24);

  await t.resize(200, 60);
  const big = await t.waitFor(
    (s) => LANES.every((l) => s.includes(l.name)) && s.split('\n').some((l) => l.length > 120),
    'six lanes at 200x60',
  );
  checkFits(big, 200, 60);

  if (process.env.AO_WRITE_SCREENS === '1') {
    mkdirSync(SCREENS, { recursive: true });
    const trim = (s: string): string => `${s.replace(/[ \t]+$/gm, '').replace(/\n+$/, '')}\n`;
    writeFileSync(path.join(SCREENS, 'dashboard-80x24.txt'), trim(small));
    writeFileSync(path.join(SCREENS, 'dashboard-200x60.txt'), trim(big));
  }
}, 300_000);
