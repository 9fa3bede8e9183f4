/**
 * The history view (`H`: past lanes with their closure) and the replay player's view state,
 * with their actions. The player itself (src/replay/player.ts) lives outside the state; the
 * store holds what the components draw, refreshed on a timer while playing (10 Hz), never per
 * chunk.
 */
import type { StoreApi } from 'zustand/vanilla';
import type { CursorInfo } from '../../lanes/terminal/laneTerminal.js';
import type { StyledRow } from '../../lanes/lane/types.js';
import type { ReplayPlayer } from '../replay/player.js';
import type { HistoryEntry, ReplayService } from '../replay/service.js';
import type { TimelineMark } from '../replay/timeline.js';
import type { AppState, Flash, SupervisorApi } from './types.js';

export type { HistoryEntry } from '../replay/service.js';
export type { TimelineMark } from '../replay/timeline.js';

export const REPLAY_SPEEDS = [0.25, 0.5, 1, 2, 4, 8, 16] as const;
export const TICK_MS = 100;

export interface HistoryState {
  entries: HistoryEntry[];
  selected: number;
  error: string | null;
}

export interface ReplayView {
  laneId: number;
  lane: string;
  task: string;
  sessionId: string;
  outcome: string | null;
  /** lanes of the same session (the lane switcher) */
  lanes: HistoryEntry[];
  /** where escape goes: back to the history, or quit (the `replay` command) */
  from: 'history' | 'command';
  playing: boolean;
  speed: number;
  positionMs: number;
  durationMs: number;
  idleCapMs: number;
  /** the timeline, each mark with its play time */
  marks: (TimelineMark & { playMs: number })[];
  /** the last mark at or before the position (-1: none) */
  markIndex: number;
  screen: StyledRow[];
  cursor: CursorInfo | null;
  cols: number;
  rows: number;
  /** the lane may still be recording (not closed): the end moves */
  live: boolean;
}

export interface ReplaySlice {
  history: HistoryState;
  replay: ReplayView | null;
}

export function createReplaySlice(): ReplaySlice {
  return { history: { entries: [], selected: 0, error: null }, replay: null };
}

export interface ReplayActions {
  /** the service the history and the player read (default: the store of the supervisor's repo) */
  setReplayService(service: ReplayService): void;
  openHistory(): Promise<void>;
  historyMove(delta: number): void;
  historyOpen(): Promise<void>;
  openReplay(laneId: number, from: ReplayView['from'], opts?: { idleCapMs?: number; play?: boolean }): Promise<void>;
  replayToggle(): void;
  replaySeek(deltaMs: number): Promise<void>;
  replaySeekTo(where: 'start' | 'end'): Promise<void>;
  replayMark(dir: 1 | -1): Promise<void>;
  replaySpeed(dir: 1 | -1): void;
  replaySwitchLane(dir: 1 | -1): Promise<void>;
  closeReplay(): void;
}

type Store = StoreApi<AppState>;

export function createReplayActions(
  store: Store,
  supervisor: SupervisorApi,
  flash: (text: string, kind?: Flash['kind']) => void,
): ReplayActions {
  const get = store.getState;
  const set = store.setState;
  let service: ReplayService | null = null;
  let player: ReplayPlayer | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;
  let ticks = 0;
  let busy = false;

  async function getService(): Promise<ReplayService> {
    if (service) return service;
    // Loaded on first use, so the dashboard does not pay for the replay code at start.
    const [{ resolveRepo, dbFile }, { createReplayService }] = await Promise.all([
      import('../../lanes/config/paths.js'),
      import('../replay/service.js'),
    ]);
    const { stateDir } = await resolveRepo(supervisor.repoRoot);
    service = createReplayService(dbFile(stateDir));
    return service;
  }

  const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

  /** Copies what the player shows into the store. */
  function publish(patch: Partial<ReplayView> = {}): void {
    const r = get().replay;
    if (!r || !player) return;
    const size = player.size;
    set({
      replay: {
        ...r,
        positionMs: player.positionMs,
        durationMs: player.durationMs,
        marks: player.marks.map((m) => ({ ...m, playMs: player!.playTimeOf(m.tMs) })),
        markIndex: player.markIndex(),
        screen: player.screenStyled(),
        cursor: player.cursor(),
        cols: size.cols,
        rows: size.rows,
        outcome: player.recording.closure?.outcome ?? null,
        live: player.lane.closedAt === null,
        ...patch,
      },
    });
  }

  function stopTimer(): void {
    if (timer) clearInterval(timer);
    timer = null;
  }

  function startTimer(): void {
    if (timer) return;
    timer = setInterval(() => void tick(), TICK_MS);
    timer.unref?.();
  }

  async function tick(): Promise<void> {
    const r = get().replay;
    if (!r || !player || busy) return;
    busy = true;
    try {
      ticks++;
      // a lane still recording: pick up what was written since, once a second
      if (r.live && ticks % 10 === 0) player.refresh();
      if (!r.playing) {
        if (r.live && ticks % 10 === 0) publish();
        return;
      }
      const next = player.positionMs + TICK_MS * r.speed;
      await player.seek(next);
      const atEnd = player.positionMs >= player.durationMs;
      publish(atEnd && !r.live ? { playing: false } : {});
    } catch (err) {
      flash(`replay: ${errorText(err)}`, 'error');
    } finally {
      busy = false;
    }
  }

  async function run(what: string, fn: (p: ReplayPlayer) => Promise<unknown>): Promise<void> {
    if (!player) return;
    try {
      await fn(player);
      publish();
    } catch (err) {
      flash(`${what}: ${errorText(err)}`, 'error');
    }
  }

  const actions: ReplayActions = {
    setReplayService(s) {
      service = s;
    },

    async openHistory() {
      try {
        const entries = (await getService()).history();
        set({ mode: 'history', history: { entries, selected: 0, error: null } });
      } catch (err) {
        flash(`history: ${errorText(err)}`, 'error');
      }
    },

    historyMove(delta) {
      const h = get().history;
      if (h.entries.length === 0) return;
      const selected = Math.max(0, Math.min(h.entries.length - 1, h.selected + delta));
      set({ history: { ...h, selected } });
    },

    async historyOpen() {
      const h = get().history;
      const entry = h.entries[h.selected];
      if (entry) await actions.openReplay(entry.laneId, 'history');
    },

    async openReplay(laneId, from, opts = {}) {
      let next: ReplayPlayer;
      let lanes: HistoryEntry[];
      try {
        const svc = await getService();
        const idleCapMs = opts.idleCapMs ?? get().replay?.idleCapMs;
        next = svc.openPlayer(laneId, idleCapMs === undefined ? {} : { idleCapMs });
        lanes = svc.lanesOfSession(next.lane.sessionId);
      } catch (err) {
        flash(`replay: ${errorText(err)}`, 'error');
        return;
      }
      player?.dispose();
      player = next;
      const prev = get().replay;
      set({
        mode: 'replay',
        replay: {
          laneId,
          lane: next.lane.name,
          task: next.lane.task,
          sessionId: next.lane.sessionId,
          outcome: null,
          lanes,
          from: prev?.from ?? from,
          playing: opts.play ?? false,
          speed: prev?.speed ?? 1,
          positionMs: 0,
          durationMs: 0,
          idleCapMs: next.idleCapMs,
          marks: [],
          markIndex: -1,
          screen: [],
          cursor: null,
          cols: next.size.cols,
          rows: next.size.rows,
          live: next.lane.closedAt === null,
        },
      });
      await run('replay', (p) => p.seek(0));
      startTimer();
    },

    replayToggle() {
      const r = get().replay;
      if (!r || !player) return;
      const restart = !r.playing && player.positionMs >= player.durationMs && !r.live;
      set({ replay: { ...r, playing: !r.playing } });
      if (restart) void run('replay', (p) => p.seek(0));
    },

    replaySeek: (deltaMs) => run('seek', (p) => p.step(deltaMs)),

    replaySeekTo: (where) => run('seek', (p) => p.seek(where === 'start' ? 0 : p.durationMs)),

    async replayMark(dir) {
      await run('jump', async (p) => {
        if (!(await p.jumpMark(dir))) flash(dir > 0 ? 'no later event' : 'no earlier event', 'warn');
      });
    },

    replaySpeed(dir) {
      const r = get().replay;
      if (!r) return;
      const i = REPLAY_SPEEDS.findIndex((s) => s >= r.speed);
      const speed = REPLAY_SPEEDS[Math.max(0, Math.min(REPLAY_SPEEDS.length - 1, (i < 0 ? 2 : i) + dir))];
      set({ replay: { ...r, speed } });
    },

    async replaySwitchLane(dir) {
      const r = get().replay;
      if (!r || r.lanes.length < 2) return;
      const i = r.lanes.findIndex((l) => l.laneId === r.laneId);
      const next = r.lanes[(i + dir + r.lanes.length) % r.lanes.length];
      await actions.openReplay(next.laneId, r.from, { play: r.playing });
    },

    closeReplay() {
      const r = get().replay;
      stopTimer();
      player?.dispose();
      player = null;
      if (r?.from === 'command') {
        set({ replay: null, request: { ...get().request, quit: true } });
        return;
      }
      set({ replay: null, mode: r ? 'history' : 'none' });
    },
  };
  return actions;
}

/** The replay position as m:ss.t */
export function formatPlayTime(ms: number): string {
  const t = Math.max(0, Math.floor(ms / 100));
  const tenths = t % 10;
  const s = Math.floor(t / 10);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}.${tenths}` : `${m}:${ss}.${tenths}`;
}
