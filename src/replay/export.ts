/**
 * Exports of one recorded lane:
 * - `cast`: asciicast v2 (https://docs.asciinema.org/manual/asciicast/v2/): a header with the
 *   size the lane started at and its start time, `[t, "o", data]` for every chunk (the recorded
 *   bytes, decoded as one UTF-8 stream so a character split across chunks stays whole),
 *   `[t, "r", "COLSxROWS"]` for resizes and `[t, "m", label]` markers for the lane's timeline.
 *   Keystrokes are not recorded, so there are no "i" events.
 * - `text`: the final screen and its scrollback as plain text, through the emulator (behind the
 *   output clamp, lanes/terminal/clamp.ts, as the live lane's: a hostile recording cannot wedge it);
 *   each earlier run of the agent (before a resume) is kept above, its last screen included.
 * - `json`: the lane, its closure, events, every gate verdict and decision, output totals.
 */
import xtermHeadless from '@xterm/headless';
import type { Db } from '../../lanes/store/open.js';
import { listDecisions } from '../../lanes/store/review.js';
import { LaneRecording } from '../../lanes/recording/reader.js';
import { OutputClamp } from '../../lanes/terminal/clamp.js';
import { buildMarks } from './timeline.js';

const { Terminal } = xtermHeadless;

export type ExportFormat = 'cast' | 'text' | 'json';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['cast', 'text', 'json'];

/** Writes the export piece by piece (a file or stdout). */
export type Sink = (text: string) => void | Promise<void>;

const secs = (ms: number): number => Math.round(ms) / 1000;

export async function exportCast(db: Db, laneId: number, out: Sink): Promise<void> {
  const rec = new LaneRecording(db, laneId);
  const size = rec.initialSize();
  const header = {
    version: 2,
    width: size.cols,
    height: size.rows,
    timestamp: Math.floor((rec.lane.startedAt ?? rec.lane.createdAt) / 1000),
    title: `ao-console lane ${rec.lane.name}: ${rec.lane.task.split('\n')[0].slice(0, 100)}`,
    env: { TERM: 'xterm-256color' },
  };
  await out(`${JSON.stringify(header)}\n`);
  const marks = buildMarks(
    rec.events,
    rec.verdicts,
    (e) => rec.timeOf(e),
    (at) => rec.clock(at),
  ).filter((m) => m.kind !== 'resize');
  const resizes = rec.resizes;
  let m = 0;
  let r = 0;
  const decoder = new TextDecoder('utf-8');
  let last = 0;
  const line = (t: number, type: string, data: string): string => {
    last = Math.max(last, t); // asciicast times never go back
    return `${JSON.stringify([secs(last), type, data])}\n`;
  };
  let buf = '';
  if (rec.chunkCount > 0) {
    for (const chunk of rec.chunks(rec.seqs[0], rec.seqs[rec.chunkCount - 1])) {
      while (m < marks.length && marks[m].tMs < chunk.tMs) buf += line(marks[m].tMs, 'm', marks[m++].label);
      while (r < resizes.length && resizes[r].seq <= chunk.seq) {
        const rz = resizes[r++];
        buf += line(Math.min(rz.tMs, chunk.tMs), 'r', `${rz.cols}x${rz.rows}`);
      }
      const text = decoder.decode(chunk.data, { stream: true });
      if (text) buf += line(chunk.tMs, 'o', text);
      if (buf.length > 1 << 20) {
        await out(buf);
        buf = '';
      }
    }
  }
  const tail = decoder.decode();
  if (tail) buf += line(last, 'o', tail);
  while (m < marks.length) buf += line(marks[m].tMs, 'm', marks[m++].label);
  await out(buf);
}

type HeadlessTerminal = InstanceType<typeof Terminal>;
type HeadlessBuffer = HeadlessTerminal['buffer']['active'];

/** A buffer's lines as plain text: wrapped lines joined, control characters blanked, trailing blanks trimmed. */
function bufferLines(buffer: HeadlessBuffer, from = 0): string[] {
  const lines: string[] = [];
  for (let y = from; y < buffer.length; y++) {
    const l = buffer.getLine(y);
    const text = (l?.translateToString(true) ?? '').replace(/[\x00-\x1f\x7f-\x9f]/g, ' ').trimEnd();
    if (l?.isWrapped && lines.length > 0) lines[lines.length - 1] += text;
    else lines.push(text);
  }
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * What one run of the agent left: the main screen with its scrollback and, when the run ended
 * on the alternate screen (a full-screen TUI), that screen after it: the one the operator saw.
 */
function runLines(term: HeadlessTerminal): string[] {
  const lines = bufferLines(term.buffer.normal);
  if (term.buffer.active.type === 'alternate') {
    const alt = bufferLines(term.buffer.alternate);
    if (alt.length > 0) {
      if (lines.length > 0) lines.push('');
      lines.push(...alt);
    }
  }
  return lines;
}

/**
 * The final screen and scrollback as plain text (trailing blanks trimmed, no escapes). A resume
 * starts the agent on a fresh emulator, as the live lane does; what the earlier run left (its
 * scrollback and last screen, alternate screen included) is kept above, a blank line between.
 */
export async function exportText(db: Db, laneId: number, out: Sink, opts: { scrollback?: number } = {}): Promise<void> {
  const rec = new LaneRecording(db, laneId);
  const size = rec.initialSize();
  const scrollback = opts.scrollback ?? 100_000;
  const open = (s: { cols: number; rows: number }): HeadlessTerminal =>
    new Terminal({ cols: s.cols, rows: s.rows, scrollback, allowProposedApi: true });
  let term = open(size);
  const write = (data: Uint8Array | string): Promise<void> => new Promise((resolve) => term.write(data, resolve));
  let clamp = new OutputClamp(size);
  const resets = new Set(rec.keyframes.filter((k) => k.reset && k.seq > (rec.seqs[0] ?? 0)).map((k) => k.seq));
  const resizes = rec.resizes;
  const earlier: string[] = [];
  let r = 0;
  let pending = 0;
  if (rec.chunkCount > 0) {
    for (const chunk of rec.chunks(rec.seqs[0], rec.seqs[rec.chunkCount - 1])) {
      while (r < resizes.length && resizes[r].seq <= chunk.seq) {
        const rz = resizes[r++];
        await write('');
        term.resize(rz.cols, rz.rows);
        clamp.resize(rz.cols, rz.rows);
      }
      if (resets.has(chunk.seq)) {
        // A new run of the agent starts on a fresh emulator: keep what the old one showed.
        await write('');
        const old = runLines(term);
        if (old.length > 0) earlier.push(...old, '');
        const at = { cols: term.cols, rows: term.rows };
        term.dispose();
        term = open(at);
        clamp = new OutputClamp(at);
        pending = 0;
      }
      const data = clamp.push(chunk.data);
      pending += chunk.data.length;
      if (pending > 2 * 1024 * 1024) {
        pending = 0;
        await write(data);
      } else term.write(data);
    }
  }
  await write('');
  const lines = [...earlier, ...runLines(term)];
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  term.dispose();
  await out(lines.length ? `${lines.join('\n')}\n` : '');
}

export function exportJson(db: Db, laneId: number): unknown {
  const rec = new LaneRecording(db, laneId);
  const { lane } = rec;
  return {
    lane: {
      id: lane.id,
      name: lane.name,
      session: lane.sessionId,
      profile: lane.profile,
      task: lane.task,
      branch: lane.branch,
      base: lane.base,
      state: lane.state,
      createdAt: lane.createdAt,
      startedAt: lane.startedAt,
      closedAt: lane.closedAt,
      headCommit: lane.headCommit,
      reworkCount: lane.reworkCount,
      exitCode: lane.exitCode,
      cols: lane.cols,
      rows: lane.rows,
    },
    closure: rec.closure,
    events: rec.events.map((e) => ({
      at: e.at,
      tMs: e.tMs,
      kind: e.kind,
      from: e.fromState,
      to: e.toState,
      cause: e.cause,
      data: e.data,
    })),
    verdicts: rec.verdicts,
    decisions: listDecisions(db, laneId),
    output: {
      chunks: rec.chunkCount,
      bytes: rec.totalBytes,
      lastMs: rec.chunkCount ? rec.times[rec.chunkCount - 1] : null,
      keyframes: rec.keyframes.length,
    },
  };
}
