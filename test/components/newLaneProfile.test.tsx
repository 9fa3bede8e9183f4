/**
 * Issue 17: the new-lane form's default profile is the configured one, else the first whose
 * command is on PATH (not aider when aider is not installed), and a profile whose command is
 * missing is marked, with how to install it.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { commandAvailable, profileChoices } from '../../profiles/availability.js';
import { FakeSupervisor, plain, renderApp, type Rendered } from './harness.js';

const bin = mkdtempSync(path.join(tmpdir(), 'ao-path-'));
writeFileSync(path.join(bin, 'codex'), '#!/bin/sh\n');
chmodSync(path.join(bin, 'codex'), 0o755);
writeFileSync(path.join(bin, 'gemini'), 'not executable\n');
afterAll(() => rmSync(bin, { recursive: true, force: true }));

const PROFILES = new Map([
  ['aider', { command: 'aider' }],
  ['claude', { command: 'claude' }],
  ['codex', { command: 'codex' }],
  ['demo', { command: '{node}' }],
  ['gemini', { command: 'gemini' }],
]);

describe('profileChoices', () => {
  it('defaults to the first profile by name whose command is on PATH; marks the others with how to install', () => {
    const c = profileChoices(PROFILES, { envPath: bin });
    expect(c.names).toEqual(['aider', 'claude', 'codex', 'demo', 'gemini']);
    expect(c.defaultProfile).toBe('codex');
    expect(Object.keys(c.missing).sort()).toEqual(['aider', 'claude', 'gemini']);
    expect(c.missing.aider).toBe('aider is not on PATH: python -m pip install aider-chat');
    expect(c.missing.claude).toContain('npm install -g @anthropic-ai/claude-code');
  });

  it('the configured default wins, even over PATH; an unknown configured name is ignored', () => {
    expect(profileChoices(PROFILES, { envPath: bin, configured: 'claude' }).defaultProfile).toBe('claude');
    expect(profileChoices(PROFILES, { envPath: bin, configured: 'nope' }).defaultProfile).toBe('codex');
  });

  it('placeholders are provided by the console; nothing on PATH leaves the placeholder profile', () => {
    expect(commandAvailable('{node}', '')).toBe(true);
    expect(commandAvailable(path.join(bin, 'codex'), '')).toBe(true);
    expect(commandAvailable(path.join(bin, 'gemini'), '')).toBe(false);
    expect(profileChoices(PROFILES, { envPath: '' }).defaultProfile).toBe('demo');
  });
});

let r: Rendered | null = null;
afterEach(() => {
  r?.unmount();
  r = null;
});

describe('the new-lane form', () => {
  const chosen = (frame: string): string | undefined => /profile .*?\[([^\]]+)\]/.exec(plain(frame))?.[1];

  it('starts on the default profile and says how to install a missing one', async () => {
    const c = profileChoices(PROFILES, { envPath: bin });
    r = renderApp(new FakeSupervisor([]), { profiles: c.names, store: { profileChoices: c } });
    await r.press('n');
    let frame = await r.waitFor((f) => plain(f).includes('New lane'));
    expect(chosen(frame)).toBe('codex');
    expect(plain(frame)).toContain(' aider ✗ ');
    expect(plain(frame)).not.toContain('codex ✗');
    expect(plain(frame)).not.toContain('is not on PATH');
    await r.press('tab');
    await r.press('left');
    frame = await r.waitFor((f) => chosen(f) === 'claude ✗', 'claude chosen');
    expect(plain(frame)).toContain('claude: claude is not on PATH: npm install -g @anthropic-ai/claude-code');
  });

  it('with no default given, the first runnable profile of the list', async () => {
    r = renderApp(new FakeSupervisor([]), {
      profiles: ['aider', 'demo'],
      store: { profileChoices: { defaultProfile: null, missing: { aider: 'aider is not on PATH' } } },
    });
    await r.press('n');
    expect(chosen(await r.waitFor((f) => plain(f).includes('New lane')))).toBe('demo');
  });
});
