/**
 * The dashboard's first frame, drawn by the bin entry before the rest of the program (Ink,
 * the engine, git) is even loaded: the header and a "starting" line on the alternate screen, so
 * the operator sees the console at once. The dashboard clears it when it takes over; an error
 * before that leaves the alternate screen first (leaveSplash), so its message stays visible.
 * Only node builtins here: this runs before anything else is imported.
 */
import { toplevelSync } from '../lanes/git/toplevelSync.js';
import path from 'node:path';

const DASHBOARD_COMMANDS = new Set(['demo']);

/** True when argv opens the dashboard (no command, or `demo`) on a terminal, without --help/--version. */
export function opensDashboard(argv: readonly string[], tty: boolean): boolean {
  if (!tty) return false;
  const args = argv.slice(2);
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--repo') i++;
    else if (a.startsWith('--repo=')) continue;
    else if (a === '-h' || a === '--help' || a === '-V' || a === '--version') return false;
    else if (!a.startsWith('-')) positional.push(a);
  }
  return positional.length === 0 || (positional.length === 1 && DASHBOARD_COMMANDS.has(positional[0]));
}

function repoLabel(argv: readonly string[]): string {
  const args = argv.slice(2);
  const i = args.indexOf('--repo');
  const eq = args.find((a) => a.startsWith('--repo='));
  const dir = i >= 0 ? args[i + 1] : eq ? eq.slice('--repo='.length) : process.cwd();
  if (args.includes('demo')) return 'demo';
  return path.basename(toplevelSync(dir ?? '.') ?? path.resolve(dir ?? '.'));
}

let drawn = false;

/** Draws the first frame when argv opens the dashboard; returns whether it did. */
export function drawSplash(argv: readonly string[] = process.argv): boolean {
  if (!opensDashboard(argv, Boolean(process.stdin.isTTY && process.stdout.isTTY))) return false;
  const label = repoLabel(argv);
  const bold = process.env.NO_COLOR ? '' : '\x1b[1m';
  const dim = process.env.NO_COLOR ? '' : '\x1b[2m';
  const reset = process.env.NO_COLOR ? '' : '\x1b[0m';
  process.stdout.write(
    `\x1b[?1049h\x1b[H\x1b[2J\x1b[?25l${bold}ao-console${reset} · repo ${label}\r\n${dim}starting the engine…${reset}`,
  );
  drawn = true;
  return true;
}

/** Leaves the splash's alternate screen (when it was drawn and the dashboard never took over). */
export function leaveSplash(): void {
  if (!drawn) return;
  drawn = false;
  process.stdout.write('\x1b[?25h\x1b[?1049l');
}

/** The dashboard took over the splash's alternate screen: its own leave ends it, not leaveSplash. */
export function splashTakenOver(): void {
  drawn = false;
}
