/**
 * The learnings flywheel end to end, with the real supervisor and the demo agent in a temp
 * repo: a rejection becomes a constraint in the next lane's briefing, a gate failure becomes a
 * finding, related lanes get both and unrelated ones not the finding, a merge raises the utility
 * of what the lane was briefed with, and the closure harvest skips a malformed file by name.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { trustRepo, useTempTrustFile } from '../helpers/trust.js';
import { waitFor } from '../helpers/waitFor.js';
import { createSupervisor, type Supervisor } from '../../lanes/supervisor/supervisor.js';
import type { SupervisorEvent } from '../../lanes/supervisor/api.js';
import type { LaneState } from '../../lanes/lane/types.js';

// The gates here are commands: the repo's commands are allowed (test/helpers/trust.ts).
useTempTrustFile();
const env = { ...process.env, AO_DEMO_SPEED: '0' };
const CONFIG = {
  gates: [
    {
      name: 'lint',
      run: ['sh', '-c', "if [ -e generated/client.ts ]; then echo 'error: generated file touched' >&2; exit 1; fi"],
    },
  ],
};

/** The sections of a rendered context packet: heading -> its list items. */
function sections(md: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let cur = '';
  for (const line of md.split('\n')) {
    const h = /^## (\w+)/.exec(line);
    if (h) out[(cur = h[1])] = [];
    else if (cur && line.startsWith('- ')) out[cur].push(line.slice(2));
  }
  return out;
}

describe('learnings loop with the demo agent', () => {
  let repo: TempRepo;
  let sup: Supervisor;
  const events: SupervisorEvent[] = [];

  beforeEach(async () => {
    repo = await createTempRepo({
      files: { 'README.md': '# temp repo\n', '.ao/config.json': JSON.stringify(CONFIG, null, 2) },
    });
    await trustRepo(repo.dir);
    sup = await createSupervisor({
      repoRoot: repo.dir,
      stateDir: repo.stateDir,
      cols: 100,
      rows: 30,
      env,
      tickMs: 100,
      stopGraceMs: 1000,
    });
    sup.on((e) => events.push(e));
  });
  afterEach(async () => {
    await sup.shutdown('test over');
    await repo.cleanup();
  });

  const state = (lane: string) => sup.getLane(lane)?.state;
  const reach = (lane: string, s: LaneState, ms = 30_000) =>
    waitFor(() => state(lane) === s, `${lane} to be ${s} (is ${state(lane)})`, ms);
  const query = <T>(sql: string, ...args: unknown[]): T[] => {
    const d = new Database(path.join(repo.stateDir, 'ao.db'), { readonly: true });
    try {
      return d.prepare(sql).all(...args) as T[];
    } finally {
      d.close();
    }
  };
  /** The briefing as handed to the demo agent: the file AO_BRIEFING names, once the agent said it read it. */
  const briefingOf = async (lane: string): Promise<Record<string, string[]>> => {
    await waitFor(
      () => sup.screenText(lane).join('\n').includes(`Read briefing ${lane}.md`),
      `${lane}'s agent to read its briefing`,
    );
    return sections(await readFile(path.join(repo.stateDir, 'briefings', `${lane}.md`), 'utf8'));
  };

  it('carries a rejection and a gate failure into the briefings of later related lanes', async () => {
    // lane one: rejected with a reason
    await sup.newLane({
      name: 'one',
      profile: 'demo',
      task: 'create file docs/client-notes.md about the generated api client',
    });
    await reach('one', 'awaiting-approval');
    await sup.reject('one', { reason: 'never edit generated files', mode: 'discard' });
    const [constraint] = query<{ id: number; category: string; source: string }>(
      "SELECT id, category, source FROM learnings WHERE text = 'never edit generated files'",
    );
    expect(constraint).toMatchObject({ category: 'constraint', source: 'rejection' });

    // lane two: briefed with the constraint; its failing gate becomes a finding
    await sup.newLane({ name: 'two', profile: 'demo', task: 'create file generated/client.ts for the api client' });
    const two = await briefingOf('two');
    expect(two.CONSTRAINTS).toContain('never edit generated files');
    await reach('two', 'awaiting-approval');
    expect((await sup.review('two')).requiredPassed).toBe(false);
    const findings = query<{ id: number; text: string; lane: string }>(
      "SELECT l.id, l.text, n.name AS lane FROM learnings l JOIN lanes n ON n.id = l.lane_id WHERE l.category = 'finding' AND l.source = 'gate-failure'",
    );
    expect(findings).toHaveLength(1);
    expect(findings[0].text).toBe('gate lint FAIL: error: generated file touched');
    expect(findings[0].lane).toBe('two');
    const finding = findings[0];
    // the same reason again is the same learning (merged, more confident), not a second row
    await sup.reject('two', { reason: 'Never edit generated files!', mode: 'discard' });
    expect(
      query<{ n: number; c: number }>(
        "SELECT COUNT(*) AS n, MAX(confidence) AS c FROM learnings WHERE category = 'constraint'",
      )[0],
    ).toEqual({ n: 1, c: 0.6 });

    // lane three, related: both; an unrelated lane: the constraint but not the finding
    await sup.newLane({
      name: 'three',
      profile: 'demo',
      task: 'create file src/client.ts wrapping the generated api client',
    });
    const three = await briefingOf('three');
    expect(three.CONSTRAINTS).toContain('never edit generated files');
    expect(three.LEARNINGS).toContain(finding.text);
    expect(three.HISTORY?.some((h) => h.startsWith('one (discarded): never edit generated files'))).toBe(true);
    await sup.newLane({ name: 'other', profile: 'demo', task: 'tune the logo colours' });
    const other = await briefingOf('other');
    expect(other.CONSTRAINTS).toContain('never edit generated files');
    expect(other.LEARNINGS ?? []).not.toContain(finding.text);
    expect(JSON.stringify(other)).not.toContain('generated file touched');

    // what went into lane three is logged
    const injected = query<{ learning_id: number; section: string }>(
      'SELECT learning_id, section FROM lane_learnings WHERE lane_id = (SELECT id FROM lanes WHERE name = ?) ORDER BY learning_id',
      'three',
    );
    expect(injected).toEqual(
      expect.arrayContaining([
        { learning_id: constraint.id, section: 'constraint' },
        { learning_id: finding.id, section: 'learning' },
      ]),
    );

    // the agent left learnings in its worktree: one good file, one malformed
    await reach('three', 'awaiting-approval');
    const dir = path.join(sup.getLane('three')!.worktree, '.agents', 'learnings');
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, 'good.md'),
      '---\ntype: pattern\nsource: agent\ndate: 2025-01-02\nconfidence: high\nmaturity: candidate\n---\n\nWrap generated clients instead of editing them.\n',
    );
    await writeFile(path.join(dir, 'broken.md'), 'no frontmatter here\n');

    // merging lane three raises the utility of what it was briefed with
    const before = new Map(
      query<{ id: number; utility: number }>('SELECT id, utility FROM learnings').map((r) => [r.id, r.utility]),
    );
    await sup.approve('three', { wait: true });
    expect(state('three')).toBe('merged');
    const after = new Map(
      query<{ id: number; utility: number }>('SELECT id, utility FROM learnings').map((r) => [r.id, r.utility]),
    );
    for (const { learning_id: id } of injected)
      expect(after.get(id)!, `learning #${id}`).toBeGreaterThan(before.get(id)!);
    // the one rejection of a lane briefed with the constraint cost it, the merge paid more back
    expect(after.get(constraint.id)).toBe(0.5);
    expect(after.get(finding.id)).toBe(1);

    // closure harvest: the good file is a learning of lane three, the bad one reported by name
    const harvested = query<{ category: string; source: string; confidence: number; maturity: string }>(
      "SELECT category, source, confidence, maturity FROM learnings WHERE text = 'Wrap generated clients instead of editing them.'",
    );
    expect(harvested).toEqual([{ category: 'pattern', source: 'agents-file', confidence: 0.8, maturity: 'candidate' }]);
    expect(events.some((e) => e.type === 'error' && e.lane === 'three' && e.message.includes('broken.md'))).toBe(true);
    const harvestErrors = query<{ cause: string }>(
      "SELECT cause FROM lane_events WHERE kind = 'learnings-harvest-error' AND lane_id = (SELECT id FROM lanes WHERE name = 'three')",
    );
    expect(harvestErrors.map((e) => e.cause).join('\n')).toMatch(/broken\.md/);
  }, 120_000);
});
