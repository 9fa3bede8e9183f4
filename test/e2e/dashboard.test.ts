/**
 * The dashboard end to end: the built binary runs in tmux (a private server per test) in a
 * temp repo, keys are pressed by their binding id in the keymap table, and the assertions read
 * what the operator sees (capture-pane) or what is stored (git, the SQLite store, /proc).
 *
 * - one lane from the new-lane form through a permission question answered in attach mode,
 *   detach, handoff, gate verdicts and approve to a merge commit on the base branch; a second
 *   lane rejected with a reason that is stored; a resize the layout follows; quit with a lane
 *   that ignores SIGTERM and left an orphan behind, after which no lane process is alive;
 * - without a TTY: a clear message and exit 2;
 * - NO_COLOR: no colour escapes reach the screen (with the same screen in colour as the control);
 * - an agent's OSC 52 clipboard write and title change never reach tmux outside attach mode
 *   (with the same bytes written straight to tmux as the control).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../../lanes/git/git.js';
import { KEYMAP } from '../../src/keymap/index.js';
import { CLI, runCli } from '../helpers/cliBin.js';
import { alive, enginePid, laneProcesses, openStore, procTokens, stopEverything } from '../helpers/laneProcs.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { startTmux, type TmuxSession } from '../helpers/tmux.js';
import { waitFor } from '../helpers/waitFor.js';

/** Fast demo lanes; an orphan left by a failed run dies on its own after two minutes. */
const ENV = { AO_DEMO_SPEED: '0', AO_DEMO_ORPHAN_SECS: '120' };
/** Attach mode passes every key to the agent except this one (src/ui/attach.ts, DETACH_KEYS). */
const DETACH = 'ctrl-]';
// the dashboard, not the splash ("ao-console · repo x" over "starting the engine…")
const HEADER = /^ao-console · repo \S+ · base /;

/** The first key of a binding of the keymap table, by its id. */
function keyOf(id: string): string {
  const binding = KEYMAP.find((b) => b.id === id);
  if (!binding) throw new Error(`no binding ${id} in src/keymap/`);
  return binding.keys[0];
}

/** Presses the keys bound to each id, in order. */
async function press(t: TmuxSession, ...ids: string[]): Promise<void> {
  for (const id of ids) await t.press(keyOf(id));
}

const lines = (screen: string) => screen.replace(/\n$/, '').split('\n');

/** The lane list row of `name` (`› ★ hello  demo  awaiting approval ...`), or undefined. */
function laneRow(screen: string, name: string): string | undefined {
  return lines(screen).find((l) =>
    new RegExp(`^[› ][* ]\\S (${name.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')})\\s`).test(l),
  );
}

function laneState(screen: string, name: string): string | undefined {
  const row = laneRow(screen, name);
  return row?.match(
    /(created|queued|starting|running|idle|waiting input|gating|awaiting approval|merging|merged|discarded|failed|interrupted|stopped)/,
  )?.[1];
}

async function startDashboard(
  repo: TempRepo,
  opts: { env?: Record<string, string>; cols?: number; rows?: number; config?: string[] } = {},
): Promise<TmuxSession> {
  const t = await startTmux({
    command: [process.execPath, CLI],
    cwd: repo.dir,
    env: { ...ENV, AO_STATE_DIR: repo.stateDir, ...opts.env },
    cols: opts.cols ?? 120,
    rows: opts.rows ?? 36,
    config: opts.config,
  });
  await t.waitFor((s) => HEADER.test(s), 'the dashboard header', 60_000);
  return t;
}

/** Creates a lane through the new-lane form: name, profile (chosen with the arrow keys), task. */
async function newLaneViaForm(t: TmuxSession, lane: { name: string; profile: string; task: string }): Promise<void> {
  await press(t, 'lane.new');
  await t.waitFor('New lane', 'the new lane form');
  await t.type(lane.name); // the name field has focus first
  await press(t, 'form.next');
  // the profile field shows every profile, the chosen one in brackets: step right until it is ours
  const chosen = (screen: string) => /^[› ] profile .*?\[([^\]]+)\]/m.exec(screen)?.[1];
  let screen = await t.waitFor((s) => chosen(s) !== undefined, 'the profile field');
  for (let i = 0; chosen(screen) !== lane.profile; i++) {
    if (i > 20) throw new Error(`profile ${lane.profile} not offered by the form:\n${screen}`);
    const before = chosen(screen);
    await press(t, 'form.choiceNext');
    screen = await t.waitFor((s) => chosen(s) !== before, 'the next profile chosen');
  }
  await press(t, 'form.next');
  await t.type(lane.task);
  await t.waitFor(lane.task, 'the task typed into the form');
  await press(t, 'form.submit');
  await t.waitFor(
    (s) => laneRow(s, lane.name) !== undefined && !s.includes('New lane —'),
    `lane ${lane.name} in the list`,
    30_000,
  );
}

/** Moves the selection to lane `name` (the selected row starts with ›). */
async function select(t: TmuxSession, name: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const screen = await t.capture();
    const row = laneRow(screen, name);
    if (row?.startsWith('›')) return;
    await press(t, 'lanes.next');
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`could not select lane ${name}:\n${await t.capture()}`);
}

function waitForState(t: TmuxSession, name: string, states: string[], timeoutMs = 90_000): Promise<string> {
  return t.waitFor(
    (s) => states.includes(laneState(s, name) ?? ''),
    `lane ${name} in state ${states.join(' or ')}`,
    timeoutMs,
  );
}

describe('the dashboard in tmux: form, attach, handoff, approve, reject, resize, quit', () => {
  let repo: TempRepo;
  let t: TmuxSession;
  let laneRowAt120 = '';

  beforeAll(async () => {
    repo = await createTempRepo();
    t = await startDashboard(repo);
  });
  afterAll(async () => {
    await t?.kill();
    if (repo) {
      await stopEverything(repo, ENV);
      await repo.cleanup();
    }
  });

  it('creates a demo lane through the form, answers its permission question in attach mode and detaches', async () => {
    await newLaneViaForm(t, { name: 'hello', profile: 'demo', task: 'ask, then create file hello.txt' });
    await waitForState(t, 'hello', ['waiting input']);
    await select(t, 'hello');

    // attach: the lane's current screen is drawn at once, with the status line
    await press(t, 'lane.attach');
    await t.waitFor(
      (s) => s.includes('Allow write to hello.txt? [y/n]') && s.includes('attached to hello'),
      'the attached lane asking its question',
    );
    // detach without answering: the dashboard comes back, the lane still waits
    await t.press(DETACH);
    let screen = await t.waitFor(
      (s) => HEADER.test(s) && laneState(s, 'hello') === 'waiting input',
      'the dashboard after ctrl-]',
    );
    expect(screen).not.toContain('attached to hello');

    // attach again and answer
    await press(t, 'lane.attach');
    await t.waitFor('attached to hello', 'attach mode again');
    await t.press('y', 'enter');
    // the agent goes on, commits and exits, which ends attach mode; detach if it is still attached
    screen = await t.waitFor(
      (s) => HEADER.test(s) || /Committed 1 file: hello\.txt/.test(s),
      'the answer taken',
      60_000,
    );
    if (!HEADER.test(screen)) {
      await t.press(DETACH);
      await t.waitFor((s) => HEADER.test(s), 'the dashboard after ctrl-]');
    }
  }, 180_000);

  it('hands off, shows the gate verdicts, and approve merges into the base branch', async () => {
    const state = laneState(await t.capture(), 'hello');
    if (state && ['running', 'idle', 'waiting input'].includes(state)) await press(t, 'lane.handoff');
    await waitForState(t, 'hello', ['awaiting approval']);
    // the focus pane of a lane in review: its gate verdicts and its diff
    const screen = await t.waitFor(/✓ PASS\s+merge-clean/, 'the gate verdicts in the focus pane', 30_000);
    expect(screen).toMatch(/✓ PASS\s+merge-clean/);
    expect(screen).toMatch(/✓ PASS\s+no-secrets/);
    expect(screen).toContain('hello.txt');
    expect(laneRow(screen, 'hello')).toMatch(/\d+\/\d+ pass/);

    await press(t, 'review.approve');
    await t.waitFor((s) => laneState(s, 'hello') === 'merged' || s.includes('y/enter yes'), 'merged or a confirmation');
    if ((await t.capture()).includes('y/enter yes')) await press(t, 'confirm.yes');
    await waitForState(t, 'hello', ['merged'], 60_000);
    await t.waitFor(/✓ 1 merged/, 'the header counting the merge');

    const merges = (await git(['log', '--merges', '--format=%P %s', 'main'], { cwd: repo.dir })).stdout
      .trim()
      .split('\n');
    expect(merges).toHaveLength(1);
    expect(merges[0]).toMatch(/hello/);
    const db = openStore(repo);
    const head = (db.prepare("SELECT head_commit FROM lanes WHERE name = 'hello'").get() as { head_commit: string })
      .head_commit;
    db.close();
    expect(merges[0].split(' ').slice(0, 2)).toContain(head); // the lane's head is a parent of the merge
    expect((await git(['show', 'main:hello.txt'], { cwd: repo.dir })).stdout).toMatch(/Created by the ao-demo agent/);
  }, 180_000);

  it('rejects a second lane with a reason, and the reason is stored', async () => {
    await newLaneViaForm(t, { name: 'nope', profile: 'demo', task: 'create file nope.txt' });
    await waitForState(t, 'nope', ['awaiting approval']);
    await select(t, 'nope');
    await press(t, 'review.reject');
    await t.waitFor('Reject nope', 'the reject form');
    const reason = 'needs a test for nope.txt';
    await t.type(reason);
    await t.waitFor(reason, 'the reason typed');
    await press(t, 'reject.next');
    await t.waitFor((s) => s.includes('D discard') && !s.includes('type the reason'), 'the rework-or-discard step');
    await press(t, 'reject.discard');
    await waitForState(t, 'nope', ['discarded'], 60_000);
    await t.waitFor(/⊘ 1 rejected/, 'the header counting the rejection');

    const db = openStore(repo);
    const decisions = db
      .prepare(
        "SELECT d.action, d.mode, d.reason FROM decisions d JOIN lanes l ON l.id = d.lane_id WHERE l.name = 'nope' ORDER BY d.id",
      )
      .all();
    db.close();
    expect(decisions).toEqual([{ action: 'reject', mode: 'discard', reason }]);
    // nothing of the rejected lane reached the base branch
    expect((await git(['ls-tree', '--name-only', 'main'], { cwd: repo.dir })).stdout).not.toContain('nope.txt');
    laneRowAt120 = laneRow(await t.capture(), 'hello') ?? '';
  }, 180_000);

  it('follows a resize of the window: header and footer stay, rows are laid out again for the new width', async () => {
    expect(laneRowAt120.length).toBeGreaterThan(90);
    const before = await t.capture();
    await t.resize(90, 30);
    expect(await t.size()).toEqual({ cols: 90, rows: 30 });
    const screen = await t.waitFor((s) => {
      const row = laneRow(s, 'hello');
      return HEADER.test(s) && row !== undefined && row !== laneRowAt120.slice(0, 90);
    }, 'the layout at 90x30');
    const rows = lines(screen);
    expect(rows.length).toBeLessThanOrEqual(30);
    expect(rows[0]).toMatch(HEADER); // a frame taller than the window would have scrolled the header away
    for (const l of rows) expect(Array.from(l).length).toBeLessThanOrEqual(90);
    // the footer is on the bottom rows, whole
    const footerAt = rows.findIndex((l) => /\bq quit\b/.test(l));
    expect(footerAt).toBeGreaterThanOrEqual(rows.length - 4);
    expect(rows[footerAt]).toMatch(/\? help/);
    // each lane row is one row (no wrap) that starts like a lane row
    for (const name of ['hello', 'nope'])
      expect(laneRow(screen, name)).toMatch(new RegExp(`^[› ][* ]\\S ${name}\\s+demo\\s`));
    // taller again: still one frame from the top
    await t.resize(100, 40);
    await t.waitFor(
      (s) => HEADER.test(s) && lines(s).length === 40 && lines(s).some((l) => /\bq quit\b/.test(l)),
      'the layout at 100x40',
    );
    // narrower still (the lane's screen reflows), then back: nothing of the narrow frames is left
    await t.resize(50, 16);
    await t.waitFor((s) => HEADER.test(s) && lines(s).every((l) => Array.from(l).length <= 50), 'the layout at 50x16');
    await t.resize(120, 36);
    // the focus pane row for row as it was before the resizes (not the lane rows, whose time
    // column moves on, nor the flash line, where a message may expire, nor the footer)
    const steady = (s: string) =>
      lines(s).filter(
        (l) => l.trim() && !laneRow(l, 'hello') && !laneRow(l, 'nope') && !/^[•!✗] /.test(l) && !/\bq quit\b/.test(l),
      );
    await t.waitFor((s) => steady(s).join('\n') === steady(before).join('\n'), 'the 120x36 frame as before', 10_000);
  }, 120_000);

  it('quits with "stop every lane and the engine": asks first, then no lane process is alive', async () => {
    // a lane that ignores SIGTERM and SIGHUP and left a detached child in its own session
    await newLaneViaForm(t, { name: 'stubborn', profile: 'demo', task: 'hang orphan create file stubborn.txt' });
    await t.waitFor(/Waiting for a lock that never frees/, 'the hanging agent', 60_000);
    const tokens = procTokens(repo);
    expect(tokens.length).toBe(3);
    const before = await waitFor(
      () => (laneProcesses(repo, tokens).length >= 2 ? laneProcesses(repo, tokens) : null),
      'the agent and its orphan to run',
    );
    expect(before.length).toBeGreaterThanOrEqual(2); // the check below can see lane processes

    const engine = enginePid(repo);
    expect(engine).not.toBeNull();
    await press(t, 'app.quit');
    await t.waitFor(/keep running/, 'the quit confirmation');
    await press(t, 'confirm.stopEngine'); // the second choice, never the default
    // SIGTERM, then SIGKILL after the grace period, then whatever still carries a lane's token
    await waitFor(() => laneProcesses(repo, tokens).length === 0, 'every lane process to end', 60_000);
    const db = openStore(repo);
    const stubborn = db.prepare("SELECT state FROM lanes WHERE name = 'stubborn'").get() as { state: string };
    db.close();
    expect(stubborn.state).toBe('interrupted'); // stopping interrupts: the lane can be resumed later
    await waitFor(() => !alive(engine!), 'the engine to exit', 30_000);
  }, 180_000);

  it('exits 0 after quit, leaving the alternate screen, with the session recorded as ended', async () => {
    expect(await t.waitForExit(60_000)).toBe(0);
    expect(await t.capture()).not.toMatch(HEADER); // the operator's screen is back
    const db = openStore(repo);
    const session = db.prepare('SELECT ended_at, end_reason FROM sessions').get() as {
      ended_at: number | null;
      end_reason: string | null;
    };
    db.close();
    expect(session.ended_at).not.toBeNull();
    expect(laneProcesses(repo, procTokens(repo))).toEqual([]);
  }, 120_000);
});

describe('the dashboard without a terminal', () => {
  let repo: TempRepo;
  beforeAll(async () => {
    repo = await createTempRepo();
  });
  afterAll(async () => repo?.cleanup());

  it('says what to use instead and exits 2', async () => {
    const r = await runCli([], { cwd: repo.dir, env: { ...ENV, AO_STATE_DIR: repo.stateDir } }); // stdin is /dev/null, stdout a pipe
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs an interactive terminal/);
    expect(r.stderr).toMatch(/ao-console serve/);
    expect(r.stderr).toMatch(/ao-console ctl/);
    expect(r.stdout).toBe('');
  });
});

/**
 * A repo profile whose agent prints an OSC 52 clipboard write, two title changes and red text,
 * then waits.
 */
async function addLeakyProfile(repo: TempRepo): Promise<void> {
  const dir = path.join(repo.dir, '.ao', 'profiles');
  await mkdir(dir, { recursive: true });
  const script = path.join(repo.dir, '.ao', 'leaky-agent.mjs');
  await writeFile(
    script,
    [
      "process.stdout.write('\\x1b]52;c;SGVsbG8=\\x07');",
      "process.stdout.write('\\x1b]0;pwned\\x07\\x1b]2;pwned-too\\x1b\\\\');",
      "process.stdout.write('\\x1b[31mred agent text\\x1b[0m\\r\\nleaky agent: sequences written\\r\\n');",
      'setInterval(() => {}, 1 << 30);',
      '',
    ].join('\n'),
  );
  await writeFile(
    path.join(dir, 'leaky.json'),
    JSON.stringify({
      description: 'writes OSC 52 and title sequences',
      command: '{node}',
      args: [script],
      taskInput: 'none',
      envPassthrough: ['PATH', 'HOME'],
      handoffOnExit: false,
      patterns: { busy: [], waitingInput: [] },
    }),
  );
}

/**
 * SGR escapes that set a colour: parameters 30–38, 40–48, 90–97, 100–107 (38/48 are the
 * extended forms). 39 and 49 only reset to the default colour; tmux emits them around other
 * attributes (bold, reverse), so they are not colour.
 */
function colourEscapes(screen: string): string[] {
  const found: string[] = [];
  for (const m of screen.matchAll(/\x1b\[([0-9;:]*)m/g)) {
    const params = m[1].split(/[;:]/).map(Number);
    if (params.some((p) => (p >= 30 && p <= 48 && p !== 39) || (p >= 90 && p <= 97) || (p >= 100 && p <= 107)))
      found.push(JSON.stringify(m[0]));
  }
  return found;
}

describe('what reaches the operator terminal', () => {
  const sessions: TmuxSession[] = [];
  const repos: TempRepo[] = [];
  afterEach(async () => {
    for (const s of sessions.splice(0)) await s.kill();
    for (const r of repos.splice(0)) {
      await stopEverything(r, ENV);
      await r.cleanup();
    }
  });

  async function dashboardWithLeakyLane(
    env: Record<string, string> = {},
    config?: string[],
  ): Promise<{ t: TmuxSession; screen: string }> {
    const repo = await createTempRepo();
    repos.push(repo);
    await addLeakyProfile(repo);
    const t = await startDashboard(repo, { env, config });
    sessions.push(t);
    await newLaneViaForm(t, { name: 'leaky', profile: 'leaky', task: 'print escape sequences' });
    const screen = await t.waitFor(
      (s) => s.includes('leaky agent: sequences written') && laneState(s, 'leaky') !== 'starting',
      'the agent output in the focus pane',
      60_000,
    );
    return { t, screen };
  }

  it('NO_COLOR=1: no colour escapes on the screen, not even the agent’s own red', async () => {
    const plain = await dashboardWithLeakyLane({ NO_COLOR: '1' });
    const coloured = await dashboardWithLeakyLane();
    const plainScreen = await plain.t.capture({ escapes: true });
    const colouredScreen = await coloured.t.capture({ escapes: true });
    // the control: the same screen without NO_COLOR has colour, including the agent's red text
    expect(colouredScreen).toContain('red agent text');
    expect(colourEscapes(colouredScreen).length).toBeGreaterThan(0);
    expect(colouredScreen).toMatch(/\x1b\[(?:[0-9;]*;)?(?:31|38;5;1|38;2;\d+;0;0)m[^\n]*red agent text/);
    expect(plainScreen).toContain('red agent text');
    expect(colourEscapes(plainScreen)).toEqual([]);
  }, 240_000);

  it('an agent’s OSC 52 clipboard write and title change never get through outside attach mode', async () => {
    const { t } = await dashboardWithLeakyLane({}, ['set -g set-clipboard on']);
    const titleBefore = await t.display('#{pane_title}');
    // let a few frames pass with the lane's screen drawn
    await new Promise((r) => setTimeout(r, 1500));
    await t.waitFor('leaky agent: sequences written', 'the agent output still shown');
    expect(await t.display('#{pane_title}')).toBe(titleBefore);
    expect(await t.display('#{pane_title}')).not.toMatch(/pwned/);
    expect((await t.tmux('list-buffers')).trim()).toBe('');

    // the control: the same bytes written straight to a tmux pane do set the title and a buffer
    await t.tmux(
      'new-window',
      '-d',
      '-t',
      `${t.socket}:9`,
      process.execPath,
      '-e',
      "process.stdout.write('\\x1b]52;c;SGVsbG8=\\x07\\x1b]0;pwned\\x07'); setTimeout(() => {}, 60000)",
    );
    await waitFor(
      async () => (await t.display('#{pane_title}', `${t.socket}:9.0`)) === 'pwned',
      'the control pane title',
      10_000,
    );
    await waitFor(
      async () =>
        (await t.tmux('list-buffers')).includes('Hello') ||
        (await t.tmux('show-buffer').catch(() => '')).includes('Hello'),
      'the control clipboard buffer',
      10_000,
    );
    // and the dashboard's pane is still untouched
    expect(await t.display('#{pane_title}')).toBe(titleBefore);
  }, 180_000);
});
