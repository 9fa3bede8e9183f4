/**
 * Remotes against a real OpenSSH sshd on 127.0.0.1 (test/helpers/sshd.ts: its own host key and a
 * key made for the test; `ssh` is found on PATH through the helper's wrapper, as a user's own
 * would be). The remote repo's path holds spaces and `$(touch …)`: it must reach ao-console on the
 * host as one word and run nothing.
 *
 * - `remote add|list|remove`, `--remote` before or after the command;
 * - one-shot commands forwarded: engine start/status, ctl new/wait/send/approve until the lane's
 *   work is on the remote's base branch, exit codes unchanged (3, 4), `export -o` writing here;
 * - the dashboard's link (`engine --stdio` over ssh): lanes and screens; the ssh process killed ->
 *   the link reports it lost with ssh's reason, the remote lane still runs, a new link sees it;
 * - version skew refused with both versions named, over the link and forwarded;
 * - no key or password written by ao-console anywhere.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../../lanes/git/git.js';
import { ProtocolMismatchError } from '../../src/control/engineConnection.js';
import { findRemote } from '../../src/control/remotes.js';
import { connectRemote } from '../../src/control/ssh.js';
import { runCli } from '../helpers/cliBin.js';
import { sshdSkipReason, startSshd, type Sshd } from '../helpers/sshd.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';

const SKIP = sshdSkipReason();
if (SKIP) console.warn(`remote tests skipped: ${SKIP}`);
// a shell that ran the path would create this file in its working directory (the remote home)
const MARKER_NAME = `ao-remote-pwned-${process.pid}`;
const SUBDIR = `my repo $(touch ${MARKER_NAME}) 'q'`;
const markers = () => [os.homedir(), process.cwd(), os.tmpdir()].map((d) => path.join(d, MARKER_NAME));

let sshd: Sshd | null = null;
let repo: TempRepo;
let home: string;
let env: NodeJS.ProcessEnv;
/** the vars the test's own process needs for connectRemote: PATH with the ssh wrapper, the config dir */
const saved: Record<string, string | undefined> = {};

const ao = (args: string[], timeoutMs = 60_000) => runCli(args, { env, timeoutMs, cwd: home });
const ok = async (args: string[], timeoutMs = 60_000) => {
  const r = await ao(args, timeoutMs);
  expect(r.code, `ao-console ${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  return r;
};

beforeAll(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'ao-remote-home-'));
  const registry = path.join(home, 'engines');
  if (SKIP) return;
  sshd = await startSshd({ sessionEnv: { AO_ENGINE_REGISTRY: registry, AO_DEMO_SPEED: '0' } });
  repo = await createTempRepo({ subdir: SUBDIR });
  env = sshd.env({
    ...process.env,
    XDG_CONFIG_HOME: path.join(home, 'config'),
    AO_ENGINE_REGISTRY: registry,
  });
  for (const k of ['PATH', 'XDG_CONFIG_HOME']) {
    saved[k] = process.env[k];
    process.env[k] = env[k];
  }
}, 60_000);

afterAll(async () => {
  if (sshd) {
    await ao(['--remote', 'box', 'engine', 'stop', '--yes'], 150_000).catch(() => undefined);
    await sshd.stop();
  }
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await repo?.cleanup();
  rmSync(home, { recursive: true, force: true });
  for (const m of markers()) rmSync(m, { force: true });
}, 180_000);

// the host's name is the user's to choose: the test ssh config sends every name to its sshd
const url = () => `ssh://${sshd!.user}@buildbox:${sshd!.port}${repo.dir}`;

describe.skipIf(SKIP)('remotes over a real sshd', () => {
  it('adds a remote, lists it as stopped without starting anything, refuses bad input', async () => {
    // `ao-console` on the host's PATH (the harness puts this checkout's build there)
    const added = await ok(['remote', 'add', 'box', url()]);
    expect(added.stdout).toContain('added remote box');
    const file = path.join(home, 'config', 'ao-console', 'remotes.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const listed = JSON.parse((await ok(['remote', 'list', '--json'])).stdout) as unknown[];
    expect(listed).toEqual([{ name: 'box', url: url(), state: 'stopped' }]);
    expect(existsSync(path.join(repo.dir, '.git', 'ao', 'ao.sock'))).toBe(false);

    const dup = await ao(['remote', 'add', 'box', url()]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('a remote named box exists already');
    const unknown = await ao(['--remote', 'nope', 'lanes']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no remote named "nope" (known: box)');
    const both = await ao(['--remote', 'box', '--repo', repo.dir, 'lanes']);
    expect(both.code, both.stderr).toBe(2);
    expect(both.stderr).toContain('--remote and --repo do not go together');
    const localOnly = await ao(['--remote', 'box', 'doctor']);
    expect(localOnly.code).toBe(2);
    expect(localOnly.stderr).toContain('`doctor` runs here only');
    // no engine there yet: ctl's exit code 3 comes back as it is
    expect((await ao(['--remote', 'box', 'ctl', 'status'])).code).toBe(3);
  });

  it('drives a remote lane with forwarded commands until its work is on the remote base branch', async () => {
    const started = await ok(['engine', 'start', '--remote', 'box']);
    expect(started.stdout).toContain('engine started');
    expect(started.stdout).toContain(repo.dir);

    await ok([
      '--remote',
      'box',
      'ctl',
      'new',
      '--name',
      'far',
      '--profile',
      'demo',
      '--task',
      'ask, then create file far.txt',
    ]);
    await ok(['--remote', 'box', 'ctl', 'wait', 'far', '--state', 'waiting-input', '--timeout', '60'], 90_000);
    const screen = await ok(['--remote', 'box', 'ctl', 'screen', 'far']);
    expect(screen.stdout).toContain('Allow write to far.txt?');
    // ctl wait's timeout exit code passes through
    const late = await ao(['--remote', 'box', 'ctl', 'wait', 'far', '--state', 'merged', '--timeout', '1']);
    expect(late.code).toBe(4);

    await ok(['--remote', 'box', 'ctl', 'send', 'far', 'y', '--enter']);
    await ok(['lanes', '--remote', 'box', '--json']);
    await ok(['--remote', 'box', 'ctl', 'wait', 'far', '--state', 'awaiting-approval', '--timeout', '120'], 150_000);
    await ok(['--remote', 'box', 'ctl', 'approve', 'far']);
    await ok(['--remote', 'box', 'ctl', 'wait', 'far', '--state', 'merged', '--timeout', '60'], 90_000);
    expect((await git(['show', 'main:far.txt'], { cwd: repo.dir })).stdout).toMatch(/Created by the ao-demo agent/);

    const lanes = JSON.parse((await ok(['--remote', 'box', 'lanes', '--json'])).stdout) as { name: string }[];
    expect(lanes.map((l) => l.name)).toContain('far');

    // export -o writes the file on this machine, whole
    const out = path.join(home, 'far.cast');
    await ok(['--remote', 'box', 'export', 'far', '-o', out]);
    const cast = readFileSync(out, 'utf8');
    expect(JSON.parse(cast.split('\n')[0])).toMatchObject({ version: 2 });
    expect(cast).toContain('far.txt');
    expect(readdirSync(home).filter((f) => f.endsWith('.part'))).toEqual([]);

    // the path with `$()` was never run by a shell
    for (const m of markers()) expect(existsSync(m), m).toBe(false);
  }, 300_000);

  it("the dashboard's link: lanes over ssh; a killed ssh is reported lost, the remote lane runs on, a new link sees it", async () => {
    await ok([
      '--remote',
      'box',
      'ctl',
      'new',
      '--name',
      'stays',
      '--profile',
      'demo',
      '--task',
      'ask about create file stays.txt',
    ]);
    await ok(['--remote', 'box', 'ctl', 'wait', 'stays', '--state', 'waiting-input', '--timeout', '60'], 90_000);

    const first = await connectRemote(findRemote('box'), 'test');
    const { lanes } = await first.conn.request<{ lanes: { name: string; state: string }[] }>('subscribe');
    expect(lanes.find((l) => l.name === 'stays')?.state).toBe('waiting-input');
    const screen = await first.conn.request<{ rows: string[] }>('screen', { lane: 'stays' });
    expect(screen.rows.join('\n')).toContain('Allow write to stays.txt?');

    const lost = new Promise<{ kind: string; reason: string }>((resolve) => first.conn.onClose(resolve));
    process.kill(first.pid!, 'SIGKILL');
    const info = await lost;
    expect(info.kind).toBe('lost');
    expect(info.reason).toContain('the link to box');
    expect(info.reason).toContain('SIGKILL');

    // the lane belongs to the remote engine: still there, still asking
    const again = await connectRemote(findRemote('box'), 'test');
    try {
      const st = await again.conn.request<{ lanes: { name: string; state: string }[] }>('status');
      expect(st.lanes.find((l) => l.name === 'stays')?.state).toBe('waiting-input');
    } finally {
      again.conn.close();
    }
    await ok(['--remote', 'box', 'ctl', 'stop', 'stays']);
  }, 180_000);

  it('refuses version skew with both versions named, over the link and forwarded', async () => {
    // an ao-console of another protocol on the host: its `engine --stdio` answers hello with protocol 99
    const fake = path.join(home, 'old ao-console');
    writeFileSync(
      fake,
      `#!/usr/bin/env node
process.stdin.once('data', (d) => {
  const req = JSON.parse(String(d).split('\\n')[0]);
  process.stdout.write(JSON.stringify({ id: req.id, ok: true, data: { engine: 'ao-console', version: '9.0.0', protocol: 99, capabilities: [], notes: [] } }) + '\\n');
});
`,
    );
    chmodSync(fake, 0o755);
    await ok(['remote', 'add', 'old', url(), '--command', fake]);
    const err = await connectRemote(findRemote('old'), 'test').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolMismatchError);
    expect((err as Error).message).toContain('control protocol 99 (ao-console 9.0.0)');

    // a forwarded command from a client of another protocol is refused by the host's ao-console
    const skew = await ao(['--client-protocol', '3', '--client-version', '9.0.0', '--repo', repo.dir, 'lanes']);
    expect(skew.code).toBe(1);
    expect(skew.stderr).toMatch(
      /speaks control protocol 2 .*client that sent this command speaks protocol 3 \(ao-console 9\.0\.0\)/,
    );
    await ok(['remote', 'remove', 'old']);
    expect((await ok(['remote', 'list', '--json'])).stdout).not.toContain('"old"');
  }, 120_000);

  it('writes no key or password anywhere', () => {
    const secret = readFileSync(path.join(sshd!.dir, 'client_ed25519'), 'utf8').split('\n')[1];
    expect(secret.length).toBeGreaterThan(20);
    const grep = spawnSync(
      'grep',
      ['-rlF', '--', secret, path.join(home, 'config'), path.join(repo.dir, '.git', 'ao')],
      {
        encoding: 'utf8',
      },
    );
    expect(grep.stdout).toBe('');
    expect(grep.status).toBe(1); // 1: no match (2 would be an error)
  });
});
