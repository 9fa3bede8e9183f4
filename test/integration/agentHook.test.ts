/**
 * The agent hook script (profiles/hooks/agentHook.mjs) against a real control socket, through
 * the built `ao-console ctl`: it returns before its call reaches the console (the agent is never
 * held while the console answers), its calls reach the console in the order the agent made them,
 * a Codex notification about a thread Codex keeps no rollout for (the hidden title thread) hands
 * nothing off, and outside a lane it does nothing. The supervisor is a fake that records the calls.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SupervisorApi } from '../../lanes/supervisor/api.js';
import type { LaneSnapshot } from '../../lanes/lane/types.js';
import { startControlServer, type ControlServer } from '../../lanes/control/server.js';
import { ensureStateDir, socketFile } from '../../lanes/config/paths.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { waitFor } from '../helpers/waitFor.js';

const HOOK = fileURLToPath(new URL('../../profiles/hooks/agentHook.mjs', import.meta.url));
const LANE = 'hooked';

/** Just what `ctl handoff` and `ctl waiting` use; handoff can be held to keep a call in flight. */
function fakeSupervisor() {
  const calls: string[] = [];
  let hold: Promise<void> | null = null;
  let release = () => {};
  const lane = { name: LANE, state: 'running' } as LaneSnapshot;
  const sup = {
    sessionId: 's',
    repoRoot: '/repo',
    listLanes: () => [lane],
    getLane: (name: string) => (name === LANE ? lane : undefined),
    handoff: async () => {
      calls.push('handoff');
      if (hold) await hold;
    },
    reportWaiting: () => void calls.push('waiting'),
    on: () => () => {},
  };
  return {
    sup: sup as unknown as SupervisorApi,
    calls,
    holdHandoffs() {
      hold = new Promise<void>((r) => (release = r));
    },
    release: () => {
      hold = null;
      release();
    },
  };
}

let repo: TempRepo;
let server: ControlServer;
let fake: ReturnType<typeof fakeSupervisor>;

beforeEach(async () => {
  repo = await createTempRepo();
  ensureStateDir(repo.stateDir);
  fake = fakeSupervisor();
  server = await startControlServer(fake.sup, socketFile(repo.stateDir));
});

afterEach(async () => {
  fake.release();
  await server.close();
  await repo.cleanup();
});

/** Runs the hook as an agent would (JSON on stdin), to its exit. */
function hook(args: string[], env: Record<string, string> = {}) {
  const res = spawnSync(process.execPath, [HOOK, ...args], {
    cwd: repo.dir,
    input: '{"hook_event_name":"Stop"}',
    env: { PATH: process.env.PATH, HOME: repo.dir, AO_LANE: LANE, AO_STATE_DIR: repo.stateDir, ...env },
    timeout: 30_000,
  });
  expect(res.status).toBe(0);
}

describe('the agent hook script', () => {
  it("returns while its call is still in the console's hands, and its calls arrive in the agent's order", async () => {
    fake.holdHandoffs();
    hook(['handoff']);
    await waitFor(() => fake.calls.length === 1, 'the first handoff to reach the console', 20_000);
    // The first handoff is held by the console; the agent goes on and fires more hooks.
    hook(['waiting']);
    hook(['handoff']);
    hook(['waiting']);
    hook(['handoff']);
    // Nothing overtakes the held call (a ctl call takes well under these 3 s to arrive).
    await new Promise((r) => setTimeout(r, 3000));
    expect(fake.calls).toEqual(['handoff']);
    fake.release();
    await waitFor(() => fake.calls.length === 5, `every call to arrive (${fake.calls.join(' ')})`, 30_000);
    expect(fake.calls).toEqual(['handoff', 'waiting', 'handoff', 'waiting', 'handoff']);
    await waitFor(() => !existsSync(path.join(repo.stateDir, 'hooks', LANE)), 'the emptied queue to go', 10_000);
  }, 60_000);

  it('a Codex notification about a thread without a rollout (its hidden title thread) hands nothing off', async () => {
    const codexHome = path.join(repo.dir, '.codex-home');
    const day = path.join(codexHome, 'sessions', '2026', '12', '02');
    await mkdir(day, { recursive: true });
    const kept = '01a23583-8689-7740-82a5-d5efc9acd314';
    const hidden = '01a23583-88b3-78b0-8bb1-181fa7b68045';
    await writeFile(path.join(day, `rollout-2026-12-02T06-49-01-${kept}.jsonl`), '{}\n');
    const notify = (thread: string) =>
      JSON.stringify({ type: 'agent-turn-complete', 'thread-id': thread, 'turn-id': 't', cwd: repo.dir });
    hook(['handoff', notify(hidden)], { CODEX_HOME: codexHome });
    hook(['waiting'], { CODEX_HOME: codexHome });
    hook(['handoff', notify(kept)], { CODEX_HOME: codexHome });
    await waitFor(() => fake.calls.length === 2, `the calls to arrive (${fake.calls.join(' ')})`, 30_000);
    expect(fake.calls).toEqual(['waiting', 'handoff']);
  }, 60_000);

  it('outside a lane it does nothing', async () => {
    hook(['handoff'], { AO_LANE: '' });
    hook(['waiting']); // a call that does arrive, after the one that must not
    await waitFor(() => fake.calls.length === 1, 'the lane call to arrive', 20_000);
    expect(fake.calls).toEqual(['waiting']);
  }, 60_000);
});
