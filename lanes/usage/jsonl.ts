/**
 * Incremental JSON-lines reading: each file is read from where the last read stopped, so a tick
 * costs what was appended, not the file's size. Only complete lines (ending in "\n") are parsed;
 * a half-written last line is read again once it is complete. A line that is not JSON is skipped.
 * A file that shrank (rewritten) is read again from the start; a missing one reads as empty.
 */
import { closeSync, fstatSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** The files of `dir` named `prefix…suffix`, as paths; none when the folder cannot be read. */
export function filesNamed(dir: string, prefix: string, suffix: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => n.startsWith(prefix) && n.endsWith(suffix)).map((n) => path.join(dir, n));
}

/** At most this many bytes are read from one file per call (a huge backlog is read over several ticks). */
export const MAX_READ_BYTES = 8 * 1024 * 1024;

export class JsonlTail {
  private offset = 0;
  private size = -1;
  private mtimeMs = -1;
  /** how many times the file was found rewritten (read again from its start) */
  restarts = 0;

  constructor(readonly file: string) {}

  /** The objects of the lines appended since the last call (in order); [] when nothing changed. */
  readNew(): unknown[] {
    let fd: number;
    try {
      fd = openSync(this.file, 'r');
    } catch {
      return [];
    }
    try {
      const st = fstatSync(fd);
      if (st.size === this.size && st.mtimeMs === this.mtimeMs) return [];
      if (st.size < this.offset) {
        this.offset = 0;
        this.restarts++;
      }
      const length = Math.min(st.size - this.offset, MAX_READ_BYTES);
      // Unchanged files are not read again; one with more than this call takes is.
      const capped = st.size - this.offset > MAX_READ_BYTES;
      this.size = capped ? -1 : st.size;
      this.mtimeMs = st.mtimeMs;
      if (length <= 0) return [];
      const buf = Buffer.alloc(length);
      const got = readSync(fd, buf, 0, length, this.offset);
      const end = buf.lastIndexOf(0x0a, got - 1);
      if (end < 0) {
        // no complete line yet; a line longer than MAX_READ_BYTES is skipped whole
        if (capped) this.offset += got;
        return [];
      }
      this.offset += end + 1;
      const out: unknown[] = [];
      for (const line of buf.toString('utf8', 0, end).split('\n')) {
        if (!line.trim()) continue;
        try {
          out.push(JSON.parse(line));
        } catch {
          // a damaged line: skipped
        }
      }
      return out;
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * A folder's entries, listed again only when the folder changed (its mtime): an agent's shared
 * folders (~/.claude/projects, ~/.gemini/tmp, ~/.copilot/session-state) may hold hundreds of
 * entries that a tick need not list every time. A missing folder lists as empty.
 */
export class DirList {
  private mtimeMs = -1;
  private names: string[] = [];

  constructor(readonly dir: string) {}

  list(): string[] {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(this.dir).mtimeMs;
    } catch {
      this.mtimeMs = -1;
      return (this.names = []);
    }
    if (mtimeMs !== this.mtimeMs) {
      try {
        this.names = readdirSync(this.dir);
        this.mtimeMs = mtimeMs;
      } catch {
        this.names = [];
      }
    }
    return this.names;
  }
}
