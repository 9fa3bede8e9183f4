/**
 * The engine's log file, `<state dir>/engine.log`: its path, rotation and a line logger. A module
 * of its own (no engine, no store, no protocol) so clients that only name or rotate the log load
 * nothing else: the dashboard's start-up path and `doctor` (issue "cheaper per lane than tmux").
 */
import { appendFileSync, chmodSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';

/** `<state dir>/engine.log`: where an engine logs (a background engine's stdout and stderr too). */
export function engineLogPath(stateDir: string): string {
  return path.join(stateDir, 'engine.log');
}

/** The log is rotated (to engine.log.1, replacing an older one) when it grows past this. */
export const ENGINE_LOG_MAX_BYTES = 2 * 1024 * 1024;

/** Moves engine.log to engine.log.1 when it is over `maxBytes`; true when it did. */
export function rotateEngineLog(stateDir: string, maxBytes = ENGINE_LOG_MAX_BYTES): boolean {
  const file = engineLogPath(stateDir);
  try {
    if (statSync(file).size <= maxBytes) return false;
    renameSync(file, `${file}.1`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Appends timestamped lines to engine.log (0600), rotating it past ENGINE_LOG_MAX_BYTES. A log
 * that cannot be written never stops the engine.
 */
export function engineLogger(stateDir: string, maxBytes = ENGINE_LOG_MAX_BYTES): (line: string) => void {
  const file = engineLogPath(stateDir);
  // The size is checked every so many bytes written (not on every line), and on the first line
  // (a log already past the bound); a fraction of the bound, so the log stays near it.
  const checkEvery = Math.min(64 * 1024, Math.max(1, Math.floor(maxBytes / 8)));
  let written = checkEvery;
  return (line) => {
    try {
      const text = `${new Date().toISOString()} ${line}\n`;
      if (written >= checkEvery) {
        written = 0;
        rotateEngineLog(stateDir, maxBytes);
      }
      written += Buffer.byteLength(text);
      appendFileSync(file, text, { mode: 0o600 });
      chmodSync(file, 0o600);
    } catch {
      // no log: nothing else to do
    }
  };
}
