/** Messages between the main thread (RemoteTerminal) and the emulator worker (terminalWorker). */
import type { KeyframeCapture, KeyframePolicyOptions } from '../recording/keyframes.js';
import type { StyledRow } from '../lane/types.js';
import type { ScreenMatches } from '../lane/activity.js';

/** A lane's screen: posted only while someone looks at the lane, or as the answer to a sync. */
export interface ScreenSnapshot {
  text: string[];
  styled: StyledRow[];
  ansi: string[];
  cursor: { x: number; y: number; visible: boolean };
  cols: number;
  rows: number;
  /** sequence number of the last output chunk this screen reflects (-1: none yet) */
  seq: number;
}

/**
 * What the main thread needs of every lane's screen, read in the worker (lanes/lane/activity.ts
 * lastTextLine and screenMatches): a few bytes instead of the rows.
 */
export interface ScreenFacts extends ScreenMatches {
  /** the agent's last line of text, frame and spinner cut off */
  lastLine: string;
}

export type ToWorker = ToWorkerOne | { t: 'many'; msgs: ToWorkerOne[] };

export type ToWorkerOne =
  | {
      t: 'open';
      id: number;
      cols: number;
      rows: number;
      keyframes: boolean;
      policy?: KeyframePolicyOptions;
      linePatterns: { source: string; flags: string }[];
      /** the profile's busy and waiting-input patterns, for the screen facts */
      busyPatterns: { source: string; flags: string }[];
      waitingPatterns: { source: string; flags: string }[];
      /** the main thread resumes the pty below this many unacknowledged bytes: the worker holds no more */
      lowWater: number;
    }
  /**
   * chunk i is bytes ends[i-1] .. ends[i] of the parts laid end to end, with sequence number
   * seqs[i] and time tms[i] (the parts are the pty's reads as they came, mostly transferred, not
   * copied: RemoteTerminal.flush)
   */
  | { t: 'write'; id: number; parts: Uint8Array[]; seqs: number[]; tms: number[]; ends: number[] }
  | { t: 'resize'; id: number; cols: number; rows: number }
  /**
   * someone looks at the lane (on) or no longer: a watched lane's screen is posted (at most every
   * 80 ms); a lane nobody looks at posts no screen, only its facts when they change (at most
   * every 250 ms)
   */
  | { t: 'watch'; id: number; on: boolean }
  /** answer with a fresh snapshot once everything sent before is parsed */
  | { t: 'sync'; id: number; req: number }
  | { t: 'close'; id: number }
  /** how many terminals the worker holds (id 0: not a lane's) */
  | { t: 'stats'; id: 0; req: number };

/** `many`: several messages, in order (each side sends once per event-loop turn). */
export type FromWorker = FromWorkerOne | { t: 'many'; msgs: FromWorkerOne[] };

export type FromWorkerOne =
  | { t: 'reply'; id: number; data: string }
  | { t: 'parsed'; id: number; bytes: number }
  /** a watched lane's screen */
  | { t: 'screen'; id: number; screen: ScreenSnapshot }
  /** the lane's screen facts changed (posted before a screen or sync answer that shows them) */
  | { t: 'facts'; id: number; facts: ScreenFacts }
  | { t: 'synced'; id: number; req: number; screen: ScreenSnapshot }
  | { t: 'keyframe'; id: number; keyframe: KeyframeCapture }
  /** the window title the agent set (OSC 0/2), cleaned (laneTerminal.ts cleanTitle) */
  | { t: 'title'; id: number; title: string }
  /** an output line matching one of the line patterns */
  | { t: 'line'; id: number; line: string }
  | { t: 'error'; id: number; message: string }
  | { t: 'stats'; id: 0; req: number; terminals: number; unparsedBytes: number; skippedBytes: number };
