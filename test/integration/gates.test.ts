/**
 * Gates against real temp git repos: command gates (pass, fail, missing command, timeout with a
 * background grandchild, bounded output), every built-in gate both ways, runGates ordering,
 * fail-fast, parallel, staleness, and the repo config (defaults, errors naming the field).
 */
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  loadRepoConfig,
  parseRepoConfig,
  type CommandGateConfig,
  type GateConfig,
} from '../../lanes/config/repoConfig.js';
import { gitOut } from '../../lanes/git/git.js';
import { addedLines } from '../../lanes/git/diff.js';
import { runCommandGate } from '../../lanes/gates/runCommandGate.js';
import { isStale, runGates, withStaleness } from '../../lanes/gates/runGates.js';
import { ALLOWED } from '../../lanes/trust/trust.js';

const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir() };
let dir: string;
let repo: string;
let counter = 0;

async function sh(cwd: string, ...args: string[]): Promise<string> {
  return gitOut(args, cwd);
}

async function write(root: string, file: string, content: string | Buffer): Promise<void> {
  await mkdir(path.dirname(path.join(root, file)), { recursive: true });
  await writeFile(path.join(root, file), content);
}

async function commitAll(cwd: string, message: string): Promise<string> {
  await sh(cwd, 'add', '-A');
  await sh(cwd, 'commit', '-q', '-m', message);
  return sh(cwd, 'rev-parse', 'HEAD');
}

/** A lane: a worktree on ao/<name> forked from main, with `files` committed in it. */
async function lane(files: Record<string, string | Buffer>): Promise<{ worktree: string; head: string }> {
  const name = `lane${++counter}`;
  const worktree = path.join(dir, name);
  await sh(repo, 'worktree', 'add', '-q', '-b', `ao/${name}`, worktree, 'main');
  for (const [file, content] of Object.entries(files)) await write(worktree, file, content);
  const head = await commitAll(worktree, `work of ${name}`);
  return { worktree, head };
}

/** The gates' context; the repo's commands are allowed here (trust itself: trust.test.ts). */
function ctxFor(l: { worktree: string; head: string }) {
  return { worktree: l.worktree, repoRoot: repo, base: 'main', head: l.head, env: ENV, trust: ALLOWED };
}

function cmd(name: string, spec: Partial<CommandGateConfig>): CommandGateConfig {
  return { name, timeoutSec: 30, required: true, ...spec };
}

/** Live (non-zombie) processes whose argv contains `marker`. */
async function liveProcessesWith(marker: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmdline.split('\0').includes(marker)) continue;
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state !== 'Z' && state !== 'X') found.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ao-gates-'));
  repo = path.join(dir, 'repo');
  await mkdir(repo);
  await sh(repo, 'init', '-q', '-b', 'main');
  await sh(repo, 'config', 'user.name', 'Gate Tester');
  await sh(repo, 'config', 'user.email', 'gates@example.com');
  await sh(repo, 'config', 'commit.gpgsign', 'false');
  await write(repo, 'README.md', '# demo\n');
  await write(repo, 'shared.txt', 'one\n');
  await write(repo, 'notes.txt', Array.from({ length: 10 }, (_, i) => `note ${i + 1}`).join('\n') + '\n');
  await commitAll(repo, 'initial');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('command gates', () => {
  it('PASS on exit 0, bound to the head, with the output', async () => {
    const l = await lane({ 'a.txt': 'a\n' });
    const v = await runCommandGate(cmd('echo', { run: ['node', '-e', 'console.log("all good")'] }), ctxFor(l));
    expect(v).toMatchObject({
      gate: 'echo',
      status: 'PASS',
      exitCode: 0,
      commit: l.head,
      stale: false,
      required: true,
    });
    expect(v.output).toContain('all good');
  });

  it('FAIL on a non-zero exit, stdout and stderr both kept', async () => {
    const l = await lane({ 'b.txt': 'b\n' });
    const v = await runCommandGate(cmd('fails', { shell: 'echo to-out; echo to-err >&2; exit 3' }), ctxFor(l));
    expect(v.status).toBe('FAIL');
    expect(v.exitCode).toBe(3);
    expect(v.output).toContain('to-out');
    expect(v.output).toContain('to-err');
  });

  it('runs argv without a shell, in the worktree, with only the given env plus the gate env', async () => {
    const l = await lane({ 'c.txt': 'c\n' });
    process.env.AO_GATE_TEST_LEAK = 'leaked';
    try {
      const script =
        'console.log(process.cwd(), process.env.AO_GATE_TEST_LEAK ?? "no-leak", process.env.GATE_VAR, process.argv[1])';
      const v = await runCommandGate(
        cmd('env', { run: ['node', '-e', script, '$(echo not-expanded); ls'], env: { GATE_VAR: 'from-gate' } }),
        ctxFor(l),
      );
      expect(v.status).toBe('PASS');
      expect(v.output.trim()).toBe(`${l.worktree} no-leak from-gate $(echo not-expanded); ls`);
    } finally {
      delete process.env.AO_GATE_TEST_LEAK;
    }
  });

  it('ERROR with a clear message when the command does not exist', async () => {
    const l = await lane({ 'd.txt': 'd\n' });
    const v = await runCommandGate(cmd('missing', { run: ['ao-no-such-command-xyz', '--flag'] }), ctxFor(l));
    expect(v.status).toBe('ERROR');
    expect(v.exitCode).toBeNull();
    expect(v.output).toMatch(/cannot run "ao-no-such-command-xyz": command not found/);
  });

  it('TIMEOUT kills the whole process group, even a background grandchild holding the pipes', async () => {
    const l = await lane({ 'e.txt': 'e\n' });
    const marker = `4000.${process.pid}${Date.now() % 100000}`;
    const started = Date.now();
    const v = await runCommandGate(
      cmd('hangs', { shell: `sleep ${marker} & echo started; sleep 30`, timeoutSec: 1 }),
      ctxFor(l),
    );
    const elapsed = Date.now() - started;
    expect(v.status).toBe('TIMEOUT');
    expect(v.output).toContain('started');
    expect(v.output).toMatch(/timed out after 1 s/);
    expect(elapsed).toBeLessThan(6000); // timeout (1 s) + grace (2 s) + margin
    expect(await liveProcessesWith(marker)).toEqual([]);
  });

  it('SIGKILLs what ignores SIGTERM once the grace is over', async () => {
    const l = await lane({ 'e2.txt': 'e\n' });
    const marker = `4002.${process.pid}${Date.now() % 100000}`;
    const started = Date.now();
    const gate = cmd('stubborn', { shell: `(trap '' TERM; sleep ${marker}) & trap '' TERM; sleep 30`, timeoutSec: 1 });
    const v = await runCommandGate(gate, ctxFor(l), { graceMs: 500 });
    expect(v.status).toBe('TIMEOUT');
    expect(Date.now() - started).toBeLessThan(5000); // timeout (1 s) + grace (0.5 s) + margin
    expect(await liveProcessesWith(marker)).toEqual([]);
  });

  it('does not hang when the gate exits but leaves a grandchild holding stdout, and reaps it', async () => {
    const l = await lane({ 'f.txt': 'f\n' });
    const marker = `4001.${process.pid}${Date.now() % 100000}`;
    const started = Date.now();
    const v = await runCommandGate(cmd('leaves-child', { shell: `sleep ${marker} & echo finished` }), ctxFor(l));
    expect(v.status).toBe('PASS');
    expect(v.output).toContain('finished');
    expect(Date.now() - started).toBeLessThan(4000);
    expect(await liveProcessesWith(marker)).toEqual([]);
  });

  it('keeps the head and the tail of a large output, with a cut marker', async () => {
    const l = await lane({ 'g.txt': 'g\n' });
    const script = 'process.stdout.write("START" + "x".repeat(1_000_000) + "END")';
    const v = await runCommandGate(cmd('noisy', { run: ['node', '-e', script] }), ctxFor(l), {
      outputLimit: 64 * 1024,
    });
    expect(v.status).toBe('PASS');
    expect(v.output.length).toBeLessThan(64 * 1024 + 100);
    expect(v.output.startsWith('START')).toBe(true);
    expect(v.output.endsWith('END')).toBe(true);
    expect(v.output).toMatch(/… \d+ bytes cut …/);
  });
});

describe('built-in gates', () => {
  const run = (l: { worktree: string; head: string }, gate: GateConfig) =>
    runGates({ ...ctxFor(l), gates: [gate] }).then((v) => v[0]);

  it('merge-clean passes a clean lane and lists the conflicting paths of a conflicting one', async () => {
    const clean = await lane({ 'new.txt': 'new\n' });
    expect((await run(clean, { name: 'merge-clean', builtin: 'merge-clean', required: true })).status).toBe('PASS');

    const conflicting = await lane({ 'shared.txt': 'lane version\n' });
    await write(repo, 'shared.txt', 'main version\n');
    await commitAll(repo, 'main moves shared.txt');
    const v = await run(conflicting, { name: 'merge-clean', builtin: 'merge-clean', required: true });
    expect(v.status).toBe('FAIL');
    expect(v.output).toContain('shared.txt');
    expect(v.commit).toBe(conflicting.head);
  });

  it('diff-limit fails over maxFiles or maxLines and passes within them', async () => {
    const l = await lane({ 'one.txt': '1\n2\n3\n', 'two.txt': '1\n' });
    const over = await run(l, { name: 'diff-limit', builtin: 'diff-limit', required: true, maxFiles: 1 });
    expect(over.status).toBe('FAIL');
    expect(over.output).toContain('2 files > maxFiles 1');
    const lines = await run(l, { name: 'diff-limit', builtin: 'diff-limit', required: true, maxLines: 3 });
    expect(lines.status).toBe('FAIL');
    expect(lines.output).toContain('4 lines > maxLines 3');
    const within = await run(l, {
      name: 'diff-limit',
      builtin: 'diff-limit',
      required: true,
      maxFiles: 2,
      maxLines: 4,
    });
    expect(within.status).toBe('PASS');
  });

  it('protected-paths catches a touched dotfile path and passes other changes', async () => {
    const gate: GateConfig = {
      name: 'protected-paths',
      builtin: 'protected-paths',
      required: true,
      paths: ['.github/**', 'infra/'],
    };
    const bad = await lane({ '.github/workflows/ci.yml': 'on: push\n', 'src/ok.ts': 'export {};\n' });
    const v = await run(bad, gate);
    expect(v.status).toBe('FAIL');
    expect(v.output).toContain('.github/workflows/ci.yml  (protected by .github/**)');
    expect(v.output).not.toContain('src/ok.ts');
    const dirPattern = await run(await lane({ 'infra/main.tf': 'x\n' }), gate);
    expect(dirPattern.status).toBe('FAIL');
    const good = await lane({ 'src/fine.ts': 'export {};\n', 'github.md': 'not protected\n' });
    expect((await run(good, gate)).status).toBe('PASS');
  });

  it('no-secrets finds a planted private key and tokens with file and line, masked', async () => {
    const keyHeader = '-----BEGIN ' + 'RSA PRIVATE KEY-----';
    const aws = 'AKIA' + 'IOSFODNN7EXAMPLE';
    const gh = 'ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8';
    const ant = 'sk-ant-' + 'api03-abcdefghijklmnopqrstuvwxyz0123';
    const l = await lane({
      'keys/deploy_key': `# deploy key\n\n${keyHeader}\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----\n`,
      'src/settings.ts': `export const region = 'eu';\nexport const awsKey = '${aws}';\nexport const gh = "${gh}";\n`,
      'src/llm.py': `client = Client(api_key="${ant}")\npassword = "hunter2-real"\n`,
    });
    // a secret added in the middle of an existing file gets its new line number
    const lines = (await readFile(path.join(l.worktree, 'notes.txt'), 'utf8')).split('\n');
    lines.splice(5, 0, `slack = "xoxb-${'1234567890'}-abcdefghij"`);
    await write(l.worktree, 'notes.txt', lines.join('\n'));
    const head = await commitAll(l.worktree, 'more');
    const v = await run({ ...l, head }, { name: 'no-secrets', builtin: 'no-secrets', required: true });
    expect(v.status).toBe('FAIL');
    expect(v.output).toContain('keys/deploy_key:3: private key');
    expect(v.output).toContain('src/settings.ts:2: AWS access key id: AKIA');
    expect(v.output).toContain('src/settings.ts:3: GitHub token');
    expect(v.output).toContain('src/llm.py:1: Anthropic API key');
    expect(v.output).toContain('src/llm.py:2: password literal');
    expect(v.output).toContain('notes.txt:6: Slack token');
    for (const secret of [aws, gh, ant, 'hunter2-real', 'abcdefghij']) expect(v.output).not.toContain(secret);
  });

  it('no-secrets ignores removed lines, type annotations and env references', async () => {
    const aws = 'AKIA' + 'IOSFODNN7EXAMPLE';
    await write(repo, 'legacy.env', `AWS_KEY=${aws}\n`);
    await commitAll(repo, 'an old secret on main');
    const l = await lane({
      'src/user.ts':
        'interface User { password: string }\nconst password = process.env.PASSWORD;\nif (password === "") throw 1;\n',
      'deploy.yml': 'password: ${DB_PASSWORD}\n',
    });
    await rm(path.join(l.worktree, 'legacy.env'));
    const head = await commitAll(l.worktree, 'drop the old secret');
    const v = await run({ ...l, head }, { name: 'no-secrets', builtin: 'no-secrets', required: true });
    expect(v.output).toBe('no secrets in the added lines\n');
    expect(v.status).toBe('PASS');
  });

  it('addedLines reads line numbers from the hunk headers', () => {
    const diff = [
      'diff --git a/x b/x',
      '--- a/x',
      '+++ b/x',
      '@@ -2 +2,2 @@',
      '-old',
      '+new2',
      '++++ starts with pluses',
      '@@ -10,0 +11 @@',
      '+eleven',
      'diff --git "a/sp ace\\tt" "b/sp ace\\tt"',
      'new file mode 100644',
      '--- /dev/null',
      '+++ "b/sp ace\\tt"',
      '@@ -0,0 +1 @@',
      '+first',
      '\\ No newline at end of file',
    ].join('\n');
    expect(addedLines(diff)).toEqual([
      { path: 'x', line: 2, text: 'new2' },
      { path: 'x', line: 3, text: '+++ starts with pluses' },
      { path: 'x', line: 11, text: 'eleven' },
      { path: 'sp ace\tt', line: 1, text: 'first' },
    ]);
  });
});

describe('runGates', () => {
  it('runs in order, reports each verdict as it comes, all bound to the head', async () => {
    const l = await lane({ 'h.txt': 'h\n' });
    const seen: string[] = [];
    const verdicts = await runGates({
      ...ctxFor(l),
      gates: [
        { name: 'merge-clean', builtin: 'merge-clean', required: true },
        cmd('optional-fail', { run: ['node', '-e', 'process.exit(1)'], required: false }),
        cmd('pass', { run: ['node', '-e', ''] }),
      ],
      onVerdict: (v) => seen.push(`${v.gate}:${v.status}`),
    });
    expect(seen).toEqual(['merge-clean:PASS', 'optional-fail:FAIL', 'pass:PASS']);
    expect(verdicts.map((v) => v.gate)).toEqual(['merge-clean', 'optional-fail', 'pass']);
    expect(verdicts.every((v) => v.commit === l.head && !v.stale)).toBe(true);
  });

  it('fail-fast skips the rest after a required gate fails (not after an optional one)', async () => {
    const l = await lane({ 'i.txt': 'i\n' });
    const verdicts = await runGates({
      ...ctxFor(l),
      failFast: true,
      gates: [
        cmd('optional', { run: ['node', '-e', 'process.exit(1)'], required: false }),
        cmd('required', { run: ['node', '-e', 'process.exit(2)'] }),
        cmd('never', { run: ['node', '-e', 'console.log("ran")'] }),
      ],
    });
    expect(verdicts.map((v) => v.status)).toEqual(['FAIL', 'FAIL', 'ERROR']);
    expect(verdicts[2].output).toContain('skipped: not run after required gate "required" failed (fail-fast)');
  });

  it('parallel runs gates at once; with fail-fast it cancels the ones still running', async () => {
    const l = await lane({ 'j.txt': 'j\n' });
    // each gate prints when it started and when it ended; in parallel the two spans overlap
    const script = 'console.log(Date.now()); setTimeout(() => console.log(Date.now()), 1000)';
    const both = await runGates({
      ...ctxFor(l),
      parallel: true,
      gates: [cmd('s1', { run: ['node', '-e', script] }), cmd('s2', { run: ['node', '-e', script] })],
    });
    expect(both.map((v) => v.status)).toEqual(['PASS', 'PASS']);
    const [[start1, end1], [start2, end2]] = both.map((v) => v.output.trim().split('\n').map(Number));
    expect(start2).toBeLessThan(end1);
    expect(start1).toBeLessThan(end2);

    const started = Date.now();
    const cancelled = await runGates({
      ...ctxFor(l),
      parallel: true,
      failFast: true,
      gates: [cmd('slow', { shell: 'sleep 30' }), cmd('broken', { run: ['node', '-e', 'process.exit(1)'] })],
    });
    expect(cancelled.map((v) => v.status)).toEqual(['ERROR', 'FAIL']);
    expect(cancelled[0].output).toContain('cancelled: fail-fast: required gate "broken" failed');
    expect(Date.now() - started).toBeLessThan(6000);
  });

  it('a verdict goes stale when the lane gets a new commit, also during gating', async () => {
    const l = await lane({ 'k.txt': 'k\n' });
    const [v] = await runGates({ ...ctxFor(l), gates: [cmd('pass', { run: ['node', '-e', ''] })] });
    expect(isStale(v, l.head)).toBe(false);
    await write(l.worktree, 'k.txt', 'k2\n');
    const next = await commitAll(l.worktree, 'again');
    expect(isStale(v, next)).toBe(true);
    expect(withStaleness([v], next)[0].stale).toBe(true);

    const during = await runGates({
      ...ctxFor({ worktree: l.worktree, head: next }),
      gates: [cmd('commits', { run: ['git', 'commit', '-q', '--allow-empty', '-m', 'sneaky'] })],
    });
    expect(during[0]).toMatchObject({ status: 'PASS', commit: next, stale: true });
  });

  it('on a worktree that is gone every gate ends ERROR with the reason, at once, built-ins too', async () => {
    const l = await lane({ 'gone.txt': 'g\n' });
    await rm(l.worktree, { recursive: true, force: true });
    const t0 = Date.now();
    for (const parallel of [false, true]) {
      const verdicts = await runGates({
        ...ctxFor(l),
        parallel,
        gates: [
          cmd('tests', { shell: 'sleep 30' }),
          { name: 'merge-clean', builtin: 'merge-clean', required: true },
          { name: 'no-secrets', builtin: 'no-secrets', required: true },
        ],
      });
      expect(verdicts.map((v) => [v.gate, v.status, v.output])).toEqual([
        ['tests', 'ERROR', `worktree ${l.worktree} is gone (deleted outside the console)`],
        ['merge-clean', 'ERROR', `worktree ${l.worktree} is gone (deleted outside the console)`],
        ['no-secrets', 'ERROR', `worktree ${l.worktree} is gone (deleted outside the console)`],
      ]);
      expect(verdicts.every((v) => v.commit === l.head)).toBe(true);
    }
    expect(Date.now() - t0).toBeLessThan(5000);
    // a command gate run on its own says the same
    const alone = await runCommandGate(cmd('alone', { run: ['true'] }), { ...ctxFor(l) });
    expect(alone).toMatchObject({
      status: 'ERROR',
      output: `worktree ${l.worktree} is gone (deleted outside the console)`,
    });
  });

  it('a worktree deleted while the gates run: the gates after it end ERROR with the reason', async () => {
    const l = await lane({ 'mid.txt': 'm\n' });
    const verdicts = await runGates({
      ...ctxFor(l),
      gates: [
        cmd('deletes', {
          run: ['node', '-e', `require('fs').rmSync(${JSON.stringify(l.worktree)}, { recursive: true })`],
        }),
        cmd('after', { run: ['true'] }),
      ],
    });
    expect(verdicts[0].status).toBe('PASS');
    expect(verdicts[1]).toMatchObject({ status: 'ERROR', output: expect.stringMatching(/ is gone /) });
  });
});

describe('repo config', () => {
  async function repoWith(files: Record<string, string>): Promise<string> {
    const root = await mkdtemp(path.join(dir, 'cfg-'));
    for (const [file, content] of Object.entries(files)) await write(root, file, content);
    return root;
  }

  it('a missing file gives the defaults: merge-clean and no-secrets, npm test only with a test script', async () => {
    const bare = await loadRepoConfig(await repoWith({}));
    expect(bare).toMatchObject({
      maxConcurrentLanes: 4,
      mergeStrategy: 'merge',
      defaultGates: true,
      gateMode: { failFast: false, parallel: false },
    });
    expect(bare.gates.map((g) => g.name)).toEqual(['merge-clean', 'no-secrets']);

    const noTest = await loadRepoConfig(
      await repoWith({ 'package.json': JSON.stringify({ scripts: { build: 'tsc' } }) }),
    );
    expect(noTest.gates.map((g) => g.name)).toEqual(['merge-clean', 'no-secrets']);

    const withTest = await loadRepoConfig(
      await repoWith({ 'package.json': JSON.stringify({ scripts: { test: 'vitest run' } }) }),
    );
    expect(withTest.gates.map((g) => g.name)).toEqual(['merge-clean', 'no-secrets', 'npm test']);
    expect(withTest.gates[2]).toEqual({ name: 'npm test', run: ['npm', 'test'], timeoutSec: 600, required: true });
  });

  it('the default npm test gate really runs the repo test script', async () => {
    const l = await lane({
      'package.json': JSON.stringify({ name: 'demo', scripts: { test: 'node -e "console.log(42); process.exit(4)"' } }),
    });
    const config = await loadRepoConfig(l.worktree);
    const verdicts = await runGates({ ...ctxFor(l), gates: config.gates });
    expect(verdicts.map((v) => `${v.gate}:${v.status}`)).toEqual([
      'merge-clean:PASS',
      'no-secrets:PASS',
      'npm test:FAIL',
    ]);
    expect(verdicts[2].output).toContain('42');
  });

  it('fills defaults and hands top-level options to the built-in gates', async () => {
    const root = await repoWith({
      '.ao/config.json': JSON.stringify({
        baseBranch: 'develop',
        mergeStrategy: 'squash',
        commitAuthor: { name: 'Bot', email: 'bot@example.com' },
        protectedPaths: ['.github/**'],
        diffLimit: { maxFiles: 50 },
        gateMode: { failFast: true },
        gates: [
          { name: 'unit', run: ['npm', 'test'] },
          { name: 'lint', shell: 'npm run lint | tee lint.log', timeoutSec: 120, required: false, env: { CI: '1' } },
          { builtin: 'protected-paths' },
          { builtin: 'diff-limit', maxLines: 800 },
        ],
      }),
    });
    const c = await loadRepoConfig(root);
    expect(c.baseBranch).toBe('develop');
    expect(c.gateMode).toEqual({ failFast: true, parallel: false });
    expect(c.retention.recordingsDays).toBe(30);
    expect(c.gates).toEqual([
      { name: 'unit', run: ['npm', 'test'], timeoutSec: 600, required: true },
      { name: 'lint', shell: 'npm run lint | tee lint.log', timeoutSec: 120, required: false, env: { CI: '1' } },
      { name: 'protected-paths', builtin: 'protected-paths', required: true, paths: ['.github/**'] },
      { name: 'diff-limit', builtin: 'diff-limit', required: true, maxFiles: 50, maxLines: 800 },
    ]);
  });

  it('errors name the file and the field path', async () => {
    const bad = (raw: unknown) => {
      try {
        parseRepoConfig(raw, { file: '.ao/config.json', hasTestScript: false });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).message;
      }
      throw new Error('expected a ConfigError');
    };
    expect(bad({ gates: [{ builtin: 'no-secrets' }, { name: 't', run: ['x'], timeoutSec: '10' }] })).toMatch(
      /^\.ao\/config\.json: gates\[1\]\.timeoutSec: expected number, received string/,
    );
    expect(bad({ gates: [{ builtin: 'lint-all' }] })).toContain('gates[0].builtin:');
    expect(bad({ gates: [{ name: 'both', run: ['a'], shell: 'b' }] })).toContain(
      'gates[0].run: a command gate needs exactly one of',
    );
    expect(bad({ gates: [{ name: 'none' }] })).toContain('gates[0].run:');
    expect(bad({ gates: [{ builtin: 'diff-limit', paths: ['x'] }] })).toContain('gates[0]: unknown field "paths"');
    expect(bad({ gates: [{ builtin: 'merge-clean' }, { builtin: 'merge-clean' }] })).toContain(
      'gates[1].name: duplicate gate name "merge-clean"',
    );
    expect(bad({ mergeStrategy: 'rebase' })).toContain('mergeStrategy:');
    expect(bad({ maxConcurrentLanes: 0 })).toContain('maxConcurrentLanes:');
    expect(bad({ commitAuthor: { name: 'x' } })).toContain('commitAuthor.email:');
    expect(bad({ gates: [{ name: 'e', run: ['x'], env: { 'BAD-NAME': '1' } }] })).toContain('gates[0].env');
    expect(bad({ basebranch: 'main' })).toContain('unknown field "basebranch"');
    expect(bad({ defaultProfile: '' })).toContain('defaultProfile: must not be empty');
    expect(bad({ engine: { idleExitMinutes: -1 } })).toContain('engine.idleExitMinutes:');
    const ok = parseRepoConfig({ defaultProfile: 'claude' }, { file: '.ao/config.json', hasTestScript: false });
    expect(ok.defaultProfile).toBe('claude');
    expect(ok.engine.idleExitMinutes).toBe(10);

    const root = await repoWith({ '.ao/config.json': '{ "gates": [ }' });
    await expect(loadRepoConfig(root)).rejects.toThrow(/^\.ao\/config\.json: not valid JSON/);
  });
});
