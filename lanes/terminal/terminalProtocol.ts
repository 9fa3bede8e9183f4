/** Messages between the main thread (RemoteTerminal) and the emulator worker (terminalWorker). */
import type { KeyframeCapture, KeyframePolicyOptions } from '../recording/keyframes.js';
import type { StyledRow } from '../lane/types.js';

export interface ScreenSnapshot {
  text: string[];
  /** absent in the periodic snapshots of a lane nobody is looking at (text is always there) */
  styled?: StyledRow[];
  ansi?: string[];
  cursor: { x: number; y: number; visible: boolean };
  cols: number;
  rows: number;
  /** sequence number of the last output chunk this screen reflects (-1: none yet) */
  seq: number;
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
    }
  /** chunk i is data[ends[i-1] .. ends[i]) with sequence number seqs[i] and time tms[i] */
  | { t: 'write'; id: number; data: Uint8Array; seqs: number[]; tms: number[]; ends: number[] }
  | { t: 'resize'; id: number; cols: number; rows: number }
  /**
   * styled runs and SGR lines in the periodic snapshots (every 80 ms) only while someone looks at
   * the lane; a lane nobody looks at gets text-only snapshots every 250 ms (activity detection)
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
  | { t: 'screen'; id: number; screen: ScreenSnapshot }
  | { t: 'synced'; id: number; req: number; screen: ScreenSnapshot }
  | { t: 'keyframe'; id: number; keyframe: KeyframeCapture }
  /** the window title the agent set (OSC 0/2), cleaned (laneTerminal.ts cleanTitle) */
  | { t: 'title'; id: number; title: string }
  /** an output line matching one of the line patterns */
  | { t: 'line'; id: number; line: string }
  | { t: 'error'; id: number; message: string }
  | { t: 'stats'; id: 0; req: number; terminals: number; unparsedBytes: number };
