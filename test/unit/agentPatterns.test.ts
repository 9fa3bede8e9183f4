/**
 * The built-in agent profiles' screen patterns against screens recorded from the real CLIs
 * (test/fixtures/screens/<agent>-<version>-<what>.txt, see its README.md), for the states the
 * offline integration test cannot reach (a working agent, an idle prompt), plus what the
 * profiles must say (task hand-over, passthrough, resume, the agents' hooks).
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadProfiles, expandArgs, type LoadedProfile } from '../../profiles/loader.js';
import { compilePatterns } from '../../profiles/schema.js';
import { detectActivity, screenMatches } from '../../lanes/lane/activity.js';
import { waitFor } from '../helpers/waitFor.js';

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
    screen: screenMatches(screen(file), c.busy, c.waitingInput),
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
    expect(argv('codex')).toEqual(['--no-daemon', '-c', expect.stringMatching(/^notify=\[/), '--', vars.task]);
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
    const script = /^'\/usr\/bin\/node' '([^']+)' handoff$/.exec(stop)?.[1];
    expect(script).toBeDefined();
    expect(path.basename(script!)).toBe('agentHook.mjs');
    expect(existsSync(script!)).toBe(true);
    expect(settings.hooks.Notification[0].hooks[0].command).toMatch(/agentHook\.mjs' waiting$/);
    expect(settings.hooks.PermissionRequest[0].hooks[0].command).toMatch(/agentHook\.mjs' waiting$/);
  });

  it("Codex's notify program (a -c override, also on resume) is the hook script of this installation, as an argv", () => {
    const vars = { task: 't', lane: 'l', worktree: '/w', briefingFile: '/b' };
    for (const resume of [false, true]) {
      const args = expandArgs(profile('codex'), vars, { node: '/usr/bin/node', resume }).args;
      const override = args[args.indexOf('-c') + 1];
      const argv = JSON.parse(override.replace(/^notify=/, '')) as string[]; // a TOML array of basic strings
      expect(argv[0]).toBe('/usr/bin/node');
      expect(path.basename(argv[1])).toBe('agentHook.mjs');
      expect(existsSync(argv[1])).toBe(true);
      expect(argv.slice(2)).toEqual(['handoff']);
      expect(args).toContain('--no-daemon');
    }
  });

  it("Gemini CLI's hooks come from a system-defaults file of this installation that runs the hook script", () => {
    const { env } = expandArgs(
      profile('gemini'),
      { task: 't', lane: 'l', worktree: '/w', briefingFile: '/b' },
      { node: '/usr/bin/node' },
    );
    expect(env.AO_HOOK_NODE).toBe('/usr/bin/node');
    expect(path.basename(env.AO_HOOK_SCRIPT)).toBe('agentHook.mjs');
    expect(existsSync(env.AO_HOOK_SCRIPT)).toBe(true);
    const settings = JSON.parse(readFileSync(env.GEMINI_CLI_SYSTEM_DEFAULTS_PATH, 'utf8')) as {
      hooks: Record<string, { matcher?: string; hooks: { type: string; command: string }[] }[]>;
    };
    expect(Object.keys(settings)).toEqual(['hooks']); // nothing else: the operator's settings stay in charge
    expect(settings.hooks.AfterAgent[0].hooks[0].command).toBe('"$AO_HOOK_NODE" "$AO_HOOK_SCRIPT" handoff');
    expect(settings.hooks.Notification[0].matcher).toBe('ToolPermission');
    expect(settings.hooks.Notification[0].hooks[0].command).toBe('"$AO_HOOK_NODE" "$AO_HOOK_SCRIPT" waiting');
    expect(profile('gemini').envPassthrough).toContain('GOOGLE_GEMINI_BASE_URL');
  });

  it('Codex waits at an approval whose question a long command pushed out of the bottom rows', () => {
    const rows = [
      '  Would you like to run the following command?',
      '',
      '  Reason: the scripted model asks to run it',
      '',
      ...Array.from({ length: 12 }, (_, i) => `  $ line ${i} of a long command`),
      '',
      '› 1. Yes, proceed (y)',
      '  2. No, and tell Codex what to do differently (esc)',
      '',
      '  Press enter to confirm or esc to cancel',
    ];
    const c = compilePatterns(profile('codex'));
    const at = (quietMs: number) =>
      detectActivity({
        now: 1_000_000,
        lastOutputAt: 1_000_000 - quietMs,
        idleMs: profile('codex').idleMs,
        screen: screenMatches(rows, c.busy, c.waitingInput),
      });
    expect(at(1000)).toBe('waiting-input');
    expect(at(100)).toBe('busy');
  });
});

describe('the aider profile against its documented screens (not verified here: PyPI is out of reach)', () => {
  // Rebuilt from aider's documentation and published transcripts (test/fixtures/screens/README.md):
  // the startup banner and its `>` prompt, its `(Y)es/(N)o ... [Yes]:` confirmations, and the
  // `Waiting for <model>` spinner.
  it('its prompt and its confirmations read waiting-input once settled', () => {
    for (const file of ['aider-documented-idle.txt', 'aider-documented-confirm.txt']) {
      expect(activity('aider', file, 1000), file).toBe('waiting-input');
      expect(activity('aider', file, 100), file).toBe('busy');
    }
  });

  it('waiting for its model reads busy, even long after its last output', () => {
    expect(activity('aider', 'aider-documented-busy.txt', 1000)).toBe('busy');
    expect(activity('aider', 'aider-documented-busy.txt', 600_000)).toBe('busy');
  });
});

describe('the agent hook script', () => {
  it('exits 0 at once when no console answers, so it never blocks the agent', async () => {
    const script = fileURLToPath(new URL('../../profiles/hooks/agentHook.mjs', import.meta.url));
    const stateDir = mkdtempSync(path.join(tmpdir(), 'ao-no-console-'));
    try {
      const res = spawnSync(process.execPath, [script, 'handoff'], {
        cwd: stateDir,
        input: '{"hook_event_name":"Stop"}',
        env: { PATH: process.env.PATH, AO_LANE: 'nolane', AO_STATE_DIR: stateDir },
        timeout: 30_000,
      });
      expect(res.status).toBe(0);
      // its detached drainer finds no console, gives up and takes the emptied queue away
      await waitFor(() => !existsSync(path.join(stateDir, 'hooks', 'nolane')), 'the drainer to finish', 20_000);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe('the opencode and Copilot CLI profiles', () => {
  const vars = { task: '-x $(touch y) "quoted"', lane: 'l', worktree: '/w', briefingFile: '/b' };
  const expand = (name: string, resume = false) => expandArgs(profile(name), vars, { node: '/usr/bin/node', resume });

  it('load, and Copilot CLI is a built-in', () => {
    expect(errors).toEqual([]);
    expect(profiles.has('copilot')).toBe(true);
    expect(profiles.has('opencode')).toBe(true);
  });

  it.each([
    ['copilot', 'copilot-1.0.102-busy.txt'],
    ['opencode', 'opencode-1.18.33-busy.txt'],
  ])('%s: a working agent (%s) reads busy, even long after its last output', (name, file) => {
    expect(activity(name, file, 1000)).toBe('busy');
    expect(activity(name, file, 600_000)).toBe('busy');
  });

  it.each([
    ['copilot', 'copilot-1.0.102-idle.txt'],
    ['copilot', 'copilot-1.0.102-permission.txt'],
    ['copilot', 'copilot-1.0.102-trust.txt'],
    ['opencode', 'opencode-1.18.33-idle.txt'],
    ['opencode', 'opencode-1.18.33-permission.txt'],
  ])('%s: %s reads waiting-input once settled', (name, file) => {
    expect(activity(name, file, 1000)).toBe('waiting-input');
    expect(activity(name, file, 100)).toBe('busy'); // still being drawn
  });

  it('hand the task over in an argument of its own and resume the last session with it', () => {
    const hooks = `${path.dirname(profile('copilot').source)}/../hooks/copilot`;
    expect(expand('copilot').args).toEqual([
      '--disable-client-telemetry',
      '--plugin-dir',
      hooks,
      `--interactive=${vars.task}`,
    ]);
    expect(expand('copilot', true).args).toEqual([
      '--disable-client-telemetry',
      '--plugin-dir',
      hooks,
      '--continue',
      `--interactive=${vars.task}`,
    ]);
    expect(expand('opencode').args).toEqual([`--prompt=${vars.task}`]);
    expect(expand('opencode', true).args).toEqual(['--continue', `--prompt=${vars.task}`]);
  });

  it('pass through the key and config variables of each agent and nothing broad', () => {
    expect(profile('copilot').envPassthrough).toEqual(
      expect.arrayContaining(['COPILOT_*', 'GH_TOKEN', 'GITHUB_TOKEN', 'PATH', 'HOME', 'LANG', 'LC_*']),
    );
    expect(profile('opencode').envPassthrough).toEqual(expect.arrayContaining(['OPENCODE_*', 'XDG_CONFIG_HOME']));
    for (const name of ['copilot', 'opencode']) {
      expect(
        profile(name).envPassthrough.filter(
          (p) => p.length < 4 || p === 'GOOGLE_*' || p === 'AWS_*' || p === 'GH_*' || p === 'SSH_AUTH_SOCK',
        ),
      ).toEqual([]);
    }
    expect(expand('copilot').env.COPILOT_AUTO_UPDATE).toBe('false');
  });

  it("Copilot CLI's hooks come from a plugin folder of this installation that runs the hook script", () => {
    const { args, env } = expand('copilot');
    const dir = args[args.indexOf('--plugin-dir') + 1];
    expect(env.AO_HOOK_NODE).toBe('/usr/bin/node');
    expect(path.basename(env.AO_HOOK_SCRIPT)).toBe('agentHook.mjs');
    expect(existsSync(env.AO_HOOK_SCRIPT)).toBe(true);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'plugin.json'), 'utf8')) as { hooks: string };
    const hooks = JSON.parse(readFileSync(path.join(dir, manifest.hooks), 'utf8')) as {
      hooks: Record<string, { type: string; bash: string }[]>;
    };
    const command = (event: string) => hooks.hooks[event].map((h) => h.bash);
    expect(Object.keys(hooks.hooks).sort()).toEqual(['agentStop', 'notification', 'permissionRequest']);
    // constant shell strings: the paths come in through the environment, never pasted into them
    expect(command('agentStop')).toEqual(['"$AO_HOOK_NODE" "$AO_HOOK_SCRIPT" handoff || true']);
    expect(command('permissionRequest')).toEqual(['"$AO_HOOK_NODE" "$AO_HOOK_SCRIPT" waiting || true']);
    expect(command('notification')).toEqual(['"$AO_HOOK_NODE" "$AO_HOOK_SCRIPT" waiting || true']);
  });

  it("opencode's plugin comes from an extra config of this installation (OPENCODE_CONFIG) that lists only it", () => {
    const { env } = expand('opencode');
    expect(env.AO_HOOK_NODE).toBe('/usr/bin/node');
    expect(existsSync(env.AO_HOOK_SCRIPT)).toBe(true);
    const config = JSON.parse(readFileSync(env.OPENCODE_CONFIG, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(config).filter((k) => k !== '$schema')).toEqual(['plugin']); // the operator's config stays in charge
    const plugins = config.plugin as string[];
    expect(plugins).toHaveLength(1);
    expect(existsSync(path.resolve(path.dirname(env.OPENCODE_CONFIG), plugins[0]))).toBe(true);
  });
});

describe('the opencode plugin', () => {
  it('runs the hook script: waiting on a permission or a question, handoff when a top-level session goes idle', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ao-opencode-plugin-'));
    const log = path.join(dir, 'calls.log');
    const script = path.join(dir, 'hook.mjs');
    writeFileSync(
      script,
      `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(log)}, process.argv[2] + ' ' + process.env.AO_LANE + '\\n');\n`,
    );
    const saved = { ...process.env };
    try {
      Object.assign(process.env, { AO_LANE: 'l1', AO_HOOK_NODE: process.execPath, AO_HOOK_SCRIPT: script });
      const pluginFile = path.join(
        path.dirname(
          expandArgs(profile('opencode'), { task: 't', lane: 'l', worktree: '/w', briefingFile: '/b' }).env
            .OPENCODE_CONFIG,
        ),
        'plugin',
        'ao.js',
      );
      const mod = (await import(pathToFileURL(pluginFile).href)) as Record<
        string,
        () => Promise<{ event: (e: { event: { type: string; properties?: unknown } }) => Promise<void> }>
      >;
      const hooks = await Object.values(mod)[0]();
      const send = (type: string, properties: unknown) => hooks.event({ event: { type, properties } });
      const calls = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
      await send('session.created', { info: { id: 'ses_child', parentID: 'ses_main' } });
      await send('session.idle', { sessionID: 'ses_child' }); // a subagent's session: not the turn
      await send('session.status', { sessionID: 'ses_main', status: { type: 'busy' } });
      await send('permission.asked', { id: 'per_1', sessionID: 'ses_main' });
      await waitFor(() => calls().length === 1, 'the waiting call', 10_000);
      await send('session.idle', { sessionID: 'ses_main' });
      await waitFor(() => calls().length === 2, 'the handoff call', 10_000);
      await new Promise((r) => setTimeout(r, 300)); // nothing else comes
      expect(calls()).toEqual(['waiting l1', 'handoff l1']);
    } finally {
      for (const k of ['AO_LANE', 'AO_HOOK_NODE', 'AO_HOOK_SCRIPT']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
