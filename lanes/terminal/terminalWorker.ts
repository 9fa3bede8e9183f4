/**
 * An emulator worker: the headless terminals of the lanes given to it live here (an engine runs
 * one or more: emulatorWorkerLimit in remoteTerminal.ts), off the main thread, so
 * parsing a flood never delays keystrokes, pty reads or the dashboard. The main thread sends
 * output chunks (with their sequence numbers); this thread parses them, answers terminal
 * queries, takes replay keyframes, acknowledges parsed bytes (the main thread's flow control),
 * posts the screens of lanes someone looks at (at most every SNAPSHOT_MS per lane) and, for
 * every lane, its screen facts (last line, prompt and busy matches) when they change: a lane
 * nobody looks at costs the main thread a few bytes when its facts change, never its rows
 * (issue "Cheaper per lane than tmux"). A flood is mostly not parsed at all: fast-forward
 * (lanes/terminal/fastForward.ts, `release` here) drops what provably changes nothing on the
 * screen it ends with. Every chunk passes the output
 * clamp (lanes/terminal/clamp.ts, LaneTerminal.clamped) before xterm.js parses it, so hostile
 * output cannot wedge this thread for the other lanes.
 */
import { parentPort } from 'node:worker_threads';
import { LaneTerminal } from './laneTerminal.js';
import { KeyframePolicy, captureKeyframe } from '../recording/keyframes.js';
import { LineScanner } from './lineScanner.js';
import { findCut, linesNeeded } from './fastForward.js';
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
/**
 * Output that arrives while a lane's emulator is busy is held, and given to it in one piece when
 * it is done: at once for a watched lane that is not flooding; otherwise once HOLD_BYTES are
 * held or the first held chunk is HOLD_MS old, so a flood's piece is big enough for fast-forward
 * to cut most of it (lanes/terminal/fastForward.ts). Output that finds the emulator idle goes at
 * once, unless the lane was cut within FLOODING_MS (it is still flooding).
 */
const HOLD_BYTES = 256 * 1024;
const HOLD_MS = 50;
/** a lane cut within this long is flooding: what it writes is held even while its emulator is idle */
const FLOODING_MS = 1000;
/** fast-forward cuts no fewer bytes than this (a smaller cut saves less than it costs) */
const MIN_CUT = 32 * 1024;

/** A piece of a chunk of output (all of it, or one pty read of it), held for the emulator. */
interface Held {
  /** the piece through the output clamp */
  bytes: Uint8Array;
  /** its length as the agent wrote it (what the main thread counts) */
  raw: number;
  /** the chunk's */
  seq: number;
  tMs: number;
  /** the keyframe due after it (only ever after a chunk's last piece) */
  due: 'reset' | 'regular' | null;
}

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
  /** output waiting for the emulator (after the clamp) */
  held: Held[];
  heldRaw: number;
  /** when the first held chunk arrived while the emulator was busy (0: none held) */
  heldSince: number;
  holdTimer: NodeJS.Timeout | null;
  /** the held output begins with the emulator's parser in its ground state */
  heldAtGround: boolean;
  /** when fast-forward last cut this lane's output (0: never) */
  lastCut: number;
  /**
   * held output is given to the emulator at this many bytes at the latest: HOLD_BYTES, or less
   * when the main thread resumes a paused pty below less (holding more would then wait for
   * HOLD_MS with the pty paused)
   */
  holdBytes: number;
  /**
   * the last chunk of the latest output given after a cut: until it is parsed the screen is not
   * yet the true one, and is not read (-1: none)
   */
  settleSeq: number;
}

/** bytes of output fast-forward left unparsed, over every lane (for stats) */
let skippedBytes = 0;

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
    // mid-way through the output after a cut the screen is not yet the true one: read it after
    if (!lanes.has(id) || lane.lastSeq < lane.settleSeq) return;
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

/**
 * The emulator is idle (or more output arrived): give it what is held when it is time (HOLD_BYTES,
 * HOLD_MS), else wait for more or for the time.
 */
function maybeRelease(id: number, lane: Lane): void {
  if (lane.held.length === 0 || lane.term.pending > 0) return;
  const now = Date.now();
  const waited = now - lane.heldSince;
  const eager = lane.watched && now - lane.lastCut >= FLOODING_MS;
  if (eager || lane.heldRaw >= lane.holdBytes || lane.heldSince === 0 || waited >= HOLD_MS) {
    release(id, lane, true);
    return;
  }
  lane.holdTimer ??= setTimeout(() => {
    lane.holdTimer = null;
    if (lanes.get(id) === lane) maybeRelease(id, lane);
  }, HOLD_MS - waited);
}

/**
 * Gives the emulator everything held, in runs cut where a keyframe is due (the keyframe is the
 * screen right after its chunk). With `cut`, fast-forward may drop the front of it: those chunks
 * are acknowledged at once, and the keyframes due in what is given are replaced by one after its
 * last chunk. The screen is exact again once that is parsed, and is neither read for facts nor
 * posted before: a watched flooding lane shows fewer frames, each of them exact, and watching a
 * flood no longer slows it to the parser's pace.
 */
function release(id: number, lane: Lane, cut: boolean): void {
  if (lane.holdTimer) clearTimeout(lane.holdTimer);
  lane.holdTimer = null;
  const held = lane.held;
  const { term } = lane;
  const found =
    cut &&
    lane.heldAtGround &&
    lane.heldRaw >= 2 * MIN_CUT &&
    term.fullScrollRegion &&
    !held.some((h) => h.due === 'reset')
      ? findCut(asBuffer(joined(held)), linesNeeded(term.rows, LIVE_SCROLLBACK), MIN_CUT)
      : null;
  // the next held output begins where the clamp is now
  lane.heldAtGround = term.atGround;
  lane.held = [];
  lane.heldRaw = 0;
  lane.heldSince = 0;
  if (held.length === 0) return;
  let first = 0;
  if (found) {
    // drop the chunks before the cut, and the front of the chunk it falls in
    let at = found.at;
    let dropped = 0;
    while (first < held.length && held[first].bytes.length <= at) {
      at -= held[first].bytes.length;
      dropped += held[first].raw;
      first++;
    }
    skippedBytes += found.at;
    lane.lastCut = Date.now();
    if (dropped > 0) post({ t: 'parsed', id, bytes: dropped });
    if (first === held.length) return; // (a cut always leaves output after it)
    held[first] = { ...held[first], bytes: held[first].bytes.subarray(at) };
    term.writeClamped(found.prefix, 0);
    // a keyframe due anywhere in it is taken after the last chunk instead (keyframes stay about
    // as far apart as the policy says: what is held is at most the pty's pause mark)
    if (held.some((h) => h.due)) {
      for (let i = first; i < held.length; i++) held[i].due = null;
      held[held.length - 1].due = 'regular';
    }
    lane.settleSeq = held[held.length - 1].seq;
  }
  let runStart = first;
  for (let i = first; i < held.length; i++) {
    const h = held[i];
    const last = i === held.length - 1;
    if (!h.due && !last) continue;
    const run = held.slice(runStart, i + 1);
    runStart = i + 1;
    const bytes = joined(run);
    const raw = run.reduce((n, r) => n + r.raw, 0);
    term.writeClamped(bytes, raw, () => {
      lane.lastSeq = h.seq;
      if (h.due) post({ t: 'keyframe', id, keyframe: captureKeyframe(term, h.seq, h.tMs, h.due) });
      post({ t: 'parsed', id, bytes: raw });
      if (!last || lanes.get(id) !== lane) return;
      screenChanged(id, lane);
      // after the terminal counted these bytes parsed (it does so once this callback returns)
      queueMicrotask(() => maybeRelease(id, lane));
    });
  }
}

/** The chunks' bytes as one array: a view when they lie side by side (the clamp changed none), else a copy. */
function joined(run: Held[]): Uint8Array {
  const head = run[0].bytes;
  if (run.length === 1) return head;
  let end = head.byteOffset + head.byteLength;
  let len = head.byteLength;
  let adjacent = true;
  for (let i = 1; i < run.length && adjacent; i++) {
    const b = run[i].bytes;
    adjacent = b.buffer === head.buffer && b.byteOffset === end;
    end += b.byteLength;
    len += b.byteLength;
  }
  if (adjacent) return new Uint8Array(head.buffer, head.byteOffset, len);
  return Buffer.concat(run.map((r) => r.bytes));
}

/** The same bytes as a Buffer, not copied. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function handle(msg: ToWorkerOne): void {
  if (msg.t === 'stats') {
    let unparsedBytes = 0;
    for (const lane of lanes.values()) unparsedBytes += lane.term.pending + lane.heldRaw;
    post({ t: 'stats', id: 0, req: msg.req, terminals: lanes.size + closing, unparsedBytes, skippedBytes });
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
      held: [],
      heldRaw: 0,
      heldSince: 0,
      holdTimer: null,
      heldAtGround: true,
      lastCut: 0,
      holdBytes: Math.min(HOLD_BYTES, msg.lowWater),
      settleSeq: -1,
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
      // a lane that was cut lately is flooding: its output is held even when the emulator is idle
      const busy = term.pending > 0 || lane.held.length > 0 || Date.now() - lane.lastCut < FLOODING_MS;
      // Piece by piece as the pty read them (a chunk may span parts, a part hold chunks): the line
      // scanner and the clamp take any split of the stream, and a chunk's keyframe is due after
      // its last piece, where the replay takes it.
      let start = 0;
      let part = 0;
      let off = 0;
      for (let i = 0; i < msg.ends.length; i++) {
        const length = msg.ends[i] - start;
        start = msg.ends[i];
        const due = lane.policy?.note(msg.tms[i], length) ?? null;
        for (let left = length; left > 0;) {
          // (past the end of a part, and past empty ones)
          while (msg.parts[part].length === off) {
            part++;
            off = 0;
          }
          const from = msg.parts[part];
          const take = Math.min(left, from.length - off);
          const piece = from.subarray(off, off + take);
          left -= take;
          off += take;
          for (const line of lane.lines.push(piece)) post({ t: 'line', id: msg.id, line });
          const bytes = term.clamped(piece);
          lane.held.push({ bytes, raw: take, seq: msg.seqs[i], tMs: msg.tms[i], due: left === 0 ? due : null });
          lane.heldRaw += take;
        }
      }
      if (!busy) release(msg.id, lane, false);
      else {
        if (lane.heldSince === 0) lane.heldSince = Date.now();
        maybeRelease(msg.id, lane);
      }
      return;
    }
    case 'resize':
      // what came before the resize is parsed before it (as it was clamped: for the old size)
      release(msg.id, lane, false);
      term.resize(msg.cols, msg.rows);
      lane.policy?.noteResize();
      screenChanged(msg.id, lane);
      return;
    case 'watch':
      lane.watched = msg.on;
      if (msg.on) {
        release(msg.id, lane, false);
        // A pending facts read may be up to FACTS_MS away: post the screen now.
        if (lane.timer) clearTimeout(lane.timer);
        lane.timer = null;
        lane.lastPost = 0;
        screenChanged(msg.id, lane);
      }
      return;
    case 'sync':
      release(msg.id, lane, true);
      void term.whenIdle().then(() => {
        if (lanes.has(msg.id)) post({ t: 'synced', id: msg.id, req: msg.req, screen: snapshot(msg.id, lane) });
      });
      return;
    case 'close':
      // Parse what is still queued (keyframes included), then free the terminal.
      release(msg.id, lane, true);
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
