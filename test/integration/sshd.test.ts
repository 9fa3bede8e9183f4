/**
 * The real-sshd harness (test/helpers/sshd.ts) that the SSH remote tests stand on: a real
 * OpenSSH server on 127.0.0.1, reached through the `ssh` wrapper first on PATH, as ao-console
 * reaches a user's host. Skipped with the reason when OpenSSH is missing, except under
 * CI_REQUIRE_SSHD=1 (CI), where that fails.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { sshdSkipReason, startSshd, type Sshd } from '../helpers/sshd.js';
import { CLI } from '../helpers/cliBin.js';
import { waitFor } from '../helpers/waitFor.js';

const servers: Sshd[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

const skip = sshdSkipReason();

/** `ssh args...` found on PATH as ao-console would find it (the wrapper first). */
function ssh(server: Sshd, args: string[]) {
  return spawnSync('ssh', args, { env: server.env(), encoding: 'utf8', timeout: 30_000 });
}

/** True while `pid` runs (a zombie does not). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

describe('a real sshd on 127.0.0.1', () => {
  it('runs a command through the ssh wrapper on PATH, one argument per word; stop() leaves no sshd', async (ctx) => {
    if (skip) ctx.skip(skip);
    const server = await startSshd();
    servers.push(server);
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);

    const r = ssh(server, ['-T', '127.0.0.1', '--', 'printf', '%s', "'a b'"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('a b');
    // the wrapper saw exactly these words
    expect(server.calls()).toEqual([['-T', '127.0.0.1', '--', 'printf', '%s', "'a b'"]]);

    // any host name reaches it (HostKeyAlias), an explicit port and user too; the session's
    // PATH has the built ao-console (the login shell's rc files may add more, as on any host)
    const who = ssh(server, [
      '-T',
      '-p',
      String(server.port),
      '-l',
      server.user,
      'buildbox',
      'echo "$USER"; command -v ao-console',
    ]);
    expect(who.status, who.stderr).toBe(0);
    expect(who.stdout).toBe(`${server.user}\n${server.dir}/remote-bin/ao-console\n`);
    const ao = ssh(server, ['-T', 'buildbox', 'ao-console', '--version']);
    expect(ao.status, ao.stderr).toBe(0);
    expect(ao.stdout).toBe(spawnSync(process.execPath, [CLI, '--version'], { encoding: 'utf8' }).stdout);

    // a long session: its client and the per-connection sshd are found; stop() ends them all
    const long = spawn('ssh', ['-T', '127.0.0.1', 'sleep', '300'], { env: server.env(), stdio: 'ignore' });
    const longExit = new Promise<number | null>((resolve) => long.once('exit', (code) => resolve(code)));
    const sessions = await waitFor(() => (server.sessionPids().length > 0 ? server.sessionPids() : null), 'a session');
    await waitFor(() => server.clientPids().includes(long.pid!), 'the ssh client to show in clientPids()');
    const dir = server.dir;
    await server.stop();
    for (const pid of [server.pid, ...sessions]) expect(alive(pid), `sshd ${pid} still runs`).toBe(false);
    // the client sees its link end
    expect(await longExit).not.toBe(0);
    expect(existsSync(dir)).toBe(false);
  }, 90_000);

  it('sets the session environment it is given; a key it does not know is refused', async (ctx) => {
    if (skip) ctx.skip(skip);
    const server = await startSshd({ sessionEnv: { AO_ENGINE_REGISTRY: '/tmp/a dir/engines' } });
    servers.push(server);
    const r = ssh(server, ['-T', '127.0.0.1', 'printf %s "$AO_ENGINE_REGISTRY"']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('/tmp/a dir/engines');

    // the system ssh with no key of ours (BatchMode: no prompt) is refused
    const plain = spawnSync(
      '/usr/bin/ssh',
      [
        '-F',
        '/dev/null',
        '-o',
        'BatchMode=yes',
        '-o',
        'IdentitiesOnly=yes',
        '-o',
        'IdentityFile=/dev/null',
        '-o',
        'IdentityAgent=none',
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        'UserKnownHostsFile=/dev/null',
        '-p',
        String(server.port),
        `${server.user}@127.0.0.1`,
        'true',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(plain.status).toBe(255);
    expect(plain.stderr).toMatch(/Permission denied/);
  }, 90_000);
});
