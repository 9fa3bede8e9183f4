/**
 * Reloads the repo's settings when they change: `.ao/config.json` and the profiles in
 * `.ao/profiles/*.json`, so an edit needs no restart. fs.watch on the folders (editors save by
 * renaming a new file over the old one, which a watch on the file itself would lose), debounced.
 *
 * A change is applied only when the whole file set is valid: a good config replaces the last
 * one (`onConfig`), good profiles replace the live map's contents in place. An invalid change is
 * reported (an 'error' naming the file and the field) and the last good settings stay in use;
 * fixing it reloads again. A lane already running keeps the profile it started with; a new lane,
 * a resume and the next gate run use the new settings.
 */
import { existsSync, readdirSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { formatProfileLoadError, loadProfiles, repoProfilesDir, type LoadedProfile } from '../../profiles/loader.js';
import { CONFIG_FILE, ConfigError, loadRepoConfig, type RepoConfig } from './repoConfig.js';

export interface ConfigWatchEvent {
  type: 'notice' | 'error';
  message: string;
}

export interface ConfigWatchOptions {
  repoRoot: string;
  /** the live profiles: on a good change its contents are replaced in place */
  profiles: Map<string, LoadedProfile>;
  /** a good new config */
  onConfig: (config: RepoConfig) => void;
  /** what was reloaded, or why a change was not taken */
  report: (event: ConfigWatchEvent) => void;
  /** quiet time after the last change before reloading (default 250 ms) */
  debounceMs?: number;
}

export interface ConfigWatch {
  /** reloads now if a watched file changed since the last load (the watchers call this) */
  reload(): Promise<void>;
  close(): void;
}

/** The text of every watched file, so a reload happens only when one really changed. */
function snapshot(repoRoot: string): Map<string, string> {
  const files = new Map<string, string>();
  const read = (file: string) => {
    try {
      files.set(path.relative(repoRoot, file), readFileSync(file, 'utf8'));
    } catch {
      // gone between the listing and the read: counts as absent
    }
  };
  read(path.join(repoRoot, CONFIG_FILE));
  const dir = repoProfilesDir(repoRoot);
  try {
    for (const name of readdirSync(dir).sort()) if (name.endsWith('.json')) read(path.join(dir, name));
  } catch {
    // no profile folder
  }
  return files;
}

const changedFiles = (a: Map<string, string>, b: Map<string, string>) =>
  [...new Set([...a.keys(), ...b.keys()])].filter((f) => a.get(f) !== b.get(f)).sort();

export function watchConfig(opts: ConfigWatchOptions): ConfigWatch {
  const { repoRoot } = opts;
  const debounceMs = opts.debounceMs ?? 250;
  const aoDir = path.join(repoRoot, '.ao');
  const profilesDir = repoProfilesDir(repoRoot);
  /** what the settings in use were loaded from */
  let loaded = snapshot(repoRoot);
  /** the last change reported as invalid, so an unchanged bad file is not reported again */
  let refused: string | null = null;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const watchers = new Map<string, FSWatcher>();

  const schedule = () => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => void reload(), debounceMs);
    timer.unref();
  };

  /** Watches each folder that exists now (the repo root only for `.ao` appearing); drops vanished ones. */
  const arm = () => {
    const wanted: Array<[string, (name: string | null) => boolean]> = [
      [repoRoot, (name) => name === null || name === '.ao'],
      [aoDir, (name) => name === null || name === 'config.json' || name === 'profiles'],
      [profilesDir, (name) => name === null || name.endsWith('.json')],
    ];
    for (const [dir, relevant] of wanted) {
      const have = watchers.get(dir);
      if (have && existsSync(dir)) continue;
      have?.close();
      watchers.delete(dir);
      if (!existsSync(dir)) continue;
      try {
        const w = watch(dir, { persistent: false }, (_event, name) => {
          if (relevant(name === null ? null : String(name))) schedule();
        });
        w.on('error', () => {
          w.close();
          watchers.delete(dir);
          schedule();
        });
        watchers.set(dir, w);
      } catch {
        // unwatchable (removed meanwhile): the next event re-arms
      }
    }
  };

  const apply = async () => {
    if (closed) return;
    arm();
    const now = snapshot(repoRoot);
    const changed = changedFiles(loaded, now);
    if (changed.length === 0) {
      refused = null;
      return;
    }
    const problems: string[] = [];
    let config: RepoConfig | undefined;
    try {
      config = await loadRepoConfig(repoRoot);
    } catch (err) {
      problems.push(err instanceof ConfigError ? err.message : `${CONFIG_FILE}: ${(err as Error).message}`);
    }
    const profiles = loadProfiles(repoRoot);
    for (const e of profiles.errors) problems.push(formatProfileLoadError(e));
    if (problems.length > 0 || !config) {
      const key = JSON.stringify([...now]);
      if (refused === key) return;
      refused = key;
      opts.report({
        type: 'error',
        message: `settings not reloaded, the last good ones stay in use: ${problems.join('; ')}`,
      });
      return;
    }
    refused = null;
    loaded = now;
    opts.onConfig(config);
    opts.profiles.clear();
    for (const [name, profile] of profiles.profiles) opts.profiles.set(name, profile);
    opts.report({ type: 'notice', message: `settings reloaded: ${changed.join(', ')} changed` });
  };

  const reload = () => {
    running = running.then(apply, apply);
    return running;
  };

  arm();
  return {
    reload,
    close() {
      closed = true;
      clearTimeout(timer);
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}
