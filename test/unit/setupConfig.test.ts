/** The repo config's `setup` (lanes/config/repoConfig.ts): paths stay in the repo, one command form, errors name the field. */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseRepoConfig } from '../../lanes/config/repoConfig.js';
import { canonicalJson, hashCommands, repoCommands } from '../../lanes/trust/trust.js';

const parse = (raw: unknown) => parseRepoConfig(raw, { file: '.ao/config.json', hasTestScript: false });
const bad = (raw: unknown): string => {
  try {
    parse(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('setup in the repo config', () => {
  it('normalises paths and fills the timeout', () => {
    expect(
      parse({ setup: { copy: ['./.env', 'config//local.json/'], link: ['node_modules'], run: ['npm', 'ci'] } }).setup,
    ).toEqual({
      copy: ['.env', 'config/local.json'],
      link: ['node_modules'],
      run: ['npm', 'ci'],
      timeoutSec: 600,
    });
    expect(parse({}).setup).toBeUndefined();
  });

  it('refuses paths out of the repo, absolute ones, .git, and both command forms, naming file and field', () => {
    expect(bad({ setup: { copy: ['.env', '../secrets'] } })).toBe(
      '.ao/config.json: setup.copy[1]: "../secrets": must stay inside the repo (no "..")',
    );
    expect(bad({ setup: { link: ['/etc/passwd'] } })).toBe(
      '.ao/config.json: setup.link[0]: "/etc/passwd": must be relative to the repo root, not absolute',
    );
    expect(bad({ setup: { copy: ['a/../../b'] } })).toContain('setup.copy[0]');
    expect(bad({ setup: { copy: ['.git/config'] } })).toContain('must not be in .git');
    expect(bad({ setup: { copy: ['.'] } })).toContain('names no file');
    expect(bad({ setup: { run: ['npm', 'ci'], shell: 'npm ci' } })).toContain('setup.run: the setup command is either');
    expect(bad({ setup: { run: [] } })).toContain('setup.run: needs at least the program');
    expect(bad({ setup: { copy: ['x'], link: ['./x'] } })).toContain('setup.link[0]: "./x" is in "copy" too');
    expect(bad({ setup: { script: 'x' } })).toContain('setup: unknown field "script"');
  });

  it('the commands to trust: setup, command gates, notify hook; copy/link and built-ins are not commands', () => {
    const config = parse({
      setup: { copy: ['.env'], shell: 'npm ci', env: { CI: '1' } },
      gates: [{ builtin: 'merge-clean' }, { name: 't', run: ['npm', 'test'] }],
      notify: { command: ['hook'] },
    });
    expect(repoCommands(config)).toEqual([
      { kind: 'setup', name: 'setup', shell: 'npm ci', env: { CI: '1' } },
      { kind: 'gate', name: 't', run: ['npm', 'test'] },
      { kind: 'notify', name: 'notify.command', run: ['hook'] },
    ]);
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: undefined }] })).toBe('{"a":[{"d":2}],"b":1}');
    // a timeout is not a command: changing it keeps the trust; an env change does not
    const other = parse({
      setup: { copy: ['.env'], shell: 'npm ci', env: { CI: '1' }, timeoutSec: 5 },
      gates: [{ builtin: 'merge-clean' }, { name: 't', run: ['npm', 'test'], timeoutSec: 9 }],
      notify: { command: ['hook'] },
    });
    expect(hashCommands(repoCommands(other))).toBe(hashCommands(repoCommands(config)));
    const env = parse({
      setup: { shell: 'npm ci', env: { CI: '2' } },
      gates: [{ name: 't', run: ['npm', 'test'] }],
      notify: { command: ['hook'] },
    });
    expect(hashCommands(repoCommands(env))).not.toBe(hashCommands(repoCommands(config)));
  });
});
