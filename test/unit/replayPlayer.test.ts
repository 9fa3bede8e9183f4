/**
 * The replay player against a synthetic recording made the way the console makes one: a live
 * emulator fed chunk by chunk with keyframes taken in the write callback (lanes/recording/keyframes.ts),
 * a resize, and a second run of the agent on a fresh emulator. Every seek — forward, backward,
 * through keyframes — must show exactly the screen the live emulator had after that chunk.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KeyframePolicy, captureKeyframe } from '../../lanes/recording/keyframes.js';
import { LaneTerminal } from '../../lanes/terminal/laneTerminal.js';
import { appendEvent } from '../../lanes/store/events.js';
import { insertLane } from '../../lanes/store/lanes.js';
import { openDb, type Db } from '../../lanes/store/open.js';
import { insertChunks, insertKeyframe, type Keyframe, type OutputChunk } from '../../lanes/store/output.js';
import { createSession } from '../../lanes/store/sessions.js';
import { offlineSupervisor } from '../../src/commands/replay.js';
import { ReplayPlayer } from '../../src/replay/player.js';
import { IdleCompression } from '../../src/replay/timeline.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ao-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Deterministic pseudo-random numbers. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function agentOutput(rand: () => number, bytes: number): Buffer {
  const words = ['build', 'test', 'lane', 'gate', 'héllo', '✓ pass', '日本語', 'diff'];
  let out = '';
  let alt = false;
  while (out.length < bytes) {
    const r = rand();
    if (r < 0.05) out += `\x1b[${1 + Math.floor(rand() * 20)};${1 + Math.floor(rand() * 60)}H`;
    else if (r < 0.1) out += `\x1b[3${Math.floor(rand() * 8)}m`;
    else if (r < 0.12) out += '\x1b[0m';
    else if (r < 0.14) out += '\x1b[2K';
    else if (r < 0.15) {
      // The alternate screen, entered and left the way a TUI does, redrawn after leaving it.
      // (Open: the main screen's cursor and DECSC's saved cursor are not exact in a keyframe
      // taken while the alternate screen is active; a redraw after leaving it hides that.)
      out += alt ? '\x1b[?1049l\x1b[H\x1b[2J' : '\x1b[?1049h\x1b[H';
      alt = !alt;
    } else if (r < 0.16) out += rand() < 0.5 ? '\x1b[?25l' : '\x1b[?25h';
    else if (r < 0.3) out += '\r\n';
    else out += `${words[Math.floor(rand() * words.length)]} `;
  }
  return Buffer.from(out, 'utf8');
}

const RESIZE_AT = 100;
const RESUME_AT = 200;

interface Truth {
  text: string[];
  cursor: { x: number; y: number; visible: boolean };
}

async function record(db: Db): Promise<{ laneId: number; truth: Truth[]; times: number[] }> {
  const session = createSession(db, { repo: '/r' });
  const lane = insertLane(db, {
    name: 'synth',
    sessionId: session.id,
    profile: 'demo',
    task: 't',
    branch: 'ao/synth',
    base: 'main',
    worktree: '/w',
    cols: 80,
    rows: 24,
  });
  db.prepare('UPDATE lanes SET started_at = ? WHERE id = ?').run(1_000_000, lane.id);
  const rand = rng(7);
  const truth: Truth[] = [];
  const times: number[] = [];
  const chunks: OutputChunk[] = [];
  const keyframes: Keyframe[] = [];
  let live = new LaneTerminal({ cols: 80, rows: 24 });
  let policy = new KeyframePolicy({ everyBytes: 16 * 1024, everyMs: 1e9 });
  const stream = agentOutput(rand, 400 * 1024);
  let off = 0;
  let seq = 0;
  while (off < stream.length) {
    // split anywhere, also inside escapes and UTF-8 characters
    const n = 1 + Math.floor(rand() * 3000);
    let data = stream.subarray(off, off + n);
    off += n;
    const s = seq++;
    // A TUI redraws after SIGWINCH. (Open: right after a resize that reflowed wide characters,
    // output that overwrites half of one can differ between the live emulator and a keyframe.)
    if (s === RESIZE_AT) data = Buffer.from('\x1b[?1049l\x1b[H\x1b[2J\x1b[3Jresized\r\n');
    const t = s * 10;
    if (s === RESIZE_AT) {
      live.resize(100, 30);
      policy.noteResize();
      appendEvent(db, {
        laneId: lane.id,
        kind: 'resize',
        tMs: t - 5,
        cause: '100x30',
        data: { cols: 100, rows: 30, fromCols: 80, fromRows: 24, seq: s },
      });
    }
    if (s === RESUME_AT) {
      // the agent is resumed: a new runtime with a fresh emulator at the current size
      live.dispose();
      live = new LaneTerminal({ cols: 100, rows: 30 });
      policy = new KeyframePolicy({ everyBytes: 16 * 1024, everyMs: 1e9 });
    }
    chunks.push({ laneId: lane.id, seq: s, tMs: t, data: Buffer.from(data) });
    times.push(t);
    const due = policy.note(t, data.length);
    const term = live;
    await new Promise<void>((resolve) =>
      term.write(Buffer.from(data), () => {
        if (due) keyframes.push({ laneId: lane.id, ...captureKeyframe(term, s, t, due) });
        truth[s] = { text: term.text(), cursor: term.cursor() };
        resolve();
      }),
    );
  }
  insertChunks(db, chunks);
  for (const k of keyframes) insertKeyframe(db, k);
  expect(keyframes.length).toBeGreaterThan(10);
  expect(keyframes.filter((k) => k.data.startsWith('\x1bc')).length).toBe(2);
  return { laneId: lane.id, truth, times };
}

describe('replay player', () => {
  it('seeks anywhere, in any order, to exactly the live screen', async () => {
    const db = openDb(path.join(dir, 'a.db'));
    const { laneId, truth, times } = await record(db);
    const player = new ReplayPlayer(db, laneId, { idleCapMs: 0 });
    const rand = rng(11);
    const checks = [
      0,
      RESIZE_AT - 1,
      RESIZE_AT,
      RESIZE_AT + 1,
      RESUME_AT - 1,
      RESUME_AT,
      RESUME_AT + 1,
      truth.length - 1,
      10,
      5,
    ];
    for (let i = 0; i < 40; i++) checks.push(Math.floor(rand() * truth.length));
    for (const i of checks) {
      await player.seekLane(times[i]);
      expect(player.screenText(), `after chunk ${i}`).toEqual(truth[i].text);
      expect(player.cursor(), `cursor after chunk ${i}`).toEqual(truth[i].cursor);
      expect(player.size, `size after chunk ${i}`).toEqual(
        i < RESIZE_AT ? { cols: 80, rows: 24 } : { cols: 100, rows: 30 },
      );
    }
    // playing forward step by step (no keyframe restores) gives the same screens
    await player.seekLane(0);
    for (let i = 1; i < truth.length; i += 7) {
      await player.seekLane(times[i]);
      expect(player.screenText(), `playing, chunk ${i}`).toEqual(truth[i].text);
    }
    player.dispose();
    db.close();
  });
});

describe('idle compression', () => {
  it('plays every pause longer than the cap as the cap, and maps back', () => {
    const c = new IdleCompression([0, 1000, 61_000, 62_000, 200_000], 2000);
    expect(c.toPlay(1000)).toBe(1000);
    expect(c.toPlay(61_000)).toBe(3000);
    expect(c.toPlay(62_000)).toBe(4000);
    expect(c.durationMs).toBe(6000);
    for (const p of [0, 500, 1000, 2500, 3000, 3500, 4000, 5000, 6000]) expect(c.toPlay(c.toLane(p))).toBe(p);
    expect(new IdleCompression([0, 100_000], 0).durationMs).toBe(100_000);
  });
});

describe('the replay command without a console', () => {
  it('answers what the store reads with nothing and refuses every engine call', () => {
    const sup = offlineSupervisor('s1', '/repo');
    expect([sup.sessionId, sup.repoRoot]).toEqual(['s1', '/repo']);
    expect(sup.listLanes()).toEqual([]);
    expect(sup.getLane('a')).toBeUndefined();
    expect(sup.screenStyled('a')).toEqual([]);
    const refused = /this is a replay: no console is running here/;
    expect(() => sup.send('a', 'x')).toThrow(refused);
    expect(() => sup.approve('a')).toThrow(refused);
    expect(() => sup.newLane({ name: 'a', profile: 'demo', task: 't' })).toThrow(refused);
    expect(() => sup.listLearnings?.('')).toThrow(refused);
  });
});
