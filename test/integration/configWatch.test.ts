/**
 * Settings reload without a restart (lanes/config/watch.ts): `.ao/config.json` and
 * `.ao/profiles/*.json` edited on disk (real files, real fs.watch) reach a running supervisor;
 * an invalid edit is reported as an 'error' event naming the file and the field, and the last
 * good settings stay in use until it is fixed.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SupervisorEvent } from '../../lanes/supervisor/api.js';
import { createSupervisor, type Supervisor } from '../../lanes/supervisor/supervisor.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { waitFor } from '../helpers/waitFor.js';

let repo: TempRepo;
let sup: Supervisor;
let events: SupervisorEvent[];

const shell = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ command: '/bin/sh', args: ['-i'], taskInput: 'none', ...extra });

/** Writes like an editor: a new file renamed over the old one. */
async function save(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, text);
  await rename(`${file}.tmp`, file);
}

const messages = (type: 'error' | 'notice') =>
  events.filter((e): e is Extract<SupervisorEvent, { type: typeof type }> => e.type === type).map((e) => e.message);

beforeEach(async () => {
  repo = await createTempRepo();
  sup = await createSupervisor({ repoRoot: repo.dir, stateDir: repo.stateDir, cols: 80, rows: 24, env: process.env });
  events = [];
  sup.on((e) => events.push(e));
});
afterEach(async () => {
  await sup.shutdown('test over');
  await repo.cleanup();
});

describe('config reload', () => {
  it('.ao/config.json: created, changed, broken (kept, reported once per edit), fixed', async () => {
    const configFile = path.join(repo.dir, '.ao', 'config.json');
    const before = sup.config.maxConcurrentLanes;
    // .ao does not exist yet: its creation is seen too
    await save(configFile, JSON.stringify({ maxConcurrentLanes: 3 }));
    await waitFor(() => sup.config.maxConcurrentLanes === 3, 'config reloaded');
    expect(before).not.toBe(3);
    expect(messages('notice').at(-1)).toContain('.ao/config.json');

    await save(configFile, JSON.stringify({ maxConcurrentLanes: 0, mergeStrategy: 'squash' }));
    await waitFor(() => messages('error').length === 1, 'the invalid change reported');
    expect(messages('error')[0]).toMatch(/\.ao\/config\.json: maxConcurrentLanes: /);
    expect(messages('error')[0]).toContain('last good ones stay in use');
    expect(sup.config.maxConcurrentLanes).toBe(3);
    expect(sup.config.mergeStrategy).not.toBe('squash');

    await writeFile(configFile, '{ "maxConcurrentLanes": 5,');
    await waitFor(() => messages('error').length === 2, 'the syntax error reported');
    expect(messages('error')[1]).toContain('.ao/config.json: not valid JSON');
    expect(sup.config.maxConcurrentLanes).toBe(3);

    await save(configFile, JSON.stringify({ maxConcurrentLanes: 5, mergeStrategy: 'squash' }));
    await waitFor(() => sup.config.maxConcurrentLanes === 5, 'the fix reloaded');
    expect(sup.config.mergeStrategy).toBe('squash');
    expect(messages('error')).toHaveLength(2);
  });

  it('.ao/profiles: a new profile appears, a broken one is reported by file and field and changes nothing', async () => {
    const dir = path.join(repo.dir, '.ao', 'profiles');
    expect(sup.profiles.has('hand')).toBe(false);
    await save(path.join(dir, 'hand.json'), shell());
    await waitFor(() => sup.profiles.has('hand'), 'the new profile loaded');
    expect(sup.profiles.get('hand')?.command).toBe('/bin/sh');
    expect(sup.profiles.has('demo')).toBe(true);

    await save(path.join(dir, 'hand.json'), shell({ idleMs: 'soon' }));
    await waitFor(() => messages('error').length === 1, 'the broken profile reported');
    expect(messages('error')[0]).toMatch(/hand\.json: idleMs: /);
    expect(sup.profiles.get('hand')?.idleMs).not.toBe('soon');
    expect(sup.profiles.has('hand')).toBe(true);

    await save(path.join(dir, 'hand.json'), shell({ idleMs: 900 }));
    await waitFor(() => sup.profiles.get('hand')?.idleMs === 900, 'the fixed profile loaded');
  });
});
