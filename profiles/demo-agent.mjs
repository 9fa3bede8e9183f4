#!/usr/bin/env node
// The ao-console demo agent: behaves like a coding agent (spinner, permission question, file
// edits, a git commit, LEARNING lines) so the console can be seen and tested without a real one.
// Plain Node ESM, no dependencies. Same task + same settings => same output.
// Run `node profiles/demo-agent.mjs --help` for the task words and settings.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

const HELP = `ao-demo agent: a stand-in coding agent for ao-console.

Usage: node demo-agent.mjs [TASK...]      (no TASK: asks for it on stdin)
       node demo-agent.mjs --help

What it does with the task, in the current directory (the lane's worktree):
  "create file NAME ..."   creates NAME
  "append to NAME ..."     appends a line to NAME (creates it when missing)
  anything else            writes notes/<slug-of-the-task>.md
then commits the change with git and prints LEARNING: lines.

Task words (or AO_DEMO_FAULT=word[,word]) that change its behaviour:
  ask       asks "Allow write to FILE? [y/n]" and waits for a line (also AO_DEMO_ASK=1)
  fail      exits 1 with an error before editing anything
  hang      ignores SIGTERM and SIGHUP and never exits
  flood     writes AO_DEMO_FLOOD_MB (default 20) MB of output fast, then goes on
  orphan    starts a detached child (own session, ignores SIGHUP) that outlives the agent
            for AO_DEMO_ORPHAN_SECS seconds (default 600)
  secret    also writes a fake private key to config/deploy_key.pem
  conflict  also rewrites the first line of README.md
  rework    after committing, waits for a line of feedback, applies it, commits again

Review comments in the task or the feedback ("[1] FILE:LINE[-END] CODE — TEXT", or "the
review comments on your diff are in the file PATH"): it marks each commented line as
reviewed (a trailing comment), commits, and is done.

Settings: AO_DEMO_SPEED (delay multiplier; 0 = no delays, default 1 = a few seconds),
AO_BRIEFING (a file it reads first), GIT_AUTHOR_NAME / GIT_AUTHOR_EMAIL (default
"ao-demo <demo@ao.invalid>"), NO_COLOR / FORCE_COLOR.
`;

const env = process.env;
const tty = Boolean(process.stdout.isTTY);
const EOL = tty ? '\r\n' : '\n';
const useColor = env.FORCE_COLOR ? env.FORCE_COLOR !== '0' : tty && !env.NO_COLOR;
const speed = (() => {
  const n = Number(env.AO_DEMO_SPEED ?? '1');
  return Number.isFinite(n) && n >= 0 ? n : 1;
})();
const FAULTS = ['fail', 'hang', 'flood', 'orphan', 'secret', 'conflict', 'rework'];
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const BUSY_HINT = '(esc to interrupt)';

// A closed terminal must not crash the agent with EIO/EPIPE (a hung agent keeps hanging).
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});

const paint = (code, s) => (useColor ? `\x1b[${code}m${s}\x1b[0m` : s);
const green = (s) => paint('32', s);
const red = (s) => paint('31', s);
const cyan = (s) => paint('36', s);
const dim = (s) => paint('2', s);
const bold = (s) => paint('1', s);
const yellow = (s) => paint('33', s);

function out(s) {
  process.stdout.write(s);
}
function say(line = '') {
  out(`${tty ? '\r\x1b[2K' : ''}${line}${EOL}`);
}
function sleep(ms) {
  const wait = ms * speed;
  return wait > 0 ? new Promise((resolve) => setTimeout(resolve, wait)) : Promise.resolve();
}
function finish(code) {
  process.stdout.write('', () => process.exit(code));
}
function die(message) {
  process.stderr.write(`${tty ? '\r\x1b[2K' : ''}${red('✘ Error:')} ${message}${EOL}`);
  finish(1);
  return new Promise(() => {}); // never resolves: the process is exiting
}

/** One step of work: a spinner with the busy hint, a fixed number of frames, then a check mark. */
async function step(label, frames = 8) {
  for (let i = 0; i < frames; i++) {
    out(`\r\x1b[2K${cyan(FRAMES[i % FRAMES.length])} ${label}… ${dim(BUSY_HINT)}`);
    await sleep(80);
  }
  out(`\r\x1b[2K${green('✔')} ${label}${EOL}`);
}

// ---- stdin, line by line (cooked mode: the terminal echoes and edits the line) ----
let rl;
const queued = [];
const waiters = [];
let stdinClosed = false;
function readLine() {
  if (!rl) {
    if (process.stdin.isTTY && process.stdin.setRawMode) process.stdin.setRawMode(false);
    rl = readline.createInterface({ input: process.stdin, terminal: false });
    rl.on('line', (line) => {
      const clean = line.replace(/\r$/, '');
      const waiter = waiters.shift();
      if (waiter) waiter(clean);
      else queued.push(clean);
    });
    rl.on('close', () => {
      stdinClosed = true;
      for (const waiter of waiters.splice(0)) waiter(null);
    });
  }
  if (queued.length > 0) return Promise.resolve(queued.shift());
  if (stdinClosed) return Promise.resolve(null);
  return new Promise((resolve) => waiters.push(resolve));
}

/** Prints a question (no newline) and reads the answer. On a terminal the question line is erased afterwards. */
async function ask(question) {
  out(`\r\x1b[2K${question}`);
  const answer = await readLine();
  if (tty) out(answer === null ? '\r\x1b[2K' : '\x1b[1A\r\x1b[2K');
  else out('\n');
  return answer;
}

// ---- what the task asks for ----
function slugOf(task) {
  const slug = task
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
    .join('-')
    .slice(0, 40)
    .replace(/-+$/, '');
  return slug || 'task';
}

function safeRelative(name) {
  const clean = name.replace(/^["'`]+|["'`,.;:!?)]+$/g, '');
  const norm = path.posix.normalize(clean.replace(/\\/g, '/'));
  if (
    !clean ||
    path.isAbsolute(clean) ||
    norm.startsWith('../') ||
    norm === '..' ||
    norm === '.' ||
    norm.split('/')[0] === '.git'
  ) {
    return null;
  }
  return norm;
}

function planEdit(task) {
  const create = /\bcreate\s+(?:a\s+)?file\s+(\S+)/i.exec(task);
  const append = /\bappend\s+to\s+(\S+)/i.exec(task);
  const hit = create ?? append;
  if (hit) {
    const file = safeRelative(hit[1]);
    if (!file) return { error: `refusing to write outside the worktree: ${hit[1]}` };
    return { kind: create ? 'create' : 'append', file };
  }
  return { kind: 'note', file: `notes/${slugOf(task)}.md` };
}

/** A new file's content, in the comment style of its kind (so a .js file stays valid JavaScript). */
function createdContent(file, task) {
  const base = path.posix.basename(file);
  const oneLine = task.replace(/\s+/g, ' ').replace(/\*\//g, '* /');
  if (/\.(c|m)?(j|t)sx?$/.test(base)) {
    const name =
      base.replace(/\..*$/, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, c) => (c ? c.toUpperCase() : '')) || 'value';
    return `// Created by the ao-demo agent.\n// Task: ${oneLine}\n\nexport const ${name} = ${JSON.stringify(`hello from ${base}`)};\n`;
  }
  if (/\.(py|sh|rb|ya?ml|toml)$/.test(base)) return `# Created by the ao-demo agent.\n# Task: ${oneLine}\n`;
  return `# ${base}\n\nCreated by the ao-demo agent.\n\nTask: ${task}\n`;
}

function applyEdit(plan, task) {
  fs.mkdirSync(path.dirname(plan.file) || '.', { recursive: true });
  if (plan.kind === 'create') {
    fs.writeFileSync(plan.file, createdContent(plan.file, task));
  } else if (plan.kind === 'append') {
    const before = fs.existsSync(plan.file) ? fs.readFileSync(plan.file, 'utf8') : '';
    const sep = before === '' || before.endsWith('\n') ? '' : '\n';
    fs.appendFileSync(plan.file, `${sep}- ${task}\n`);
  } else {
    fs.writeFileSync(plan.file, `# ${task}\n\n- Read the task.\n- Wrote this note.\n- Committed it.\n`);
  }
}

// ---- git ----
function runGit(args) {
  const res = spawnSync('git', ['-c', 'commit.gpgsign=false', ...args], {
    encoding: 'utf8',
    env: {
      ...env,
      GIT_AUTHOR_NAME: env.GIT_AUTHOR_NAME || 'ao-demo',
      GIT_AUTHOR_EMAIL: env.GIT_AUTHOR_EMAIL || 'demo@ao.invalid',
      GIT_COMMITTER_NAME: env.GIT_COMMITTER_NAME || env.GIT_AUTHOR_NAME || 'ao-demo',
      GIT_COMMITTER_EMAIL: env.GIT_COMMITTER_EMAIL || env.GIT_AUTHOR_EMAIL || 'demo@ao.invalid',
      GIT_TERMINAL_PROMPT: '0',
      LC_ALL: 'C',
    },
  });
  return { code: res.status ?? -1, stdout: res.stdout ?? '', stderr: (res.stderr || res.error?.message) ?? '' };
}

/** Stages `files` and commits them; returns false when there was nothing to commit. */
async function commit(files, message) {
  const add = runGit(['add', '--', ...files]);
  if (add.code !== 0) await die(`git add failed: ${add.stderr.trim()}`);
  if (runGit(['diff', '--cached', '--quiet', '--', ...files]).code === 0) return false;
  const res = runGit(['commit', '-q', '-m', message, '--', ...files]);
  if (res.code !== 0) await die(`git commit failed: ${res.stderr.trim()}`);
  return true;
}

function subject(text) {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 60 ? `${line.slice(0, 59)}…` : line;
}

// ---- review comments (ao-console's rework feedback) ----
/** The review comments a feedback text lists, or the file of them it names. */
function reviewCommentsIn(text) {
  let source = text;
  const named = /review comments? on your diff (?:is|are) in the file (\S+)/i.exec(text);
  if (named && fs.existsSync(named[1])) source = fs.readFileSync(named[1], 'utf8');
  const found = [];
  for (const m of source.matchAll(/\[(\d+)\] (\S+?):(\d+)(?:-(\d+))?(?=\s|$)/g)) {
    const file = safeRelative(m[2]);
    if (file) found.push({ file, line: Number(m[3]), endLine: Number(m[4] ?? m[3]) });
  }
  return found;
}

/** Marks each commented line as reviewed, in the comment style of its file; returns the files changed. */
function applyReviewComments(comments) {
  const changed = [];
  for (const c of comments) {
    if (!fs.existsSync(c.file)) continue;
    const lines = fs.readFileSync(c.file, 'utf8').split('\n');
    const mark = /\.(c|m)?(j|t)sx?$/.test(c.file)
      ? ' // reviewed'
      : /\.(py|sh|rb|ya?ml|toml)$/.test(c.file)
        ? ' # reviewed'
        : ' (reviewed)';
    for (let n = c.line; n <= Math.min(c.endLine, lines.length); n++) {
      if (!lines[n - 1].endsWith(mark)) lines[n - 1] += mark;
    }
    fs.writeFileSync(c.file, lines.join('\n'));
    say(`${yellow('✎')} Addressed the review comment on ${c.file}:${c.line}`);
    if (!changed.includes(c.file)) changed.push(c.file);
  }
  return changed;
}

/** Acts on review comments: edits the lines, commits. False when the text has none. */
async function reworkByComments(text) {
  const comments = reviewCommentsIn(text);
  if (comments.length === 0) return false;
  say(`Got ${comments.length} review comment${comments.length === 1 ? '' : 's'}`);
  await step('Applying review comments');
  const files = applyReviewComments(comments);
  if (files.length > 0 && (await commit(files, `ao-demo: address ${comments.length} review comment(s)\n`))) {
    say(`${green('✔')} Committed the review fixes: ${files.join(', ')}`);
  }
  return true;
}

// ---- faults ----
async function flood() {
  const mb = Number(env.AO_DEMO_FLOOD_MB ?? '20');
  const total = Math.max(0, Number.isFinite(mb) ? mb : 20) * 1024 * 1024;
  let written = 0;
  let n = 0;
  while (written < total) {
    let chunk = '';
    while (chunk.length < 64 * 1024) {
      n++;
      chunk += `${dim(String(n).padStart(8, '0'))} ${yellow('flood')} the quick brown fox jumps over the lazy dog 0123456789${EOL}`;
    }
    if (written + chunk.length > total) chunk = chunk.slice(0, total - written);
    written += chunk.length;
    if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
  }
  say(`${green('✔')} Flooded ${mb} MB of output`);
}

function startOrphan() {
  const secs = Number(env.AO_DEMO_ORPHAN_SECS ?? '600');
  const ms = Math.max(1, Number.isFinite(secs) ? secs : 600) * 1000;
  const code = `process.title = 'ao-demo-orphan'; process.on('SIGHUP', () => {}); setTimeout(() => {}, ${ms});`;
  const child = spawn(process.execPath, ['-e', code], { detached: true, stdio: 'ignore' });
  child.unref();
  say(`${yellow('⚠')} Started a background helper (pid ${child.pid}) that outlives me`);
}

async function hang() {
  process.on('SIGTERM', () => say(dim('(ignoring SIGTERM)')));
  process.on('SIGHUP', () => {});
  out(`\r\x1b[2K${cyan('⠿')} Waiting for a lock that never frees… ${dim(BUSY_HINT)}`);
  setInterval(() => {}, 1 << 30);
  return new Promise(() => {});
}

function writeSecret() {
  const file = 'config/deploy_key.pem';
  fs.mkdirSync('config', { recursive: true });
  // Split so this source file itself does not look like a key to secret scanners.
  const kind = 'RSA PRIVATE' + ' KEY';
  const body = 'MIIEdemoFAKEao0console0not0a0real0key0AAAAB3NzaC1yc2EAAAADAQABAAABAQ'.repeat(3);
  fs.writeFileSync(file, `-----BEGIN ${kind}-----\n${body.match(/.{1,64}/g).join('\n')}\n-----END ${kind}-----\n`);
  say(`${yellow('✎')} Wrote ${file}`);
  return file;
}

function editReadme(task) {
  const file = 'README.md';
  const before = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const lines = before === '' ? [''] : before.split('\n');
  lines[0] = `# README edited by ao-demo: ${slugOf(task)}`;
  let text = lines.join('\n');
  if (!text.endsWith('\n')) text += '\n';
  fs.writeFileSync(file, text);
  say(`${yellow('✎')} Rewrote the first line of ${file}`);
  return file;
}

// ---- the run ----
async function main() {
  const argv = process.argv.slice(2);
  if (argv[0] === '--help' || argv[0] === '-h') {
    out(HELP.replace(/\n/g, EOL));
    return finish(0);
  }
  say(`${paint('1;35', '◆ ao-demo agent')} ${dim('— a stand-in coding agent for ao-console')}`);

  let task = argv.join(' ').trim();
  if (!task) {
    const line = await ask(`? What should I work on? › `);
    task = (line ?? '').trim();
    if (!task) return die('no task given (pass it as an argument or type it on stdin)');
  }
  say(`${bold('Task:')} ${task}`);

  if (env.AO_BRIEFING) {
    try {
      const text = fs.readFileSync(env.AO_BRIEFING, 'utf8');
      say(
        `${green('✔')} Read briefing ${path.basename(env.AO_BRIEFING)} (${text.split('\n').filter((l) => l.trim()).length} lines)`,
      );
    } catch {
      say(`${yellow('!')} Could not read briefing ${path.basename(env.AO_BRIEFING)}`);
    }
  }

  // resumed with review comments as the task (its agent had exited): act on them, and done
  if (await reworkByComments(task)) {
    say(`${green('✔ Done.')} Review comments addressed.`);
    return finish(0);
  }

  const words = new Set(
    task
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter(Boolean),
  );
  const envFaults = (env.AO_DEMO_FAULT ?? '').toLowerCase().split(/[\s,]+/);
  const faults = new Set(FAULTS.filter((f) => words.has(f) || envFaults.includes(f)));
  const askFirst = words.has('ask') || env.AO_DEMO_ASK === '1';

  const plan = planEdit(task);
  if (plan.error) return die(plan.error);

  await step('Thinking');
  if (faults.has('orphan')) startOrphan();
  if (faults.has('flood')) await flood();
  if (faults.has('fail')) return die('simulated failure (fault "fail"): the demo agent gave up');
  if (faults.has('hang')) return hang();
  await step('Reading files');

  let allowed = true;
  if (askFirst) {
    const answer = await ask(`? Allow write to ${plan.file}? [y/n] `);
    allowed = /^\s*y/i.test(answer ?? '');
    say(
      allowed
        ? `${green('✔')} Allowed write to ${plan.file}`
        : `${red('✘')} Skipped write to ${plan.file} (not allowed)`,
    );
  }

  const changed = [];
  if (allowed) {
    await step(`Editing ${plan.file}`);
    applyEdit(plan, task);
    changed.push(plan.file);
  }
  if (faults.has('secret')) changed.push(writeSecret());
  if (faults.has('conflict')) changed.push(editReadme(task));

  await step('Running checks', 6);
  if (changed.length > 0 && (await commit(changed, `ao-demo: ${subject(task)}\n\nTask: ${task}\n`))) {
    say(`${green('✔')} Committed ${changed.length} file${changed.length === 1 ? '' : 's'}: ${changed.join(', ')}`);
  } else {
    say(`${dim('•')} Nothing to commit`);
  }

  out(
    `LEARNING: ${plan.kind === 'note' ? 'the demo agent keeps its notes in notes/<task-slug>.md' : `${plan.file} is edited by the demo agent`}${EOL}`,
  );
  out(`LEARNING: the demo agent commits each task as one commit${EOL}`);

  if (faults.has('rework')) {
    out(`HANDOFF: ready for review${EOL}`);
    const feedback = await ask(`? Feedback for the agent? › `);
    if (feedback === null) {
      say(`${dim('•')} No feedback (stdin closed)`);
    } else {
      say(`Got feedback: ${feedback}`);
      if (await reworkByComments(feedback)) {
        say(`${green('✔ Done.')} Review comments addressed.`);
        return finish(0);
      }
      await step('Applying feedback');
      const file = allowed ? plan.file : `notes/${slugOf(task)}.md`;
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.appendFileSync(file, `- feedback: ${feedback}\n`);
      if (await commit([file], `ao-demo: apply feedback\n\nFeedback: ${feedback}\n`)) {
        say(`${green('✔')} Committed the feedback to ${file}`);
        if (!changed.includes(file)) changed.push(file);
      }
    }
  }

  say(`${green('✔ Done.')} ${changed.length > 0 ? 'Work is committed and ready for review.' : 'Nothing changed.'}`);
  return finish(0);
}

main().catch((err) => {
  process.stderr.write(`✘ Error: ${err?.stack ?? err}${EOL}`);
  finish(1);
});
