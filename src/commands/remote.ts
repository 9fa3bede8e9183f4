/**
 * `ao-console remote add|list|remove`: engines on other hosts, reached over ssh
 * (src/control/remotes.ts keeps them in the user's config; src/control/ssh.ts reaches them).
 */
import { spawn } from 'node:child_process';
import { Command } from 'commander';
import { addRemote, readRemotes, RemoteError, removeRemote, type Remote } from '../control/remotes.js';
import { sshArgv, stderrTail } from '../control/ssh.js';
import { formatTable } from '../format/table.js';
import { CliError, EXIT, printJson, println } from './common.js';

/** What a remote's engine is, as `remote list` found it. */
export type RemoteState = 'running' | 'stopped' | 'unreachable' | 'error';

export interface RemoteProbe {
  name: string;
  url: string;
  state: RemoteState;
  /** ssh's or the remote's last words when it is not running */
  detail?: string;
}

/** How long `remote list` waits for one remote. */
const PROBE_TIMEOUT_MS = 20_000;

/**
 * Asks the remote's ao-console for its engine's status without starting one: running (exit 0),
 * stopped (exit 3: no engine), unreachable (ssh failed: 255, or no answer in time), else error.
 */
export function probeRemote(remote: Remote): Promise<RemoteProbe> {
  return new Promise<RemoteProbe>((resolve) => {
    const child = spawn('ssh', sshArgv(remote, ['engine', 'status', '--json'], { batch: true }), {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const stderr = stderrTail(child, 2000);
    const base = { name: remote.name, url: remote.url };
    const detail = () => stderr().split('\n').slice(-2).join(' / ') || undefined;
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      resolve({ ...base, state: 'unreachable', detail: `no answer within ${PROBE_TIMEOUT_MS / 1000} s` });
    }, PROBE_TIMEOUT_MS);
    child.once('error', (e) => {
      clearTimeout(timer);
      resolve({ ...base, state: 'unreachable', detail: e.message });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve({ ...base, state: 'running' });
      else if (code === EXIT.noConsole) resolve({ ...base, state: 'stopped' });
      else if (code === 255 || code === null) resolve({ ...base, state: 'unreachable', detail: detail() });
      else resolve({ ...base, state: 'error', detail: detail() });
    });
  });
}

function asCliError(err: unknown): never {
  if (err instanceof RemoteError) throw new CliError(err.message, EXIT.failure);
  throw err;
}

export function registerRemote(program: Command): void {
  const remote = new Command('remote')
    .description('engines on other hosts, reached with your own ssh (kept in ~/.config/ao-console/remotes.json)')
    .addHelpText(
      'after',
      `
A remote is a repo on another host: ssh://[user@]host[:port]/absolute/path/to/repo (the path may hold
spaces, raw or as %20). ao-console runs \`ssh host ao-console --repo PATH ...\` with the ssh on your
PATH, so your ssh config, agent and known_hosts apply; it stores no key or password and opens no port.
Then \`ao-console --remote NAME\` opens its dashboard, and --remote NAME works with ctl, queue, lanes,
show, engine, export, replay and learnings exactly as they work here.`,
    );

  remote
    .command('add <name> <url>')
    .description('add a remote: a name and ssh://[user@]host[:port]/path/to/repo')
    .option('--command <program>', 'the program that runs ao-console on the host (default: ao-console on its PATH)')
    .action((name: string, url: string, opts: { command?: string }) => {
      try {
        const added = addRemote({ name, url, command: opts.command });
        println(`added remote ${added.name}: ${added.url}${added.command ? ` (runs ${added.command})` : ''}`);
      } catch (err) {
        asCliError(err);
      }
    });

  remote
    .command('list')
    .description("the remotes, each with its engine's state (asks each host over ssh; starts nothing)")
    .option('--json', 'print [{"name", "url", "state"}] as JSON')
    .action(async (opts: { json?: boolean }) => {
      let remotes: Remote[];
      try {
        remotes = readRemotes();
      } catch (err) {
        asCliError(err);
      }
      if (!opts.json && remotes.length > 0) process.stderr.write(`asking ${remotes.length} host(s) over ssh…\n`);
      const probes = await Promise.all(remotes.map((r) => probeRemote(r)));
      if (opts.json) return printJson(probes);
      if (probes.length === 0)
        return println('no remotes; add one with `ao-console remote add NAME ssh://host/path/to/repo`');
      println(
        formatTable(
          [{ header: 'NAME' }, { header: 'URL' }, { header: 'ENGINE', max: 100 }],
          probes.map((p) => [p.name, p.url, p.detail ? `${p.state}: ${p.detail}` : p.state]),
        ),
      );
    });

  remote
    .command('remove <name>')
    .description('forget a remote (its engine and lanes on the host are left alone)')
    .action((name: string) => {
      try {
        removeRemote(name);
      } catch (err) {
        asCliError(err);
      }
      println(`removed remote ${name}`);
    });

  program.addCommand(remote);
}
