/**
 * The built-in agent profiles' screen patterns against screens recorded from the real CLIs
 * (test/fixtures/screens/<agent>-<version>-<what>.txt, see its README.md), for the states the
 * offline integration test cannot reach (a working agent, an idle prompt), plus what the
 * profiles must say (task hand-over, passthrough, resume, Claude's hooks).
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProfiles, expandArgs, type LoadedProfile } from '../../profiles/loader.js';
import { compilePatterns } from '../../profiles/schema.js';
import { detectActivity } from '../../lanes/lane/activity.js';

const SCREENS = fileURLToPath(new URL('../fixtures/screens/', import.meta.url));
const ROWS = 30;
const { profiles, errors } = loadProfiles(tmpdir());
const profile = (name: string): LoadedProfile => {
  const p = profiles.get(name);
  if (!p) throw new Error(`no built-in profile ${name}`);
  return p;
};

function screen(file: string): string[] {
  const rows = readFileSync(path.join(SCREENS, file), 'utf8')
    .replace(/\n$/, '')
    .split('\n')
    .map((r) => r.replace(/\s+$/, ''));
  while (rows.length < ROWS) rows.push('');
  return rows;
}

/** What the activity detector reads from `file` with `name`'s patterns after `quietMs` without output. */
function activity(name: string, file: string, quietMs: number) {
  const p = profile(name);
  const c = compilePatterns(p);
  return detectActivity({
    now: 1_000_000,
    lastOutputAt: 1_000_000 - quietMs,
    idleMs: p.idleMs,
    screenText: screen(file),
    busyPatterns: c.busy,
    waitingPatterns: c.waitingInput,
  });
}

describe('built-in agent profiles', () => {
  it('all load without problems', () => {
    expect(errors).toEqual([]);
    for (const name of ['claude', 'codex', 'gemini', 'aider', 'opencode']) expect(profiles.has(name)).toBe(true);
  });

  it.each([
    ['codex', 'codex-0.169.0-busy.txt'],
    ['gemini', 'gemini-0.61.0-busy.txt'],
  ])('%s: a working agent (%s) reads busy, even long after its last output', (name, file) => {
    expect(activity(name, file, 1000)).toBe('busy');
    expect(activity(name, file, 600_000)).toBe('busy');
  });

  it.each([
    ['codex', 'codex-0.169.0-idle.txt'],
    ['codex', 'codex-0.169.0-trust.txt'],
    ['gemini', 'gemini-0.61.0-idle.txt'],
    ['gemini', 'gemini-0.61.0-auth.txt'],
  ])('%s: %s reads waiting-input once settled', (name, file) => {
    expect(activity(name, file, 1000)).toBe('waiting-input');
    expect(activity(name, file, 100)).toBe('busy'); // still being drawn
  });

  it('Claude Code: its offline error screen asks nothing and reads idle once quiet', () => {
    expect(activity('claude', 'claude-2.1.330-offline.txt', 600_000)).toBe('idle');
  });

  it('every agent profile hands the task over in an argument of its own (or on stdin for aider) and resumes', () => {
    const vars = { task: '-x $(touch y) "quoted"', lane: 'l', worktree: '/w', briefingFile: '/s/briefings/l.md' };
    const argv = (name: string, resume = false) => expandArgs(profile(name), vars, { resume }).args;
    expect(argv('claude').slice(-2)).toEqual(['--', vars.task]);
    expect(argv('codex')).toEqual(['--no-daemon', '--', vars.task]);
    expect(argv('gemini')).toEqual([`--prompt-interactive=${vars.task}`]);
    expect(argv('opencode')).toEqual([`--prompt=${vars.task}`]);
    expect(profile('aider').taskInput).toBe('stdin');
    expect(argv('claude', true)).toContain('--continue');
    expect(argv('codex', true).slice(0, 2)).toEqual(['resume', '--last']);
    expect(argv('gemini', true).slice(0, 2)).toEqual(['--resume', 'latest']);
    expect(argv('opencode', true)).toContain('--continue');
    expect(argv('aider', true)).toContain('--restore-chat-history');
    // aider's history files live next to the briefing (state dir), never in the worktree
    expect(argv('aider').filter((a) => a.includes('aider.'))).toEqual([
      '/s/briefings/l.md.aider.chat.md',
      '/s/briefings/l.md.aider.input',
    ]);
  });

  it('passes through the key and config variables of each agent and nothing broad', () => {
    const pass = (name: string) => profile(name).envPassthrough;
    expect(pass('claude')).toEqual(
      expect.arrayContaining(['ANTHROPIC_*', 'CLAUDE_CONFIG_DIR', 'PATH', 'HOME', 'LANG', 'LC_*']),
    );
    expect(pass('codex')).toEqual(expect.arrayContaining(['OPENAI_*', 'CODEX_HOME']));
    expect(pass('gemini')).toEqual(expect.arrayContaining(['GEMINI_*', 'GOOGLE_API_KEY', 'GOOGLE_CLOUD_*']));
    for (const name of ['claude', 'codex', 'gemini', 'aider', 'opencode']) {
      expect(
        pass(name).filter((p) => p.length < 4 || p === 'GOOGLE_*' || p === 'AWS_*' || p === 'SSH_AUTH_SOCK'),
      ).toEqual([]);
    }
  });

  it("Claude Code's Stop, PermissionRequest and Notification hooks run the hook script of this installation, outside the worktree", () => {
    const args = expandArgs(
      profile('claude'),
      { task: 't', lane: 'l', worktree: '/w', briefingFile: '/b' },
      { node: '/usr/bin/node' },
    ).args;
    const settings = JSON.parse(args[args.indexOf('--settings') + 1]) as {
      hooks: Record<string, { hooks: { type: string; command: string }[] }[]>;
    };
    expect(Object.keys(settings.hooks).sort()).toEqual(['Notification', 'PermissionRequest', 'Stop']);
    const stop = settings.hooks.Stop[0].hooks[0].command;
    const script = /^'\/usr\/bin\/node' '([^']+)' stop$/.exec(stop)?.[1];
    expect(script).toBeDefined();
    expect(existsSync(script!)).toBe(true);
    expect(settings.hooks.Notification[0].hooks[0].command).toMatch(/' notification$/);
    expect(settings.hooks.PermissionRequest[0].hooks[0].command).toMatch(/' permission$/);
  });
});

describe('the Claude Code hook script', () => {
  it('exits 0 at once when no console answers, so it never blocks the agent', () => {
    const script = fileURLToPath(new URL('../../profiles/hooks/claudeHook.mjs', import.meta.url));
    const dir = tmpdir();
    const res = spawnSync(process.execPath, [script, 'stop'], {
      cwd: dir,
      input: '{"hook_event_name":"Stop"}',
      env: { PATH: process.env.PATH, AO_LANE: 'nolane', AO_STATE_DIR: path.join(dir, 'ao-no-console') },
      timeout: 30_000,
    });
    expect(res.status).toBe(0);
  });
});
