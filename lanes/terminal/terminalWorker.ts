/**
 * The emulator worker: every lane's headless terminal lives here, off the main thread, so
 * parsing a flood never delays keystrokes, pty reads or the dashboard. The main thread sends
 * output chunks (with their sequence numbers); this thread parses them, answers terminal
 * queries, takes replay keyframes, acknowledges parsed bytes (the main thread's flow control)
 * and posts screen snapshots at most every SNAPSHOT_MS per lane. Every chunk passes the output
 * clamp (lanes/terminal/clamp.ts, in LaneTerminal.write) before xterm.js parses it, so hostile
 * output cannot wedge this thread for the other lanes.
 */
import { parentPort } from 'node:worker_threads';
import { LaneTerminal } from './laneTerminal.js';
import { KeyframePolicy, captureKeyframe } from '../recording/keyframes.js';
import { LineScanner } from './lineScanner.js';
import type { FromWorkerOne, ScreenSnapshot, ToWorker, ToWorkerOne } from './terminalProtocol.js';

/** how often a watched lane's screen is posted at most (styled runs and SGR lines included) */
const SNAPSHOT_MS = 80;
/**
 * how often a lane nobody watches posts its screen at most: text only, for activity detection
 * and the last line (the supervisor's activity tick runs every 250 ms)
 */
const UNWATCHED_SNAPSHOT_MS = 250;
const LIVE_SCROLLBACK = 200;

interface Lane {
  term: LaneTerminal;
  policy: KeyframePolicy | null;
  lines: LineScanner;
  watched: boolean;
  timer: NodeJS.Timeout | null;
  lastPost: number;
  /** sequence number of the last chunk parsed */
  lastSeq: number;
}

const port = parentPort;
if (!port) throw new Error('terminalWorker must run as a worker thread');
const lanes = new Map<number, Lane>();
/** terminals closed but still parsing what was queued before their close */
let closing = 0;
/** What goes to the main thread: one message per event-loop turn (acks, screens, lines, replies). */
let outbox: FromWorkerOne[] = [];
function sendOutbox(): void {
  const msgs = outbox;
  outbox = [];
  port!.postMessage(msgs.length === 1 ? msgs[0] : { t: 'many', msgs });
}
const post = (msg: FromWorkerOne) => {
  if (outbox.push(msg) === 1) setImmediate(sendOutbox);
};

/** The screen; styled runs and SGR lines only when `full` (they cost most to build and to copy). */
function snapshot(lane: Lane, full: boolean): ScreenSnapshot {
  const { term } = lane;
  const shot: ScreenSnapshot = {
    text: term.text(),
    cursor: term.cursor(),
    cols: term.cols,
    rows: term.rows,
    seq: lane.lastSeq,
  };
  if (full) {
    shot.styled = term.styled();
    shot.ansi = term.ansiLines();
  }
  return shot;
}

/**
 * Posts the lane's screen now, or schedules it so a lane posts at most every SNAPSHOT_MS
 * (UNWATCHED_SNAPSHOT_MS while nobody watches it).
 */
function screenChanged(id: number, lane: Lane): void {
  if (lane.timer) return;
  const every = lane.watched ? SNAPSHOT_MS : UNWATCHED_SNAPSHOT_MS;
  const wait = Math.max(0, lane.lastPost + every - Date.now());
  lane.timer = setTimeout(() => {
    lane.timer = null;
    if (!lanes.has(id)) return;
    lane.lastPost = Date.now();
    post({ t: 'screen', id, screen: snapshot(lane, lane.watched) });
  }, wait);
}

/** how often a lane's title changes are posted at most (a spinner in the title changes it often) */
const TITLE_MS = 100;
/** per lane: the title to post, the one posted last, and the pending post */
const titles = new Map<number, { title: string; posted: string; timer: NodeJS.Timeout | null }>();

/** The agent set its window title: posted (the last one of every TITLE_MS) when it differs from the last posted. */
function titleChanged(id: number, title: string): void {
  const entry = titles.get(id) ?? { title: '', posted: '', timer: null };
  titles.set(id, entry);
  entry.title = title;
  if (entry.timer) return;
  entry.timer = setTimeout(() => {
    entry.timer = null;
    if (!lanes.has(id) || entry.title === entry.posted) return;
    entry.posted = entry.title;
    post({ t: 'title', id, title: entry.title });
  }, TITLE_MS);
}

function handle(msg: ToWorkerOne): void {
  if (msg.t === 'stats') {
    let unparsedBytes = 0;
    for (const lane of lanes.values()) unparsedBytes += lane.term.pending;
    post({ t: 'stats', id: 0, req: msg.req, terminals: lanes.size + closing, unparsedBytes });
    return;
  }
  if (msg.t === 'open') {
    // A live lane shows its screen; its history is the recording (replay, export). A short
    // scrollback keeps 16 lanes' emulators small.
    const term = new LaneTerminal({ cols: msg.cols, rows: msg.rows, scrollback: LIVE_SCROLLBACK });
    const lane: Lane = {
      term,
      policy: msg.keyframes ? new KeyframePolicy(msg.policy) : null,
      lines: new LineScanner(msg.linePatterns.map((p) => new RegExp(p.source, p.flags))),
      watched: false,
      timer: null,
      lastPost: 0,
      lastSeq: -1,
    };
    term.onReply((data) => post({ t: 'reply', id: msg.id, data }));
    term.onTitle((title) => titleChanged(msg.id, title));
    lanes.set(msg.id, lane);
    return;
  }
  const lane = lanes.get(msg.id);
  if (!lane) return;
  const { term } = lane;
  switch (msg.t) {
    case 'write': {
      let start = 0;
      for (let i = 0; i < msg.ends.length; i++) {
        const chunk = msg.data.subarray(start, msg.ends[i]);
        start = msg.ends[i];
        const seq = msg.seqs[i];
        const tMs = msg.tms[i];
        const due = lane.policy?.note(tMs, chunk.length) ?? null;
        const last = i === msg.ends.length - 1;
        for (const line of lane.lines.push(chunk)) post({ t: 'line', id: msg.id, line });
        term.write(chunk, () => {
          lane.lastSeq = seq;
          if (due) post({ t: 'keyframe', id: msg.id, keyframe: captureKeyframe(term, seq, tMs, due) });
          if (last) {
            post({ t: 'parsed', id: msg.id, bytes: msg.data.length });
            screenChanged(msg.id, lane);
          }
        });
      }
      return;
    }
    case 'resize':
      term.resize(msg.cols, msg.rows);
      lane.policy?.noteResize();
      screenChanged(msg.id, lane);
      return;
    case 'watch':
      lane.watched = msg.on;
      if (msg.on) {
        // A pending text-only post may be up to UNWATCHED_SNAPSHOT_MS away: post the full screen now.
        if (lane.timer) clearTimeout(lane.timer);
        lane.timer = null;
        lane.lastPost = 0;
        screenChanged(msg.id, lane);
      }
      return;
    case 'sync':
      void term.whenIdle().then(() => {
        if (lanes.has(msg.id)) post({ t: 'synced', id: msg.id, req: msg.req, screen: snapshot(lane, true) });
      });
      return;
    case 'close':
      // Parse what is still queued (keyframes included), then free the terminal.
      lanes.delete(msg.id);
      closing++;
      void term.whenIdle().then(() => {
        const title = titles.get(msg.id);
        if (title?.timer) clearTimeout(title.timer);
        titles.delete(msg.id);
        if (lane.timer) clearTimeout(lane.timer);
        term.dispose();
        closing--;
      });
      return;
  }
}

function handleOne(msg: ToWorkerOne): void {
  try {
    handle(msg);
  } catch (err) {
    post({ t: 'error', id: msg.id, message: err instanceof Error ? err.message : String(err) });
  }
}

port.on('message', (msg: ToWorker) => {
  if (msg.t === 'many') for (const m of msg.msgs) handleOne(m);
  else handleOne(msg);
});
