/**
 * A real OpenSSH server for tests: `/usr/sbin/sshd -D -e -f <own config>` on 127.0.0.1 on a free
 * port, run as the user running the tests (no root needed: `UsePAM no`, `StrictModes no`), with
 * its own host key and an authorized key made for the test in a temp dir. Nothing touches
 * ~/.ssh: the client side is an `ssh_config` of its own (that key, a known_hosts holding the
 * host key, StrictHostKeyChecking yes, BatchMode yes) and a directory with an executable `ssh`
 * that runs `/usr/bin/ssh -F <that config> "$@"`. A test puts that directory first on PATH
 * (`env()`), and ao-console, which runs the `ssh` it finds on PATH, reaches this server the way
 * it reaches a user's host through the user's own wrapper or config.
 *
 * - Every host name reaches this server (`Host *` with `HostName 127.0.0.1` and one
 *   `HostKeyAlias`), so a test can name a host as a user would (`ssh://me@buildbox/...`); an
 *   explicit `-p`/`-l` (from a URL's port or user) still applies.
 * - Sessions run the user's login shell with a fixed PATH: a `remote-bin` directory with an
 *   `ao-console` that runs this checkout's built binary with this test's node, then node's
 *   directory, then the system's. `sessionEnv` adds variables (sshd's SetEnv), e.g.
 *   AO_ENGINE_REGISTRY or AO_TRUST_FILE for the remote side: nothing of the client's
 *   environment is sent over (as with a real host).
 * - The `ssh` wrapper logs every call's argv (`calls()`), so a test can check the exact words
 *   ao-console passed, and `clientPids()` finds the ssh clients now running through it (to kill
 *   one: a dropped link).
 * - Skipped with a reason when sshd or ssh is missing (`sshdSkipReason()`), except under CI
 *   (`CI_REQUIRE_SSHD=1`): there a missing sshd is a failure.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CLI } from './cliBin.js';

export const SSHD = '/usr/sbin/sshd';
export const SSH = '/usr/bin/ssh';
export const SSH_KEYGEN = '/usr/bin/ssh-keygen';

/** The alias the host key is known by in the client's known_hosts, whatever host name is used. */
const HOST_KEY_ALIAS = 'ao-test-sshd';

export interface SshdOptions {
  /** variables set in every session (sshd_config SetEnv); values may hold spaces, not `"` or newlines */
  sessionEnv?: Record<string, string>;
  /** directories put first on the sessions' PATH, before remote-bin */
  sessionPath?: string[];
  /** put an `ao-console` running this checkout's dist/src/cli.js on the sessions' PATH (default true) */
  aoConsoleOnPath?: boolean;
}

export interface Sshd {
  port: number;
  user: string;
  host: '127.0.0.1';
  /** the directory holding the `ssh` wrapper: first on PATH for ao-console to use it */
  binDir: string;
  /** the client config the wrapper passes with -F */
  sshConfig: string;
  /** the sshd listener's pid */
  pid: number;
  /** the harness's temp dir (keys, configs, logs) */
  dir: string;
  /** the sessions' PATH */
  sessionPath: string;
  /** stops the listener and every connection's sshd process; the temp dir is removed */
  stop(): Promise<void>;
  /** `base` (default process.env) with binDir first on PATH */
  env(base?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** the argv (without `ssh`) of every call of the wrapper so far, oldest first */
  calls(): string[][];
  /** pids of the ssh clients running through the wrapper now */
  clientPids(): number[];
  /** pids of sshd's per-connection processes now (not the listener) */
  sessionPids(): number[];
  /** what sshd wrote to stderr (-e) so far */
  log(): string;
}

/** Why sshd tests cannot run on this machine, or null. Under CI_REQUIRE_SSHD=1 always null (run and fail). */
export function sshdSkipReason(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.CI_REQUIRE_SSHD === '1') return null;
  const missing = [SSHD, SSH, SSH_KEYGEN].filter((f) => !existsSync(f));
  if (missing.length === 0) return null;
  return `OpenSSH is not installed (${missing.join(', ')} missing; Debian: apt-get install openssh-server openssh-client)`;
}

function run(file: string, args: readonly string[], timeoutMs = 30_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A word for a shell script: single-quoted. */
const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** ppid of every process, from /proc. */
function parentMap(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // ended while we looked
    }
  }
  return children;
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true; // gone
  }
}

function exeOf(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return null;
  }
}

/** sshd processes below `root` (its connections, and theirs): never the user's programs in a session. */
function sshdDescendants(root: number): number[] {
  const children = parentMap();
  const sshdExe = realpathSync(SSHD);
  const found: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    queue.push(...(children.get(pid) ?? []));
    if (exeOf(pid) === sshdExe && !isZombie(pid)) found.push(pid);
  }
  return found;
}

function killQuietly(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let left = pids.filter((p) => !isZombie(p));
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(25);
    left = left.filter((p) => !isZombie(p));
  }
  return left;
}

/** Starts sshd and waits until it accepts a login. Throws (naming what failed) when it cannot run. */
export async function startSshd(opts: SshdOptions = {}): Promise<Sshd> {
  const missing = [SSHD, SSH, SSH_KEYGEN].filter((f) => !existsSync(f));
  if (missing.length > 0)
    throw new Error(
      `cannot start a test sshd: ${missing.join(', ')} missing (Debian: apt-get install openssh-server openssh-client)`,
    );
  // As root, sshd's privilege separation needs its empty chroot directory.
  if (process.getuid?.() === 0 && !existsSync('/run/sshd')) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const dir = realpathSync(await mkdtemp(path.join(os.tmpdir(), 'ao-sshd-')));
  // Paths go into sshd_config, ssh_config and a shell script: refuse what any of them would misread.
  if (/[\s'"\\#%]/.test(dir)) throw new Error(`the temp dir ${dir} holds characters ssh configs cannot take`);
  chmodSync(dir, 0o700);
  try {
    return await launch(dir, opts);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function launch(dir: string, opts: SshdOptions): Promise<Sshd> {
  const user = os.userInfo().username;
  const hostKey = path.join(dir, 'host_ed25519');
  const clientKey = path.join(dir, 'client_ed25519');
  for (const [key, comment] of [
    [hostKey, 'ao-test-host'],
    [clientKey, 'ao-test-client'],
  ]) {
    const r = await run(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', key]);
    if (r.code !== 0) throw new Error(`ssh-keygen for ${key} failed: ${r.out}`);
  }
  const authorizedKeys = path.join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, `no-agent-forwarding,no-X11-forwarding ${readFileSync(`${clientKey}.pub`, 'utf8')}`, {
    mode: 0o600,
  });
  const knownHosts = path.join(dir, 'known_hosts');
  writeFileSync(knownHosts, `${HOST_KEY_ALIAS} ${readFileSync(`${hostKey}.pub`, 'utf8')}`, { mode: 0o600 });

  // The sessions' PATH: remote-bin (ao-console), this node's directory, the system's.
  const remoteBin = path.join(dir, 'remote-bin');
  mkdirSync(remoteBin, { mode: 0o700 });
  if (opts.aoConsoleOnPath !== false)
    writeFileSync(path.join(remoteBin, 'ao-console'), `#!/bin/sh\nexec ${shq(process.execPath)} ${shq(CLI)} "$@"\n`, {
      mode: 0o700,
    });
  const sessionPath = [
    ...(opts.sessionPath ?? []),
    remoteBin,
    path.dirname(process.execPath),
    '/usr/local/bin',
    '/usr/bin',
    '/bin',
  ]
    .filter((d, i, all) => all.indexOf(d) === i)
    .join(':');
  const sessionEnv = { PATH: sessionPath, ...opts.sessionEnv };
  for (const [k, v] of Object.entries(sessionEnv))
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || /["\n\\]/.test(v))
      throw new Error(`sessionEnv ${k}=${JSON.stringify(v)}: sshd_config SetEnv cannot carry it`);

  // The client: its config and the `ssh` wrapper that logs argv (NUL-separated) and runs ssh with it.
  const sshConfig = path.join(dir, 'ssh_config');
  const binDir = path.join(dir, 'bin');
  mkdirSync(binDir, { mode: 0o700 });
  // One file per call (named by time, then pid), so calls made at once never mix their words.
  const callDir = path.join(dir, 'ssh-calls');
  mkdirSync(callDir, { mode: 0o700 });
  writeFileSync(
    path.join(binDir, 'ssh'),
    [
      '#!/bin/sh',
      `f=${shq(callDir)}/$(date +%s%N)-$$`,
      `if [ "$#" -gt 0 ]; then printf '%s\\0' "$@" > "$f"; else : > "$f"; fi`,
      `exec ${shq(SSH)} -F ${shq(sshConfig)} "$@"`,
      '',
    ].join('\n'),
    { mode: 0o700 },
  );

  const sshdConfig = path.join(dir, 'sshd_config');
  const pidFile = path.join(dir, 'sshd.pid');
  let stderr = '';
  let child: ChildProcess | undefined;
  let port = 0;
  // A free port can be taken between finding it and sshd binding it: then try another.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    writeFileSync(
      sshdConfig,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `PidFile ${pidFile}`,
        `AuthorizedKeysFile ${authorizedKeys}`,
        `AllowUsers ${user}`,
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'UsePAM no',
        'StrictModes no',
        'UseDNS no',
        'PrintMotd no',
        'PrintLastLog no',
        'X11Forwarding no',
        'AllowAgentForwarding no',
        'AllowTcpForwarding no',
        'PermitUserEnvironment no',
        // reconnect tests open many connections at once
        'MaxStartups 100:30:200',
        'MaxSessions 50',
        'LogLevel INFO',
        `SetEnv ${Object.entries(sessionEnv)
          .map(([k, v]) => `"${k}=${v}"`)
          .join(' ')}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    writeFileSync(
      sshConfig,
      [
        'Host *',
        '  HostName 127.0.0.1',
        `  Port ${port}`,
        `  User ${user}`,
        `  HostKeyAlias ${HOST_KEY_ALIAS}`,
        `  IdentityFile ${clientKey}`,
        '  IdentitiesOnly yes',
        '  IdentityAgent none',
        `  UserKnownHostsFile ${knownHosts}`,
        '  GlobalKnownHostsFile /dev/null',
        '  StrictHostKeyChecking yes',
        '  UpdateHostKeys no',
        '  CheckHostIP no',
        '  BatchMode yes',
        '  PasswordAuthentication no',
        '  ControlMaster no',
        '  ControlPath none',
        '  ConnectTimeout 10',
        '  LogLevel ERROR',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    stderr = '';
    const proc = spawn(SSHD, ['-D', '-e', '-f', sshdConfig], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    proc.once('error', (err) => (stderr += `spawn ${SSHD}: ${err.message}\n`));
    const ready = await waitAccepting(binDir, exited, 20_000);
    if (ready === 'ok') {
      // the probes are not the test's calls
      for (const f of readdirSync(callDir)) rmSync(path.join(callDir, f), { force: true });
      child = proc;
      break;
    }
    proc.kill('SIGKILL');
    await exited;
    if (ready === 'exited' && /Address already in use/i.test(stderr) && attempt < 5) continue;
    throw new Error(
      `the test sshd (${SSHD} -D -e -f ${sshdConfig}) ${ready === 'exited' ? 'exited' : 'did not accept a login in 20 s'}:\n${stderr}`,
    );
  }
  const proc = child;
  const pid = proc.pid!;
  const exited = new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once('exit', () => resolve());
  });

  let stopping: Promise<void> | undefined;
  return {
    port,
    user,
    host: '127.0.0.1',
    binDir,
    sshConfig,
    pid,
    dir,
    sessionPath,
    stop() {
      stopping ??= (async () => {
        // Connections first (while they are still below the listener and can be found), then it.
        const sessions = sshdDescendants(pid);
        for (const p of sessions) killQuietly(p, 'SIGTERM');
        proc.kill('SIGTERM');
        let left = await waitGone([...sessions, pid], 5000);
        for (const p of left) killQuietly(p, 'SIGKILL');
        left = await waitGone(left, 5000);
        await Promise.race([exited, sleep(5000)]);
        await rm(dir, { recursive: true, force: true });
        if (left.length > 0) throw new Error(`sshd processes ${left.join(', ')} survived SIGKILL`);
      })();
      return stopping;
    },
    env(base: NodeJS.ProcessEnv = process.env) {
      return { ...base, PATH: [binDir, base.PATH].filter(Boolean).join(path.delimiter) };
    },
    calls() {
      let names: string[];
      try {
        names = readdirSync(callDir);
      } catch {
        return []; // stopped: the dir is gone
      }
      const key = (n: string) => BigInt(n.split('-')[0]);
      return names
        .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
        .flatMap((n) => {
          const raw = readFileSync(path.join(callDir, n), 'utf8');
          if (raw === '') return [[]];
          // without its last NUL the call is still being written: not yet
          return raw.endsWith('\0') ? [raw.slice(0, -1).split('\0')] : [];
        });
    },
    clientPids() {
      const found: number[] = [];
      for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        try {
          const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
          if (argv[0] === SSH && argv[1] === '-F' && argv[2] === sshConfig && !isZombie(Number(entry)))
            found.push(Number(entry));
        } catch {
          // ended while we looked
        }
      }
      return found;
    },
    sessionPids: () => sshdDescendants(pid),
    log: () => stderr,
  };
}

/** Polls `ssh <host> true` through the wrapper until it logs in: 'ok', or why not. */
async function waitAccepting(
  binDir: string,
  exited: Promise<number | null>,
  timeoutMs: number,
): Promise<'ok' | 'exited' | 'timeout'> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (gone) return 'exited';
    const r = await run(path.join(binDir, 'ssh'), ['-o', 'ConnectTimeout=2', '-T', '127.0.0.1', 'true'], 5000);
    if (r.code === 0) return 'ok';
    if (gone) return 'exited';
    await sleep(100);
  }
  return 'timeout';
}
