/**
 * The text export across a resume: the agent's earlier run (a full-screen TUI on the alternate
 * screen, and a shell-like run that left its cursor at the top) stays in the export above the
 * resumed run, as the live lane showed it before the resume.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RESET_PREFIX } from '../../lanes/recording/keyframes.js';
import { insertLane } from '../../lanes/store/lanes.js';
import { openDb, type Db } from '../../lanes/store/open.js';
import { insertChunks, insertKeyframe } from '../../lanes/store/output.js';
import { createSession } from '../../lanes/store/sessions.js';
import { exportText } from '../../src/replay/export.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ao-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A lane whose recording holds `runs`, each a list of chunks; every run starts with a reset keyframe. */
function recordRuns(db: Db, name: string, runs: string[][]): number {
  const session = createSession(db, { repo: '/r' });
  const lane = insertLane(db, {
    name,
    sessionId: session.id,
    profile: 'demo',
    task: 't',
    branch: `ao/${name}`,
    base: 'main',
    worktree: '/w',
    cols: 40,
    rows: 8,
  });
  let seq = 0;
  for (const run of runs) {
    insertKeyframe(db, { laneId: lane.id, seq, tMs: seq * 10, cols: 40, rows: 8, data: RESET_PREFIX });
    insertChunks(
      db,
      run.map((data) => ({ laneId: lane.id, seq: seq, tMs: seq++ * 10, data: Buffer.from(data, 'utf8') })),
    );
  }
  return lane.id;
}

async function textOf(db: Db, laneId: number): Promise<string[]> {
  let text = '';
  await exportText(db, laneId, (s) => void (text += s));
  return text.split('\n');
}

describe('text export across a resume', () => {
  it('keeps the last screen of a full-screen TUI the lane had before it was resumed', async () => {
    const db = openDb(path.join(dir, 'tui.db'));
    const laneId = recordRuns(db, 'tui', [
      ['before the tui\r\n', '\x1b[?1049h\x1b[H\x1b[2JTUI-HEADER\x1b[8;1HTUI-FOOTER'],
      ['resumed agent\r\n$ '],
    ]);
    const lines = await textOf(db, laneId);
    const at = (s: string): number => lines.findIndex((l) => l.includes(s));
    expect(at('before the tui')).toBeGreaterThanOrEqual(0);
    expect(at('TUI-HEADER')).toBeGreaterThan(at('before the tui'));
    expect(at('TUI-FOOTER')).toBeGreaterThan(at('TUI-HEADER'));
    expect(at('resumed agent')).toBeGreaterThan(at('TUI-FOOTER'));
    db.close();
  });

  it('keeps the old screen when the earlier run left its cursor at the top', async () => {
    const db = openDb(path.join(dir, 'top.db'));
    const rows = Array.from({ length: 6 }, (_, i) => `OLD-${i}`).join('\r\n');
    const laneId = recordRuns(db, 'top', [[rows, '\x1b[H'], ['NEW-RUN\r\n']]);
    const lines = await textOf(db, laneId);
    for (let i = 0; i < 6; i++) expect(lines, `OLD-${i}`).toContain(`OLD-${i}`);
    expect(lines.indexOf('NEW-RUN')).toBeGreaterThan(lines.indexOf('OLD-5'));
    db.close();
  });
});
