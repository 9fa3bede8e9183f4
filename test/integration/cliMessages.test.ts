/**
 * Messages that used to mislead (issue 17), through the built binary in a real temp repo:
 * `lanes --session` of a session that does not exist, `learnings import` of a folder that does
 * not exist: an error naming what is missing and exit 1, not an empty table and exit 0.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbFile, ensureStateDir } from '../../lanes/config/paths.js';
import { createSession } from '../../lanes/store/sessions.js';
import { openDb } from '../../lanes/store/open.js';
import { runCli } from '../helpers/cliBin.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';

let repo: TempRepo;
const cli = (...args: string[]) => runCli(args, { cwd: repo.dir, env: { AO_STATE_DIR: repo.stateDir } });

beforeAll(async () => {
  repo = await createTempRepo();
});
afterAll(async () => {
  await repo.cleanup();
});

describe('lanes --session', () => {
  it('a session that does not exist is an error (no store yet, and with sessions in the store)', async () => {
    let res = await cli('lanes', '--session', 'zzz');
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain('no session of this repo has an id starting with "zzz"');
    expect(res.stderr).toContain('ao-console sessions');

    const db = openDb(dbFile(ensureStateDir(repo.stateDir)));
    const session = createSession(db, { repo: repo.dir, id: 'abcdef12-0000-4000-8000-000000000000' });
    db.close();
    res = await cli('lanes', '--session', 'zzz', '--json');
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    // LIKE wildcards are not a way to match every session
    expect((await cli('lanes', '--session', '%')).code).toBe(1);
    res = await cli('lanes', '--session', session.id.slice(0, 6), '--json');
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual([]);
  });
});

describe('learnings import', () => {
  it('a folder that does not exist, or a file, is an error naming it; an empty folder imports nothing', async () => {
    const missing = path.join(repo.dir, 'no-such-folder');
    let res = await cli('learnings', 'import', '--dir', missing);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`--dir ${missing}: no such directory`);
    const file = path.join(repo.dir, 'README.md');
    res = await cli('learnings', 'import', '--dir', file);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`--dir ${file}: not a directory`);
    const empty = path.join(repo.dir, 'empty');
    await mkdir(empty);
    await writeFile(path.join(empty, 'x.txt'), 'not a learning, not read\n');
    res = await cli('learnings', 'import', '--dir', empty);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('0 imported, 0 already known');
  });
});
