/**
 * The command line loads only the module of the command it names (src/main.ts COMMANDS): the
 * engine (`serve`) and the dashboard (no command) carry none of the others.
 */
import { describe, expect, it } from 'vitest';
import { buildProgram, commandsNeeded } from '../../src/main.js';

const silent = { writeOut: () => {}, writeErr: () => {} };
const names = async (args: string[]) => (await buildProgram(silent, args)).commands.map((c) => c.name());

describe('which command modules a command line loads', () => {
  it('none for the dashboard, with or without root options', () => {
    expect(commandsNeeded([])).toEqual([]);
    expect(commandsNeeded(['--repo', '/x', '--all'])).toEqual([]);
    expect(commandsNeeded(['--remote=box'])).toEqual([]);
  });

  it('the named one after the root options', () => {
    expect(commandsNeeded(['serve', '--background'])).toEqual(['serve']);
    expect(commandsNeeded(['--repo', 'ctl', 'ctl', 'status'])).toEqual(['ctl']);
    expect(commandsNeeded(['--repo=/x', '--client-protocol', '3', 'learn', 'x'])).toEqual(['learn']);
    expect(commandsNeeded(['sessions', '--help'])).toEqual(['sessions']);
  });

  it('all of them for help, the version, `help`, an unknown name or option', async () => {
    const all = await names(['--help']);
    expect(all.length).toBeGreaterThan(15);
    for (const args of [['-V'], ['help', 'ctl'], ['bogus'], ['--bogus', 'ctl']])
      expect(commandsNeeded(args)).toHaveLength(new Set(commandsNeeded(['--help'])).size);
    expect(await names(['bogus'])).toEqual(all);
  });

  it('every command the full program has is found by its own name, alone or with its module', async () => {
    const all = await names(['--help']);
    for (const name of all) {
      const some = await names([name]);
      expect(some).toContain(name);
      expect(some.length).toBeLessThan(all.length);
    }
    expect(await names([])).toEqual([]);
  });
});
