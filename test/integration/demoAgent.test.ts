/**
 * The demo agent as a plain child process (stdio pipes, no pty) in a temp git repo: this tests
 * the script itself; the pty and screen detection are tested with the lane engine.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { builtinDir } from '../../profiles/loader.js';

const AGENT = path.resolve(builtinDir(), '..', 'demo-agent.mjs');

let repo: string;
const orphans: number[] = [];
const children: ChildProcess[] = [];

function git(...args: string[]): string {
  const res = spawnSync('git', args, { cwd: repo, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`git ${args.join(' ')}: ${res.stderr}`);
  return res.stdout.trim();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeEach(() => {
  repo = mkdtempSync(path.join(tmpdir(), 'ao-demo-'));
  git('init', '-q', '-b', 'main');
  git('config', 'user.name', 'Test');
  git('config', 'user.email', 'test@example.invalid');
  git('config', 'commit.gpgsign', 'false');
  writeFileSync(path.join(repo, 'README.md'), '# project\n\nhello\n');
  git('add', 'README.md');
  git('commit', '-q', '-m', 'init');
});

afterEach(() => {
  for (const pid of orphans.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(repo, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  waitFor: (re: RegExp, ms?: number) => Promise<void>;
}

function run(args: string[], env: Record<string, string> = {}): Run {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, AO_DEMO_SPEED: '0', ...env };
  for (const k of [
    'AO_DEMO_ASK',
    'AO_DEMO_FAULT',
    'AO_BRIEFING',
    'GIT_AUTHOR_NAME',
    'GIT_AUTHOR_EMAIL',
    'FORCE_COLOR',
  ]) {
    if (!(k in env)) delete childEnv[k];
  }
  const child = spawn(process.execPath, [AGENT, ...args], {
    cwd: repo,
    env: childEnv,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const waitFor = async (re: RegExp, ms = 10_000) => {
    const start = Date.now();
    while (!re.test(out)) {
      if (Date.now() - start > ms) throw new Error(`timed out waiting for ${re}; output so far:\n${out}\n${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { child, stdout: () => out, stderr: () => err, exited, waitFor };
}

describe('demo agent', () => {
  it('writes notes/<slug>.md for a plain task and commits it as ao-demo', async () => {
    const r = run(['Fix the login page']);
    expect(await r.exited).toBe(0);
    const note = readFileSync(path.join(repo, 'notes', 'fix-the-login-page.md'), 'utf8');
    expect(note).toContain('# Fix the login page');
    expect(git('log', '-1', '--format=%an <%ae>|%s')).toBe('ao-demo <demo@ao.invalid>|ao-demo: Fix the login page');
    expect(git('status', '--porcelain')).toBe('');
    expect(r.stdout()).toContain('(esc to interrupt)');
    expect(r.stdout()).toMatch(/^LEARNING: .+$/m);
    expect(r.stdout()).toMatch(/^✔ Done\. /m);
  });

  it('"create file NAME" creates that file; the author comes from the environment', async () => {
    const r = run(['create file src/app.txt please'], {
      GIT_AUTHOR_NAME: 'Ada',
      GIT_AUTHOR_EMAIL: 'ada@example.invalid',
    });
    expect(await r.exited).toBe(0);
    expect(readFileSync(path.join(repo, 'src', 'app.txt'), 'utf8')).toContain('Task: create file src/app.txt please');
    expect(git('log', '-1', '--format=%an <%ae>')).toBe('Ada <ada@example.invalid>');
    expect(git('show', '--name-only', '--format=', 'HEAD')).toBe('src/app.txt');
  });

  it('"append to NAME" appends a line', async () => {
    const r = run(['append to README.md a greeting']);
    expect(await r.exited).toBe(0);
    expect(readFileSync(path.join(repo, 'README.md'), 'utf8')).toBe(
      '# project\n\nhello\n- append to README.md a greeting\n',
    );
  });

  it('refuses a path outside the worktree', async () => {
    const r = run(['create file ../escape.txt']);
    expect(await r.exited).toBe(1);
    expect(r.stderr()).toContain('refusing to write outside the worktree: ../escape.txt');
    expect(existsSync(path.join(repo, '..', 'escape.txt'))).toBe(false);
  });

  it('reads the task from stdin when there is no argument, and the briefing file', async () => {
    const briefing = path.join(repo, '..', `${path.basename(repo)}-brief.md`);
    writeFileSync(briefing, '# Briefing\n\n- learning one\n- learning two\n');
    try {
      const r = run([], { AO_BRIEFING: briefing });
      await r.waitFor(/\? What should I work on\? › $/);
      r.child.stdin!.write('from stdin\n');
      expect(await r.exited).toBe(0);
      expect(r.stdout()).toContain(`Read briefing ${path.basename(briefing)} (3 lines)`);
      expect(existsSync(path.join(repo, 'notes', 'from-stdin.md'))).toBe(true);
    } finally {
      rmSync(briefing, { force: true });
    }
  });

  it('"ask" waits at the permission question until y, then writes', async () => {
    const r = run(['document the api, ask first']);
    await r.waitFor(/\? Allow write to notes\/document-the-api-ask-first\.md\? \[y\/n\] $/);
    await new Promise((res) => setTimeout(res, 300));
    expect(r.child.exitCode).toBeNull(); // still waiting
    expect(existsSync(path.join(repo, 'notes', 'document-the-api-ask-first.md'))).toBe(false);
    r.child.stdin!.write('y\n');
    expect(await r.exited).toBe(0);
    expect(r.stdout()).toContain('✔ Allowed write to notes/document-the-api-ask-first.md');
    expect(existsSync(path.join(repo, 'notes', 'document-the-api-ask-first.md'))).toBe(true);
    expect(git('log', '-1', '--format=%s')).toBe('ao-demo: document the api, ask first');
  });

  it('AO_DEMO_ASK=1 and the answer n skips the write and commits nothing', async () => {
    const r = run(['write docs'], { AO_DEMO_ASK: '1' });
    await r.waitFor(/\[y\/n\] $/);
    r.child.stdin!.write('n\n');
    expect(await r.exited).toBe(0);
    expect(r.stdout()).toContain('✘ Skipped write to notes/write-docs.md (not allowed)');
    expect(git('rev-list', '--count', 'HEAD')).toBe('1');
  });

  it('"fail" exits 1 with an error and changes nothing', async () => {
    const r = run(['please fail']);
    expect(await r.exited).toBe(1);
    expect(r.stderr()).toContain('✘ Error: simulated failure (fault "fail")');
    expect(git('status', '--porcelain')).toBe('');
    expect(git('rev-list', '--count', 'HEAD')).toBe('1');
  });

  it('"orphan" leaves a detached child alive after the agent exits', async () => {
    const r = run(['orphan task'], { AO_DEMO_ORPHAN_SECS: '60' });
    expect(await r.exited).toBe(0);
    const pid = Number(/background helper \(pid (\d+)\)/.exec(r.stdout())?.[1]);
    expect(pid).toBeGreaterThan(0);
    orphans.push(pid);
    expect(alive(pid)).toBe(true);
    // It is in its own session, so killing the agent's process group would not reach it.
    const sid = spawnSync('ps', ['-o', 'sid=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim();
    expect(Number(sid)).toBe(pid);
    process.kill(pid, 'SIGHUP');
    await new Promise((res) => setTimeout(res, 200));
    expect(alive(pid)).toBe(true); // ignores SIGHUP
  });

  it('"hang" ignores SIGTERM and SIGHUP', async () => {
    const r = run(['hang forever']);
    await r.waitFor(/never frees/);
    r.child.kill('SIGTERM');
    r.child.kill('SIGHUP');
    await r.waitFor(/ignoring SIGTERM/);
    await new Promise((res) => setTimeout(res, 200));
    expect(r.child.exitCode).toBeNull();
    r.child.kill('SIGKILL');
    await r.exited;
  });

  it('"secret" commits a fake private key; "conflict" rewrites README.md line 1', async () => {
    const r = run(['secret and conflict']);
    expect(await r.exited).toBe(0);
    expect(readFileSync(path.join(repo, 'config', 'deploy_key.pem'), 'utf8')).toMatch(
      /^-----BEGIN RSA PRIVATE KEY-----\n/,
    );
    expect(readFileSync(path.join(repo, 'README.md'), 'utf8')).toBe(
      '# README edited by ao-demo: secret-and-conflict\n\nhello\n',
    );
    expect(git('show', '--name-only', '--format=', 'HEAD').split('\n').sort()).toEqual([
      'README.md',
      'config/deploy_key.pem',
      'notes/secret-and-conflict.md',
    ]);
  });

  it('"flood" writes AO_DEMO_FLOOD_MB of output and still finishes', async () => {
    const r = run(['flood'], { AO_DEMO_FLOOD_MB: '3' });
    expect(await r.exited).toBe(0);
    expect(r.stdout().length).toBeGreaterThan(3 * 1024 * 1024);
    expect(r.stdout()).toContain('✔ Flooded 3 MB of output');
  });

  it('"rework" waits for feedback, applies it and commits again', async () => {
    const r = run(['rework the parser']);
    await r.waitFor(/\? Feedback for the agent\? › $/);
    expect(r.stdout()).toMatch(/^HANDOFF: ready for review$/m);
    r.child.stdin!.write('use a table\n');
    expect(await r.exited).toBe(0);
    expect(r.stdout()).toContain('Got feedback: use a table');
    expect(readFileSync(path.join(repo, 'notes', 'rework-the-parser.md'), 'utf8')).toMatch(
      /- feedback: use a table\n$/,
    );
    expect(git('log', '--format=%s', '-2')).toBe('ao-demo: apply feedback\nao-demo: rework the parser');
  });

  it('prints the same output for the same task (AO_DEMO_SPEED=0)', async () => {
    const first = run(['add a changelog entry']);
    expect(await first.exited).toBe(0);
    git('reset', '-q', '--hard', 'HEAD~1');
    const second = run(['add a changelog entry']);
    expect(await second.exited).toBe(0);
    expect(second.stdout()).toBe(first.stdout());
    expect(first.stdout().length).toBeGreaterThan(200);
  });

  it('--help explains the task words', async () => {
    const r = run(['--help']);
    expect(await r.exited).toBe(0);
    for (const word of ['ask', 'fail', 'hang', 'flood', 'orphan', 'secret', 'conflict', 'rework', 'AO_DEMO_SPEED']) {
      expect(r.stdout()).toContain(word);
    }
  });
});
