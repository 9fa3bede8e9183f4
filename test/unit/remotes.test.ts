/**
 * Remote URLs, the remotes file and the remote command line: parsing (spaces raw or %20, ports,
 * users, IPv6, refusals naming the problem), the file's modes and damage, and the quoting that
 * makes a path with spaces, quotes and `$()` reach ao-console on the host as one literal word —
 * checked by a real POSIX shell parsing the line ssh would hand it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  addRemote,
  findRemote,
  parseSshUrl,
  readRemotes,
  remotesFile,
  removeRemote,
} from '../../src/control/remotes.js';
import { remoteCommandLine, shQuote, sshArgv } from '../../src/control/ssh.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function envWithConfig(): NodeJS.ProcessEnv {
  const d = mkdtempSync(path.join(os.tmpdir(), 'ao-remotes-'));
  dirs.push(d);
  return { HOME: d, XDG_CONFIG_HOME: path.join(d, 'cfg') };
}

describe('parseSshUrl', () => {
  it('reads user, host, port and an absolute path, spaces raw or percent-encoded', () => {
    expect(parseSshUrl('ssh://me@box.example:2222/srv/my repo')).toEqual({
      user: 'me',
      host: 'box.example',
      port: 2222,
      path: '/srv/my repo',
    });
    expect(parseSshUrl('ssh://box/srv/my%20repo/')).toEqual({ host: 'box', path: '/srv/my repo' });
    expect(parseSshUrl('ssh://[::1]:22/r')).toEqual({ host: '::1', port: 22, path: '/r' });
    expect(parseSshUrl('ssh://h/a/$(touch x)').path).toBe('/a/$(touch x)');
  });

  it('refuses what is not an ssh URL to a repo path, saying why', () => {
    expect(() => parseSshUrl('git@host:repo')).toThrow(/does not start with ssh:\/\//);
    expect(() => parseSshUrl('ssh://host')).toThrow(/no repo path/);
    expect(() => parseSshUrl('ssh://host/')).toThrow(/no repo path/);
    expect(() => parseSshUrl('ssh://-oProxyCommand=x/r')).toThrow(/host/);
    expect(() => parseSshUrl('ssh://-l@host/r')).toThrow(/user/);
    expect(() => parseSshUrl('ssh://host:99999/r')).toThrow(/port/);
    expect(() => parseSshUrl('ssh://host:x/r')).toThrow(/port/);
    expect(() => parseSshUrl('ssh://host/a%zz')).toThrow(/% escape/);
    expect(() => parseSshUrl('ssh://host/a%0Ab')).toThrow(/control character/);
  });
});

describe('the remote command line', () => {
  const sh = (line: string): string[] =>
    JSON.parse(
      execFileSync('sh', ['-c', `node -e 'process.stdout.write(JSON.stringify(process.argv.slice(1)))' -- ${line}`], {
        encoding: 'utf8',
      }),
    ) as string[];

  it('is parsed by a real shell back into the exact argv, nothing expanded or run', () => {
    const marker = path.join(os.tmpdir(), `ao-pwned-${process.pid}`);
    const words = [
      'plain',
      'two words',
      "it's",
      `$(touch ${marker})`,
      '`id`',
      'a;b|c&d',
      '$HOME',
      '*',
      'new\nline',
      '',
    ];
    expect(sh(words.map(shQuote).join(' '))).toEqual(words);
    expect(() => statSync(marker)).toThrow();
  });

  it('runs the configured program with --repo and the path as one word, and ssh gets `--` before the host', () => {
    const remote = { name: 'box', url: 'ssh://me@h:2200/srv/my repo $(id)', command: '/opt/ao console/bin/ao-console' };
    const line = remoteCommandLine(remote, ['engine', '--stdio']);
    expect(sh(line)).toEqual(['/opt/ao console/bin/ao-console', '--repo', '/srv/my repo $(id)', 'engine', '--stdio']);
    const argv = sshArgv(remote, ['lanes'], { batch: true });
    expect(argv.slice(argv.indexOf('--'))).toEqual(['--', 'h', remoteCommandLine(remote, ['lanes'])]);
    expect(argv).toEqual(expect.arrayContaining(['-T', '-p', '2200', '-l', 'me', 'BatchMode=yes']));
    expect(sshArgv(remote, ['replay'], { tty: true })[0]).toBe('-t');
  });
});

describe('the remotes file', () => {
  it('adds, finds, lists and removes; 0600 in a 0700 directory; no duplicate names', () => {
    const env = envWithConfig();
    expect(readRemotes(env)).toEqual([]);
    addRemote({ name: 'box', url: 'ssh://h/srv/r' }, env);
    addRemote({ name: 'vm-2', url: 'ssh://u@v:22/x y', command: '/usr/local/bin/ao-console' }, env);
    const file = remotesFile(env);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(readRemotes(env).map((r) => r.name)).toEqual(['box', 'vm-2']);
    expect(findRemote('vm-2', env).command).toBe('/usr/local/bin/ao-console');
    expect(() => addRemote({ name: 'box', url: 'ssh://h/other' }, env)).toThrow(/exists already/);
    expect(() => addRemote({ name: 'bad name', url: 'ssh://h/r' }, env)).toThrow(/not valid/);
    expect(() => addRemote({ name: 'ok', url: 'http://h/r' }, env)).toThrow(/ssh:\/\//);
    removeRemote('box', env);
    expect(() => findRemote('box', env)).toThrow(/no remote named "box" \(known: vm-2\)/);
    expect(() => removeRemote('box', env)).toThrow(/no remote named/);
  });

  it('a damaged file is an error naming the file and the field', () => {
    const env = envWithConfig();
    addRemote({ name: 'box', url: 'ssh://h/srv/r' }, env);
    const file = remotesFile(env);
    writeFileSync(file, '{ not json');
    expect(() => readRemotes(env)).toThrow(new RegExp(`${file} is not valid JSON`));
    writeFileSync(file, JSON.stringify({ version: 1, remotes: [{ name: 'box', url: 'ssh://h' }] }));
    expect(() => readRemotes(env)).toThrow(/remotes\.0: remote URL "ssh:\/\/h" is not valid: no repo path/);
    writeFileSync(file, JSON.stringify({ version: 1, remotes: [{ name: 'box' }] }));
    expect(() => readRemotes(env)).toThrow(/remotes\.0\.url/);
    expect(readFileSync(file, 'utf8')).toContain('box'); // reading never rewrites it
  });
});
