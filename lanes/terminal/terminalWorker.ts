/**
 * An emulator worker: the headless terminals of the lanes given to it live here (an engine runs
 * one or more: emulatorWorkerLimit in remoteTerminal.ts), off the main thread, so
 * parsing a flood never delays keystrokes, pty reads or the dashboard. The main thread sends
 * output chunks (with their sequence numbers); this thread parses them, answers terminal
 * queries, takes replay keyframes, acknowledges parsed bytes (the main thread's flow control),
 * posts the screens of lanes someone looks at (at most every SNAPSHOT_MS per lane) and, for
 * every lane, its screen facts (last line, prompt and busy matches) when they change: a lane
 * nobody looks at costs the main thread a few bytes when its facts change, never its rows
 * (issue "Cheaper per lane than tmux"). Every chunk passes the output
 * clamp (lanes/terminal/clamp.ts, in LaneTerminal.write) before xterm.js parses it, so hostile
 * output cannot wedge this thread for the other lanes.
 */
import { parentPort } from 'node:worker_threads';
import { LaneTerminal } from './laneTerminal.js';
import { KeyframePolicy, captureKeyframe } from '../recording/keyframes.js';
import { LineScanner } from './lineScanner.js';
import { lastTextLine, screenMatches } from '../lane/activity.js';
import type { FromWorkerOne, ScreenFacts, ScreenSnapshot, ToWorker, ToWorkerOne } from './terminalProtocol.js';

/** how often a watched lane's screen is posted at most (styled runs and SGR lines included) */
const SNAPSHOT_MS = 80;
/**
 * how often the facts of a lane nobody watches are read at most (the supervisor's activity tick
 * runs every 250 ms); a watched lane's are read with each of its screens
 */
const FACTS_MS = 250;
const LIVE_SCROLLBACK = 200;

interface Lane {
  term: LaneTerminal;
  policy: KeyframePolicy | null;
  lines: LineScanner;
  busyPatterns: RegExp[];
  waitingPatterns: RegExp[];
  /** the facts the main thread has (the blank screen's until the first post) */
  facts: ScreenFacts;
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

/** Reads the facts off the screen's rows; posts them when they differ from the last posted. */
function noteFacts(id: number, lane: Lane, text: string[]): void {
  const matches = screenMatches(text, lane.busyPatterns, lane.waitingPatterns);
  const facts: ScreenFacts = { lastLine: lastTextLine(text), ...matches };
  const had = lane.facts;
  if (facts.lastLine === had.lastLine && facts.busy === had.busy && facts.waiting === had.waiting) return;
  lane.facts = facts;
  post({ t: 'facts', id, facts });
}

/** The whole screen (its facts posted first when they changed, so they are never older than it). */
function snapshot(id: number, lane: Lane): ScreenSnapshot {
  const { term } = lane;
  const text = term.text();
  noteFacts(id, lane, text);
  return {
    text,
    styled: term.styled(),
    ansi: term.ansiLines(),
    cursor: term.cursor(),
    cols: term.cols,
    rows: term.rows,
    seq: lane.lastSeq,
  };
}

/**
 * The screen changed: a watched lane posts it (at most every SNAPSHOT_MS), a lane nobody watches
 * only its facts, read at most every FACTS_MS and posted when they changed. Whether the lane is
 * watched is decided when the timer fires, so a lane unwatched meanwhile posts no screen.
 */
function screenChanged(id: number, lane: Lane): void {
  if (lane.timer) return;
  const every = lane.watched ? SNAPSHOT_MS : FACTS_MS;
  const wait = Math.max(0, lane.lastPost + every - Date.now());
  lane.timer = setTimeout(() => {
    lane.timer = null;
    if (!lanes.has(id)) return;
    lane.lastPost = Date.now();
    if (lane.watched) post({ t: 'screen', id, screen: snapshot(id, lane) });
    else noteFacts(id, lane, lane.term.text());
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
    const compile = (patterns: { source: string; flags: string }[]) =>
      patterns.map((p) => new RegExp(p.source, p.flags));
    const lane: Lane = {
      term,
      policy: msg.keyframes ? new KeyframePolicy(msg.policy) : null,
      lines: new LineScanner(compile(msg.linePatterns)),
      busyPatterns: compile(msg.busyPatterns),
      waitingPatterns: compile(msg.waitingPatterns),
      facts: { lastLine: '', busy: false, waiting: false },
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
      // Consecutive chunks go to the emulator as one write (its cost is per write as much as per
      // byte), cut only where a keyframe is due: the keyframe is the screen right after its chunk.
      let start = 0;
      let runStart = 0;
      for (let i = 0; i < msg.ends.length; i++) {
        const chunk = msg.data.subarray(start, msg.ends[i]);
        start = msg.ends[i];
        const seq = msg.seqs[i];
        const tMs = msg.tms[i];
        const due = lane.policy?.note(tMs, chunk.length) ?? null;
        const last = i === msg.ends.length - 1;
        for (const line of lane.lines.push(chunk)) post({ t: 'line', id: msg.id, line });
        if (!due && !last) continue;
        term.write(msg.data.subarray(runStart, start), () => {
          lane.lastSeq = seq;
          if (due) post({ t: 'keyframe', id: msg.id, keyframe: captureKeyframe(term, seq, tMs, due) });
          if (last) {
            post({ t: 'parsed', id: msg.id, bytes: msg.data.length });
            screenChanged(msg.id, lane);
          }
        });
        runStart = start;
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
        // A pending facts read may be up to FACTS_MS away: post the screen now.
        if (lane.timer) clearTimeout(lane.timer);
        lane.timer = null;
        lane.lastPost = 0;
        screenChanged(msg.id, lane);
      }
      return;
    case 'sync':
      void term.whenIdle().then(() => {
        if (lanes.has(msg.id)) post({ t: 'synced', id: msg.id, req: msg.req, screen: snapshot(msg.id, lane) });
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
