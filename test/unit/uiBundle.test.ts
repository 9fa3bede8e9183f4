/**
 * The dashboard's UI bundle (scripts/bundleUi.mjs, loaded by src/commands/dashboard.ts): one
 * module instead of ~900, and the engine side not copied into it, so there is one copy of each
 * shared class and module state (ActionError, the splash) between the CLI and the dashboard.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BUNDLE = fileURLToPath(new URL('../../dist/src/ui/dashboard.bundle.js', import.meta.url));

describe('the dashboard UI bundle', () => {
  it('is built with dist/ (esbuild is a dev dependency)', () => {
    expect(existsSync(BUNDLE)).toBe(true);
  });

  it('holds Ink and React but imports the engine side from dist/ instead of copying it', () => {
    const text = readFileSync(BUNDLE, 'utf8');
    expect(text).toContain('react-reconciler');
    // shared modules are imports, never copies
    expect(text).toMatch(/from "\.\.\/\.\.\/lanes\/lane\/rules\.js"/);
    expect(text).toMatch(/from "\.\.\/splash\.js"/);
    // the replay (emulator, store reader, SQLite) loads when first used, not with the dashboard
    expect(text).toMatch(/import\("\.\.\/replay\/service\.js"\)/);
    expect(text).not.toMatch(/from "\.\.\/\.\.\/lanes\/terminal\/laneTerminal\.js"/);
    expect(text).not.toMatch(/class ActionError\b/);
    expect(text).not.toMatch(/function drawSplash\b/);
    expect(text).not.toMatch(/class Supervisor\b/);
  });

  it('exports what the dashboard command calls', async () => {
    const mod = (await import(BUNDLE)) as { runDashboard?: unknown; NotATtyError?: unknown };
    expect(typeof mod.runDashboard).toBe('function');
  });
});
