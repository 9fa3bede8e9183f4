/**
 * Which agent CLIs are installed: looked up on PATH and asked for `--version`, each in its own
 * process group with a timeout, so a CLI that hangs or leaves a child behind cannot stall us.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

export const AGENT_CLIS = ['claude', 'codex', 'gemini', 'aider', 'opencode', 'copilot'] as const;

export interface AgentCli {
  name: string;
  /** absolute path on PATH, null when not installed */
  path: string | null;
  /** first line of `--version`, null when not installed or it gave none */
  version: string | null;
  /** why the version is missing, when installed */
  error?: string;
}

/** The first executable file named `name` on `PATH`, or null. */
export function whichSync(name: string, envPath = process.env.PATH ?? ''): string | null {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      if (statSync(file).isFile()) {
        accessSync(file, constants.X_OK);
        return file;
      }
    } catch {
      // not here
    }
  }
  return null;
}

/** Runs `file args` and resolves with its first non-empty output line (stdout, else stderr). */
export function firstLineOf(
  file: string,
  args: readonly string[],
  timeoutMs = 10_000,
): Promise<{ line: string | null; error?: string }> {
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', CI: '1' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      killGroup();
      resolve({ line: null, error: `no answer to ${args.join(' ')} within ${timeoutMs / 1000}s` });
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ line: null, error: e.message });
    });
    // 'exit', not 'close': a grandchild holding the pipes open must not keep us waiting.
    child.on('exit', (code) => {
      clearTimeout(timer);
      setTimeout(() => {
        killGroup();
        const line = (s: string) =>
          s
            .split('\n')
            .map((l) => l.trim())
            .find(Boolean) ?? null;
        const first = line(out) ?? line(err);
        resolve(first ? { line: first } : { line: null, error: `exited ${code} without output` });
      }, 50);
    });
  });
}

/** Every known agent CLI with its path and version (looked up in parallel). */
export function detectAgentClis(envPath = process.env.PATH ?? ''): Promise<AgentCli[]> {
  return Promise.all(
    AGENT_CLIS.map(async (name): Promise<AgentCli> => {
      const file = whichSync(name, envPath);
      if (!file) return { name, path: null, version: null };
      const { line, error } = await firstLineOf(file, ['--version']);
      return { name, path: file, version: line, ...(error ? { error } : {}) };
    }),
  );
}
