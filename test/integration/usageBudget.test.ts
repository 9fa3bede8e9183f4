/**
 * Tokens, cost and the budget of a real lane: Claude Code (the fastest real agent here) in a lane
 * of a real repo against the scripted model server, which reports large usage figures. The lane
 * budget is $1: the first reply (270k input tokens, $0.81 at claude-sonnet-4-5's price) warns the
 * operator; the second ($1.02 in all) pauses the agent (SIGSTOP: its process is seen stopped) and
 * the lane waits with the reason; raising the budget in .ao/config.json (watched) lets it go on.
 * At the end the stored usage equals what the server sent, priced by Claude Code itself (it
 * writes its cost when it exits: until then the price table's figure stands), and
 * `ao-console show --json` prints it.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createTempRepo } from '../helpers/tempRepo.js';
import { waitFor } from '../helpers/waitFor.js';

import { runCli } from '../helpers/cliBin.js';
import { expectUsageMatches } from '../helpers/usageCheck.js';
import { startModelServer } from '../model/server.js';
import { prepareAgent } from '../model/agents.js';
import { agentSupervisor, useAgentCache, useCleanups } from '../helpers/agentLoop.js';
import { startControlServer } from '../../lanes/control/server.js';
import { socketFile, worktreesDir } from '../../lanes/config/paths.js';
import type { SupervisorEvent } from '../../lanes/supervisor/api.js';

const need = useAgentCache();

const cleanups = useCleanups();

/** The state letter of /proc/<pid>/stat (`T`: stopped by a signal). */
function procState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
}

describe('usage and budget of a real Claude Code lane', () => {
  it('warns at 80%, pauses the agent at 100%, goes on when the budget is raised; stored usage equals what the server sent', async (ctx) => {
    const c = need(ctx);
    const repo = await createTempRepo();
    cleanups.push(() => repo.cleanup());
    const home = await realpath(await mkdtemp(path.join(tmpdir(), 'ao-usage-claude-')));
    cleanups.push(() => rm(home, { recursive: true, force: true }));
    const lane = 'spend';
    const worktree = path.join(worktreesDir(repo.stateDir), lane);
    const server = await startModelServer({
      script: [
        { tool: 'write', path: 'hello.txt', content: 'hello\n', usage: { inputTokens: 270_000, outputTokens: 0 } },
        { tool: 'write', path: 'more.txt', content: 'more\n', usage: { inputTokens: 70_000, outputTokens: 0 } },
        { text: 'done', usage: { inputTokens: 1000, cachedInputTokens: 400, outputTokens: 20 } },
      ],
    });
    cleanups.push(() => server.close());
    const setup = await prepareAgent('claude', { home, url: server.url, worktree });
    const writeConfig = async (laneUsd: number) => {
      await mkdir(path.join(repo.dir, '.ao'), { recursive: true });
      await writeFile(path.join(repo.dir, '.ao', 'config.json'), JSON.stringify({ usage: { budget: { laneUsd } } }));
    };
    await writeConfig(1);
    const sup = await agentSupervisor({ repo, cache: c, home, env: setup.env, usagePollMs: 200 });
    const control = await startControlServer(sup, socketFile(repo.stateDir));
    const events: SupervisorEvent[] = [];
    sup.on((e) => events.push(e));
    cleanups.push(async () => {
      await sup.stop(lane).catch(() => {});
      await control.close();
      await sup.shutdown('test over');
    });
    const screen = () => sup.screenText(lane).join('\n');
    const notices = () => events.flatMap((e) => (e.type === 'notice' && e.lane === lane ? [e.message] : []));
    const pid = () => {
      const db = new Database(path.join(repo.stateDir, 'ao.db'), { readonly: true });
      try {
        return db.prepare('SELECT pid FROM lanes WHERE name = ? AND closed_at IS NULL').pluck().get(lane) as number;
      } finally {
        db.close();
      }
    };
    const approve = async (prompt: RegExp) => {
      await waitFor(() => prompt.test(screen()), `prompt ${prompt}\n${screen()}`, 60_000, 50);
      for (let i = 0; i < 3 && prompt.test(screen()); i++) {
        sup.send(lane, '\r');
        await waitFor(() => !prompt.test(screen()), 'prompt answered', 3000, 50).catch(() => {});
      }
    };

    await sup.newLane({ name: lane, profile: 'claude', task: 'create hello.txt saying hello' });
    await approve(/Do you want to create hello\.txt\?/);
    // 270k tokens at $3 per Mtok: $0.81 of $1
    await waitFor(() => notices().some((m) => /has used 81% of its lane budget/.test(m)), 'the 80% notice', 30_000);
    expect(sup.getLane(lane)!.usage).toMatchObject({ inputTokens: 270_000, outputTokens: 0 });

    // The second reply takes it to $1.02: the agent is paused (as soon as its record of the reply
    // is read, whether or not it drew its prompt yet), the lane waits with the reason.
    const paused = await waitFor(() => sup.getLane(lane)?.usage?.paused, 'the lane paused for its budget', 30_000);
    expect(paused).toMatch(/^budget reached: \$1\.02 of its lane budget \$1\.00; agent paused/);
    expect(procState(pid())).toBe('T');
    expect(sup.getLane(lane)!.state).toBe('waiting-input');
    // the notifiers (hook, notify-send, dashboards) get a budget event at 80% and at 100%
    expect(events.flatMap((e) => (e.type === 'budget' && e.lane === lane ? [e.level] : []))).toEqual([
      'warning',
      'paused',
    ]);

    // `ctl status` shows its cost and says why it is paused and how to go on
    const status = await runCli(['ctl', 'status'], { cwd: repo.dir });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^spend +waiting-input +claude .* \$1\.02⏸ /m);
    expect(status.stdout).toContain(`spend: ${paused}`);

    // Raising the budget lets it go on.
    await writeConfig(5);
    await waitFor(() => notices().some((m) => /budget raised/.test(m)), 'the budget-raised notice', 10_000);
    expect(sup.getLane(lane)!.usage?.paused).toBeUndefined();
    expect(procState(pid())).not.toBe('T');
    await approve(/Do you want to create more\.txt\?/);
    await waitFor(() => sup.getLane(lane)?.state === 'awaiting-approval', 'the handoff', 60_000);
    expect(existsSync(path.join(worktree, 'more.txt'))).toBe(true);

    // Claude Code writes its own cost (cost-state) when it exits: until then the table priced it.
    expect(sup.getLane(lane)!.usage?.priced).toBe('table');
    await sup.approve(lane, { wait: true });
    // Step 6 of the loop: tokens and cost equal what the server sent; Claude Code priced it.
    const stored = await expectUsageMatches({ server, repo, lane }, 'claude');
    expect(stored.costUsd).toBeCloseTo(((270_000 + 70_000 + 600) * 3 + 400 * 0.3 + 20 * 15) / 1e6, 9);
    const show = await runCli(['show', lane, '--json'], { cwd: repo.dir });
    expect(show.code, show.stderr).toBe(0);
    const shown = JSON.parse(show.stdout) as { usage: unknown; closure: { outcome: string; data: { usage: unknown } } };
    const want = {
      inputTokens: stored.inputTokens,
      cachedInputTokens: stored.cachedInputTokens,
      outputTokens: stored.outputTokens,
      costUsd: stored.costUsd,
      priced: 'agent',
    };
    expect(shown.usage).toEqual(want);
    // the closure record holds the same figures (read again after the agent exited)
    expect(shown.closure.outcome).toBe('merged');
    expect(shown.closure.data.usage).toEqual(want);
  }, 240_000);
});
