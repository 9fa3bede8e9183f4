/**
 * Review comments end to end with real git, a real pty and the demo agent: comments on the diff
 * go to the agent with a rework (typed into its pty, or as a file for long ones), its next
 * commit changes the commented lines and the comments then read addressed; `ctl comment`,
 * `ctl comments` and `show --json` through a real control server over the same supervisor.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { waitFor } from '../helpers/waitFor.js';
import { runCli } from '../helpers/cliBin.js';
import { createSupervisor, type Supervisor } from '../../lanes/supervisor/supervisor.js';
import { startControlServer, type ControlServer } from '../../lanes/control/server.js';
import { socketFile } from '../../lanes/config/paths.js';
import { git } from '../../lanes/git/git.js';
import type { LaneState } from '../../lanes/lane/types.js';
import type { ReviewComment } from '../../lanes/supervisor/api.js';
import { decodeChunk } from '../../lanes/store/output.js';

const env = { ...process.env, AO_DEMO_SPEED: '0' };

describe('review comments with the demo agent', () => {
  let repo: TempRepo;
  let sup: Supervisor;
  let server: ControlServer | null = null;

  beforeEach(async () => {
    repo = await createTempRepo();
    sup = await createSupervisor({
      repoRoot: repo.dir,
      stateDir: repo.stateDir,
      cols: 120,
      rows: 30,
      env,
      tickMs: 100,
      stopGraceMs: 1000,
    });
  });
  afterEach(async () => {
    await server?.close();
    server = null;
    await sup.shutdown('test over');
    await repo.cleanup();
  });

  const state = (lane: string) => sup.getLane(lane)?.state;
  const reach = (lane: string, s: LaneState, ms = 30_000) =>
    waitFor(() => state(lane) === s, `${lane} to be ${s} (is ${state(lane)})`, ms);
  const lineAt = async (rev: string, file: string, n: number) =>
    (await git(['show', `${rev}:${file}`], { cwd: repo.dir })).stdout.split('\n')[n - 1];
  /** everything the lane's pty wrote, as recorded */
  const recorded = async (lane: string): Promise<string> => {
    await sup.flushRecording();
    const db = new Database(path.join(repo.stateDir, 'ao.db'), { readonly: true });
    try {
      const chunks = db
        .prepare(
          'SELECT o.data, o.enc FROM output_chunks o JOIN lanes l ON l.id = o.lane_id WHERE l.name = ? ORDER BY o.seq',
        )
        .all(lane) as { data: Buffer; enc: number }[];
      return Buffer.concat(chunks.map((c) => decodeChunk(c.enc, c.data))).toString('utf8');
    } finally {
      db.close();
    }
  };
  const eventKinds = (lane: string): string[] => {
    const db = new Database(path.join(repo.stateDir, 'ao.db'), { readonly: true });
    try {
      return (
        db
          .prepare('SELECT e.kind FROM lane_events e JOIN lanes l ON l.id = e.lane_id WHERE l.name = ? ORDER BY e.id')
          .all(lane) as { kind: string }[]
      ).map((r) => r.kind);
    } finally {
      db.close();
    }
  };

  it("types the comments into the agent's pty; its next commit changes the commented line, which then reads addressed", async () => {
    await sup.newLane({ name: 'cm', profile: 'demo', task: 'rework create file src/app.js' });
    await reach('cm', 'awaiting-approval');
    expect(sup.getLane('cm')!.alive).toBe(true); // the agent waits for feedback
    const before = await sup.review('cm');
    const first = before.head!;
    expect(await lineAt(first, 'src/app.js', 4)).toBe('export const app = "hello from app.js";');

    // refused: a file outside the diff, a line past the end, no text
    await expect(sup.addComment('cm', { file: 'README.md', line: 1, text: 'x' })).rejects.toMatchObject({
      code: 'bad-input',
      message: expect.stringContaining('no file README.md in the diff of lane cm'),
    });
    await expect(sup.addComment('cm', { file: 'src/app.js', line: 40, text: 'x' })).rejects.toMatchObject({
      code: 'bad-input',
      message: expect.stringContaining('line 40 is out of range: src/app.js has 4 lines'),
    });
    await expect(sup.addComment('cm', { file: 'src/app.js', line: 4, text: '  ' })).rejects.toMatchObject({
      code: 'bad-input',
    });

    const c = await sup.addComment('cm', { file: 'src/app.js', line: 4, text: 'name it greeting' });
    expect(c).toMatchObject({
      lane: 'cm',
      file: 'src/app.js',
      line: 4,
      endLine: 4,
      commit: first,
      excerpt: 'export const app = "hello from app.js";',
      status: 'draft',
    });
    const gone = await sup.addComment('cm', { file: 'src/app.js', line: 1, endLine: 2, text: 'drop me' });
    await sup.deleteComment('cm', gone.id);
    await sup.editComment('cm', c.id, 'name it greeting, not app');
    expect((await sup.review('cm')).comments).toEqual([
      expect.objectContaining({ id: c.id, text: 'name it greeting, not app', status: 'draft' }),
    ]);

    await sup.reject('cm', { reason: 'see the review comments', mode: 'rework' });
    // one message in the agent's pty: file, line, the code and the comment
    await waitFor(
      async () => (await recorded('cm')).includes('Got 1 review comment'),
      'the agent to read the comment',
      20_000,
    );
    const out = await recorded('cm');
    expect(out).toContain('[1] src/app.js:4 `export const app = "hello from app.js";` — name it greeting, not app');
    await expect(sup.editComment('cm', c.id, 'too late')).rejects.toMatchObject({ code: 'bad-state' });
    await expect(sup.deleteComment('cm', c.id)).rejects.toMatchObject({ code: 'bad-state' });

    await reach('cm', 'awaiting-approval');
    const after = await sup.review('cm');
    expect(after.head).not.toBe(first);
    expect(await lineAt(after.head!, 'src/app.js', 4)).toBe('export const app = "hello from app.js"; // reviewed');
    expect(after.comments).toEqual([
      expect.objectContaining({ id: c.id, status: 'addressed', sentRound: 1, commit: first }),
    ]);
    expect(eventKinds('cm')).toEqual(
      expect.arrayContaining(['comment', 'comment-deleted', 'comment-edited', 'comments-sent']),
    );

    // ctl and show through a control server over this supervisor
    server = await startControlServer(sup, socketFile(repo.stateDir));
    const cli = (...args: string[]) => runCli(args, { cwd: repo.dir, env: { AO_STATE_DIR: repo.stateDir } });
    const added = await cli(
      'ctl',
      'comment',
      'cm',
      '--file',
      'src/app.js',
      '--line',
      '1',
      '--end-line',
      '2',
      '--text',
      'shorter header',
      '--json',
    );
    expect(added.code).toBe(0);
    const second = JSON.parse(added.stdout) as ReviewComment;
    expect(second).toMatchObject({ file: 'src/app.js', line: 1, endLine: 2, status: 'draft', commit: after.head });
    const human = await cli('ctl', 'comment', 'cm', '--file', 'src/app.js', '--line', '3', '--text', 'why blank?');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^comment \d+ on src\/app\.js:3 of lane cm \(draft\)/);
    const noFile = await cli('ctl', 'comment', 'cm', '--file', 'nope.js', '--line', '1', '--text', 'x');
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain('no file nope.js in the diff of lane cm');
    const pastEnd = await cli('ctl', 'comment', 'cm', '--file', 'src/app.js', '--line', '9', '--text', 'x');
    expect(pastEnd.code).toBe(2);
    expect(pastEnd.stderr).toContain('line 9 is out of range');
    expect((await cli('ctl', 'comment', 'cm', '--file', 'src/app.js', '--line', '0', '--text', 'x')).code).toBe(2);
    expect((await cli('ctl', 'comment', 'ghost', '--file', 'src/app.js', '--line', '1', '--text', 'x')).code).toBe(1);
    const listed = JSON.parse((await cli('ctl', 'comments', 'cm', '--json')).stdout) as ReviewComment[];
    expect(listed.map((x) => [x.line, x.status])).toEqual([
      [1, 'draft'],
      [3, 'draft'],
      [4, 'addressed'],
    ]);
    const shown = await cli('show', 'cm', '--json');
    expect(shown.code).toBe(0);
    const info = JSON.parse(shown.stdout) as { comments: ReviewComment[] };
    expect(info.comments.map((x) => [x.file, x.line, x.status, x.text])).toEqual([
      ['src/app.js', 1, 'draft', 'shorter header'],
      ['src/app.js', 3, 'draft', 'why blank?'],
      ['src/app.js', 4, 'addressed', 'name it greeting, not app'],
    ]);
  });

  it('writes long feedback to a file outside the worktree and tells a resumed agent its path', async () => {
    await sup.newLane({ name: 'lg', profile: 'demo', task: 'create file src/long.js' });
    await reach('lg', 'awaiting-approval');
    expect(sup.getLane('lg')!.alive).toBe(false); // the agent exited at its handoff
    const long = `${'please say more about why this greeting is the right one; '.repeat(40)}END`;
    const c = await sup.addComment('lg', { file: 'src/long.js', line: 4, text: long });
    await sup.reject('lg', { reason: 'too terse', mode: 'rework' });
    const file = path.join(repo.stateDir, 'reviews', 'lg-round-1.md');
    expect(existsSync(file)).toBe(true);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('## [1] src/long.js:4');
    expect(text).toContain('export const long = "hello from long.js";');
    expect(text).toContain(long);
    await reach('lg', 'awaiting-approval');
    const out = await sup.review('lg');
    expect(out.diffStat.map((d) => d.path)).toEqual(['src/long.js']); // the file is not in the lane's diff
    expect(out.comments).toEqual([expect.objectContaining({ id: c.id, status: 'addressed' })]);
    const typed = await recorded('lg');
    expect(typed).toContain(file);
    expect(typed).not.toContain('END');
  });
});
