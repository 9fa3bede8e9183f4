/**
 * The history view (`H`: past lanes with their closure) and the replay player: their actions.
 * The history's list is the ReplaySlice; the player's view is the 'replay' overlay (types.ts).
 * The player itself (src/replay/player.ts) lives outside the state; the store holds what the
 * components draw, refreshed on a timer while playing (10 Hz), never per chunk.
 */
import type { ReplayPlayer } from '../replay/player.js';
import type { ReplayService } from '../replay/service.js';
import type { ActionContext } from './context.js';
import { errorText } from './context.js';
import { focusedLane, pastTodayCounts, recordedKey, scrollbackRows, startOfDay } from './selectors.js';
import { NO_OVERLAY, type HistoryEntry, type ReplayView, type StyledRow } from './types.js';

export const REPLAY_SPEEDS = [0.25, 0.5, 1, 2, 4, 8, 16] as const;
export const TICK_MS = 100;

export interface ReplayActions {
  /** the service the history and the player read (default: the store of the supervisor's repo) */
  setReplayService(service: ReplayService): void;
  /** today's outcomes of earlier sessions' lanes, for the header (quietly nothing without a store) */
  loadTodayPast(): Promise<void>;
  /**
   * Page up (dir -1: older) or down through the focused lane's scrollback, read back from its
   * recording on the first page up; down from the bottom is the live screen again.
   */
  scrollbackPage(dir: 1 | -1): Promise<void>;
  /** back to the live screen */
  scrollbackClose(): void;
  /** the last screen of the lane's recording into `recordedScreen` (once per lane and output size) */
  loadRecordedScreen(lane: { id: number; outputBytes: number; name?: string }): Promise<void>;
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

export function createReplayActions(ctx: ActionContext): ReplayActions {
  const { get, set, supervisor, flash } = ctx;
  /** the open player's view, or null */
  const view = (): ReplayView | null => ctx.overlay('replay')?.view ?? null;
  const setView = (v: ReplayView): void => set({ overlay: { kind: 'replay', view: v } });
  let service: ReplayService | null = null;
  let player: ReplayPlayer | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;
  let ticks = 0;
  let busy = false;
  let loadingRecorded: string | null = null;
  /** bumped by setReplayService: an answer from the service before is dropped */
  let generation = 0;

  async function getService(): Promise<ReplayService> {
    if (service) return service;
    // Loaded on first use, so the dashboard does not pay for the replay code at start.
    const [{ resolveRepo, dbFile }, { createReplayService }] = await Promise.all([
      import('../../lanes/config/paths.js'),
      import('../replay/service.js'),
    ]);
    // over several engines, the home engine's store; a remote's is on its host (replay it there)
    const store = supervisor.historyStore?.();
    if (store && 'remote' in store)
      throw new Error(
        `the recordings of ${store.remote} are on its host: \`ao-console --remote ${store.remote} replay\` plays them there`,
      );
    const stateDir = store?.stateDir ?? (await resolveRepo(supervisor.repoRoot)).stateDir;
    service = createReplayService(dbFile(stateDir));
    return service;
  }

  /** the stores of other engines' lanes (a dashboard over several engines), by state dir */
  const otherServices = new Map<string, ReplayService>();

  /**
   * The store a lane's recording is in: the supervisor's repo's, or, over several engines
   * (MultiSupervisor.stateDirOf), its own engine's; a remote lane's is on its host.
   */
  async function serviceOf(name: string | undefined): Promise<ReplayService> {
    if (name === undefined || !supervisor.stateDirOf) return getService();
    const stateDir = supervisor.stateDirOf(name);
    if (stateDir === null) throw new Error(`${name}'s recording is in its engine's store, not one on this machine`);
    const known = otherServices.get(stateDir);
    if (known) return known;
    const [{ dbFile }, { createReplayService }] = await Promise.all([
      import('../../lanes/config/paths.js'),
      import('../replay/service.js'),
    ]);
    const made = createReplayService(dbFile(stateDir));
    otherServices.set(stateDir, made);
    return made;
  }

  /** Copies what the player shows into the store. */
  function publish(patch: Partial<ReplayView> = {}): void {
    const r = view();
    if (!r || !player) return;
    const size = player.size;
    setView({
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
    const r = view();
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
      // what the previous service could not read may be there now
      generation++;
      loadingRecorded = null;
      if (get().recordedScreen) set({ recordedScreen: null });
    },

    async loadRecordedScreen(lane) {
      const key = recordedKey(lane);
      if (get().recordedScreen?.key === key || loadingRecorded === key) return;
      loadingRecorded = key;
      const gen = generation;
      let screen: StyledRow[] = [];
      try {
        const p = (await serviceOf(lane.name)).openPlayer(lane.id);
        try {
          await p.seek(p.durationMs);
          screen = p.screenStyled();
        } finally {
          p.dispose();
        }
      } catch {
        // nothing recorded (or no store): remembered as empty, not asked again
      }
      if (gen !== generation) {
        // the service changed meanwhile: ask the new one (unless that is under way already)
        if (loadingRecorded === null) await actions.loadRecordedScreen(lane);
        return;
      }
      loadingRecorded = null;
      set({ recordedScreen: { key, screen } });
    },

    async scrollbackPage(dir) {
      const s = get();
      const lane = focusedLane(s);
      if (!lane) return;
      const view = scrollbackRows(s.paneSize.rows);
      const page = Math.max(1, view - 1); // one line of the last page stays in sight
      const cur = s.scrollback?.lane === lane.name ? s.scrollback : null;
      if (cur?.loading) return;
      if (cur) {
        if (dir > 0 && cur.offset === 0) return actions.scrollbackClose();
        const max = Math.max(0, cur.rows.length - view);
        set({ scrollback: { ...cur, offset: Math.min(max, Math.max(0, cur.offset - dir * page)) } });
        return;
      }
      if (dir > 0) return; // live already: nothing below
      set({ scrollback: { lane: lane.name, rows: [], offset: 0, at: ctx.now(), loading: true } });
      let rows: string[];
      try {
        const p = (await serviceOf(lane.name)).openPlayer(lane.id);
        try {
          rows = await p.history();
        } finally {
          p.dispose();
        }
      } catch (err) {
        if (get().scrollback?.lane === lane.name) set({ scrollback: null });
        flash(`${lane.name}: no scrollback (${errorText(err)})`, 'warn');
        return;
      }
      const now = get().scrollback;
      if (now?.lane !== lane.name || !now.loading) return; // closed, or another lane focused, meanwhile
      while (rows.length > 0 && rows[rows.length - 1] === '') rows.pop();
      if (rows.length <= view) {
        set({ scrollback: null });
        flash(`${lane.name}: nothing above its screen yet`);
        return;
      }
      set({ scrollback: { ...now, rows, loading: false, offset: Math.min(page, rows.length - view) } });
    },

    scrollbackClose() {
      if (get().scrollback) set({ scrollback: null });
    },

    async loadTodayPast() {
      if (!supervisor.pastOutcomes) return;
      const since = startOfDay(ctx.now());
      try {
        set({ todayPast: pastTodayCounts(await supervisor.pastOutcomes(since), since) });
      } catch {
        // the engine could not read its store (or is older than the verb): this session's lanes are counted still
      }
    },

    async openHistory() {
      try {
        const entries = (await getService()).history();
        set({ overlay: { kind: 'history' }, history: { entries, selected: 0, error: null } });
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
        const idleCapMs = opts.idleCapMs ?? view()?.idleCapMs;
        next = svc.openPlayer(laneId, idleCapMs === undefined ? {} : { idleCapMs });
        lanes = svc.lanesOfSession(next.lane.sessionId);
      } catch (err) {
        flash(`replay: ${errorText(err)}`, 'error');
        return;
      }
      player?.dispose();
      player = next;
      const prev = view();
      setView({
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
      });
      await run('replay', (p) => p.seek(0));
      startTimer();
    },

    replayToggle() {
      const r = view();
      if (!r || !player) return;
      const restart = !r.playing && player.positionMs >= player.durationMs && !r.live;
      setView({ ...r, playing: !r.playing });
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
      const r = view();
      if (!r) return;
      const i = REPLAY_SPEEDS.findIndex((s) => s >= r.speed);
      const speed = REPLAY_SPEEDS[Math.max(0, Math.min(REPLAY_SPEEDS.length - 1, (i < 0 ? 2 : i) + dir))];
      setView({ ...r, speed });
    },

    async replaySwitchLane(dir) {
      const r = view();
      if (!r || r.lanes.length < 2) return;
      const i = r.lanes.findIndex((l) => l.laneId === r.laneId);
      const next = r.lanes[(i + dir + r.lanes.length) % r.lanes.length];
      await actions.openReplay(next.laneId, r.from, { play: r.playing });
    },

    closeReplay() {
      const r = view();
      stopTimer();
      player?.dispose();
      player = null;
      if (r?.from === 'command') {
        set({ overlay: NO_OVERLAY, request: { ...get().request, quit: true } });
        return;
      }
      set({ overlay: r ? { kind: 'history' } : NO_OVERLAY });
    },
  };
  return actions;
}
