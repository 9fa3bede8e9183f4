/**
 * Every transition of the dashboard state, as plain functions callable outside React. Actions
 * that reach the engine call the SupervisorApi and turn a refusal (ActionError) into the flash
 * line instead of throwing.
 */
import type { StoreApi } from 'zustand/vanilla';
import { LANE_NAME_RULE, validateLaneName } from '../../lanes/lane/names.js';
import { emptyNewLaneForm } from './slices.js';
import { createLearningsActions, type LearningsActions } from './learningsSlice.js';
import { createReplayActions, type ReplayActions } from './replaySlice.js';
import { anyBusy, focusedLane, isBusy, isLive } from './selectors.js';
import { NEW_LANE_FIELDS } from './types.js';
import type { AppState, Flash, LaneSnapshot, Mode, RejectMode, StyledRow, SupervisorApi } from './types.js';

export interface AppActions extends LearningsActions, ReplayActions {
  /** pull lane snapshots (and the focused lane's screen) from the supervisor */
  refresh(): void;
  moveFocus(delta: number): void;
  focusLane(name: string): void;
  setSize(cols: number, rows: number): void;
  setPaneSize(cols: number, rows: number): void;
  flash(text: string, kind?: Flash['kind']): void;
  clearFlash(): void;
  setMode(mode: Mode): void;
  /** back to the dashboard from any overlay */
  closeOverlay(): void;
  openHelp(): void;
  scroll(target: 'review' | 'viewer' | 'help', delta: number | 'top' | 'bottom'): void;
  /** a pane that knows how many lines it has puts the clamped offset back */
  setScroll(target: 'review' | 'viewer' | 'help', offset: number): void;
  /** printable text typed into the field that has focus */
  typeText(text: string): void;
  backspace(): void;

  openNewLaneForm(): void;
  formField(delta: number): void;
  formChoice(delta: number): void;
  submitNewLane(): Promise<void>;

  requestAttach(): void;
  /** the host calls this after detaching */
  attachDone(message?: string): void;
  handoff(): Promise<void>;
  loadReview(name?: string): Promise<void>;
  approve(): Promise<void>;
  confirmYes(): Promise<void>;
  openReject(): void;
  rejectNext(): void;
  rejectChoose(mode: RejectMode): void;
  submitReject(mode?: RejectMode): Promise<void>;
  openDiff(): void;
  openGateOutput(): void;
  rerunGates(): Promise<void>;
  requestStop(): void;
  resume(): Promise<void>;
  openLearning(): void;
  submitLearning(): Promise<void>;
  requestQuit(): void;
  quitNow(): void;
}

type Store = StoreApi<AppState>;

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function createActions(store: Store, supervisor: SupervisorApi, now: () => number = Date.now): AppActions {
  const get = store.getState;
  const set = store.setState;

  const flash = (text: string, kind: Flash['kind'] = 'info'): void => set({ flash: { text, kind, at: now() } });

  /** Runs an engine call; a refusal goes to the flash line. Returns false when it failed. */
  async function guard(what: string, fn: () => Promise<void>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (err) {
      flash(`${what}: ${errorText(err)}`, 'error');
      return false;
    } finally {
      actions.refresh();
    }
  }

  function needFocused(): LaneSnapshot | undefined {
    const lane = focusedLane(get());
    if (!lane) flash('no lane selected', 'warn');
    return lane;
  }

  function readScreen(name: string): { screen: StyledRow[]; cursor: AppState['cursor'] } {
    try {
      return { screen: supervisor.screenStyled(name), cursor: supervisor.cursor(name) };
    } catch {
      return { screen: [], cursor: null };
    }
  }

  /** Keep the focused live lane's pty at the focus pane's size, so its screen fits the pane. */
  function fitFocusedLane(s: AppState): void {
    const lane = focusedLane(s);
    if (!lane || !isLive(lane.state) || s.request.attach) return;
    const { cols, rows } = s.paneSize;
    if (cols < 10 || rows < 3 || (lane.cols === cols && lane.rows === rows)) return;
    try {
      supervisor.resize(lane.name, cols, rows);
    } catch {
      // a lane that just exited cannot be resized; the next refresh shows its new state
    }
  }

  const learningsActions = createLearningsActions(store, supervisor, flash);

  const actions: AppActions = {
    ...learningsActions,
    ...createReplayActions(store, supervisor, flash),

    refresh() {
      const s = get();
      let lanes: LaneSnapshot[];
      try {
        lanes = supervisor.listLanes();
      } catch (err) {
        flash(`cannot list lanes: ${errorText(err)}`, 'error');
        return;
      }
      const patch: Partial<AppState> = {};
      if (!sameJson(lanes, s.lanes)) patch.lanes = lanes;
      let focused = s.focused;
      if (!focused || !lanes.some((l) => l.name === focused)) {
        focused = lanes[0]?.name ?? null;
        if (focused !== s.focused) patch.focused = focused;
      }
      if (focused) {
        const { screen, cursor } = readScreen(focused);
        if (focused !== s.screenLane || !sameJson(screen, s.screen)) {
          patch.screen = screen;
          patch.screenLane = focused;
        }
        if (!sameJson(cursor, s.cursor)) patch.cursor = cursor;
      } else if (s.screenLane !== null) {
        patch.screen = [];
        patch.screenLane = null;
        patch.cursor = null;
      }
      if (Object.keys(patch).length > 0) {
        patch.refreshedAt = now();
        set(patch);
      }
      const after = get();
      fitFocusedLane(after);
      const lane = focusedLane(after);
      // The review of a lane awaiting approval is loaded on demand: when it gets focus or
      // reaches review, and again when its head or gate verdicts change (gateSummary moves).
      if (lane && lane.state === 'awaiting-approval') {
        const r = after.review;
        if (!r.loading && (r.lane !== lane.name || (r.info === null && r.error === null)))
          void actions.loadReview(lane.name);
      }
    },

    moveFocus(delta) {
      const s = get();
      if (s.lanes.length === 0) return;
      const i = Math.max(
        0,
        s.lanes.findIndex((l) => l.name === s.focused),
      );
      const next = Math.min(s.lanes.length - 1, Math.max(0, i + delta));
      actions.focusLane(s.lanes[next].name);
    },

    focusLane(name) {
      if (get().focused === name) return;
      set({ focused: name, scroll: { ...get().scroll, review: 0 } });
      actions.refresh();
    },

    setSize(cols, rows) {
      const s = get().size;
      if (s.cols !== cols || s.rows !== rows) set({ size: { cols, rows } });
    },

    setPaneSize(cols, rows) {
      const s = get().paneSize;
      if (s.cols === cols && s.rows === rows) return;
      set({ paneSize: { cols, rows } });
      fitFocusedLane(get());
    },

    flash,
    clearFlash: () => set({ flash: null }),
    setMode: (mode) => set({ mode }),
    closeOverlay: () => set({ mode: 'none', confirm: null, reject: null }),
    openHelp: () => set({ mode: 'help', scroll: { ...get().scroll, help: 0 } }),

    scroll(target, delta) {
      const s = get();
      const cur = s.scroll[target];
      const next = delta === 'top' ? 0 : delta === 'bottom' ? Number.MAX_SAFE_INTEGER : Math.max(0, cur + delta);
      // the component clamps the upper bound, it knows how many lines there are
      set({ scroll: { ...s.scroll, [target]: next } });
    },

    setScroll(target, offset) {
      const s = get();
      if (s.scroll[target] !== offset) set({ scroll: { ...s.scroll, [target]: offset } });
    },

    typeText(text) {
      const s = get();
      const clean = text.replace(/[\x00-\x1f\x7f]/g, '');
      if (!clean) return;
      if (s.mode === 'new-lane-form') {
        const f = s.newLane;
        if (f.field === 'profile') return;
        const value = f[f.field] + clean;
        set({ newLane: { ...f, [f.field]: value, errors: { ...f.errors, [f.field]: undefined } } });
      } else if (s.mode === 'reject-form' && s.reject?.step === 'reason') {
        set({ reject: { ...s.reject, reason: s.reject.reason + clean, error: null } });
      } else if (s.mode === 'learning-input') {
        set({ learning: { ...s.learning, text: s.learning.text + clean } });
      } else if (s.mode === 'learnings') {
        learningsActions.typeLearningsText(clean);
      }
    },

    backspace() {
      const s = get();
      const cut = (v: string): string => Array.from(v).slice(0, -1).join('');
      if (s.mode === 'new-lane-form') {
        const f = s.newLane;
        if (f.field === 'profile') return;
        set({ newLane: { ...f, [f.field]: cut(f[f.field]) } });
      } else if (s.mode === 'reject-form' && s.reject?.step === 'reason') {
        set({ reject: { ...s.reject, reason: cut(s.reject.reason) } });
      } else if (s.mode === 'learning-input') {
        set({ learning: { ...s.learning, text: cut(s.learning.text) } });
      } else if (s.mode === 'learnings') {
        learningsActions.learningsBackspace();
      }
    },

    openNewLaneForm() {
      const s = get();
      set({ mode: 'new-lane-form', newLane: emptyNewLaneForm(s.baseBranch) });
    },

    formField(delta) {
      const f = get().newLane;
      const i = NEW_LANE_FIELDS.indexOf(f.field);
      const n = NEW_LANE_FIELDS.length;
      set({ newLane: { ...f, field: NEW_LANE_FIELDS[(i + delta + n) % n] } });
    },

    formChoice(delta) {
      const s = get();
      const n = s.profiles.length;
      if (n === 0) return;
      set({
        newLane: {
          ...s.newLane,
          profile: (s.newLane.profile + delta + n) % n,
          errors: { ...s.newLane.errors, profile: undefined },
        },
      });
    },

    async submitNewLane() {
      const s = get();
      const f = s.newLane;
      if (f.submitting) return;
      const errors: NewLaneFormStateErrors = {};
      const name = f.name.trim();
      if (!name) errors.name = `a name is required: ${LANE_NAME_RULE}`;
      else {
        try {
          validateLaneName(name);
        } catch {
          errors.name = LANE_NAME_RULE;
        }
        if (!errors.name && s.lanes.some((l) => l.name === name)) errors.name = `a lane named "${name}" exists already`;
      }
      const profile = s.profiles[f.profile];
      if (!profile) errors.profile = s.profiles.length === 0 ? 'no profiles are loaded' : 'choose a profile';
      if (!f.task.trim()) errors.task = 'describe the task for the agent';
      if (Object.keys(errors).length > 0) {
        const first = NEW_LANE_FIELDS.find((k) => errors[k]) ?? f.field;
        set({ newLane: { ...f, errors, field: first } });
        return;
      }
      set({ newLane: { ...f, errors: {}, submitting: true } });
      try {
        await supervisor.newLane({
          name,
          profile: profile as string,
          task: f.task.trim(),
          base: f.base.trim() || undefined,
        });
        set({ mode: 'none', focused: name, newLane: emptyNewLaneForm(get().baseBranch, f.profile) });
        flash(`lane ${name} created`);
      } catch (err) {
        // keep the form open with what was typed; the engine's refusal shows inline
        const msg = errorText(err);
        const field = /base|branch/i.test(msg) ? 'base' : /profile/i.test(msg) ? 'profile' : 'name';
        set({ newLane: { ...get().newLane, submitting: false, errors: { [field]: msg }, field } });
      }
      actions.refresh();
    },

    requestAttach() {
      const lane = needFocused();
      if (!lane) return;
      set({ request: { ...get().request, attach: lane.name } });
    },

    attachDone(message) {
      set({ request: { ...get().request, attach: null }, mode: 'none' });
      if (message) flash(message);
      actions.refresh();
    },

    async handoff() {
      const lane = needFocused();
      if (!lane) return;
      if (await guard(`hand off ${lane.name}`, () => supervisor.handoff(lane.name, 'operator')))
        flash(`${lane.name} handed off: gates running`);
    },

    async loadReview(name) {
      const lane = name ?? get().focused;
      if (!lane) return;
      set({
        review: { lane, info: get().review.lane === lane ? get().review.info : null, loading: true, error: null },
      });
      try {
        const info = await supervisor.review(lane);
        if (get().review.lane === lane) set({ review: { lane, info, loading: false, error: null } });
      } catch (err) {
        if (get().review.lane === lane) set({ review: { lane, info: null, loading: false, error: errorText(err) } });
      }
    },

    async approve() {
      const lane = needFocused();
      if (!lane) return;
      let r = get().review;
      if (r.lane !== lane.name || !r.info) {
        await actions.loadReview(lane.name);
        r = get().review;
      }
      const info = r.info;
      if (!info) {
        flash(`approve ${lane.name}: ${r.error ?? 'review not available'}`, 'error');
        return;
      }
      const bad = info.verdicts.filter((v) => v.required && (v.status !== 'PASS' || v.stale));
      if (!info.requiredPassed || bad.length > 0) {
        const what =
          bad.map((v) => `${v.gate} ${v.stale ? 'stale' : v.status}`).join(', ') || 'required gates did not pass';
        set({
          mode: 'confirm-approve',
          confirm: {
            lane: lane.name,
            message: `Required gates failed or are stale (${what}). Approve ${lane.name} anyway?`,
          },
        });
        return;
      }
      await doApprove(lane.name, false);
    },

    async confirmYes() {
      const s = get();
      const c = s.confirm;
      const mode = s.mode;
      set({ mode: 'none', confirm: null });
      if (mode === 'confirm-quit') return actions.quitNow();
      if (!c?.lane) return;
      const lane = c.lane;
      if (mode === 'confirm-stop') {
        if (await guard(`stop ${lane}`, () => supervisor.stop(lane))) flash(`${lane} stopped`);
      } else if (mode === 'confirm-approve') {
        await doApprove(lane, true);
      }
    },

    openReject() {
      const lane = needFocused();
      if (!lane) return;
      set({
        mode: 'reject-form',
        reject: { lane: lane.name, step: 'reason', reason: '', mode: 'rework', error: null },
      });
    },

    rejectNext() {
      const r = get().reject;
      if (!r) return;
      if (!r.reason.trim()) {
        set({ reject: { ...r, error: 'a reason is required: it is stored and given to the agent' } });
        return;
      }
      set({ reject: { ...r, step: 'mode', error: null } });
    },

    rejectChoose(mode) {
      const r = get().reject;
      if (r) set({ reject: { ...r, mode } });
    },

    async submitReject(mode) {
      const r = get().reject;
      if (!r) return;
      if (!r.reason.trim()) {
        set({ reject: { ...r, step: 'reason', error: 'a reason is required: it is stored and given to the agent' } });
        return;
      }
      const m = mode ?? r.mode;
      set({ mode: 'none', reject: null });
      const ok = await guard(`reject ${r.lane}`, () =>
        supervisor.reject(r.lane, { reason: r.reason.trim(), mode: m, by: 'operator' }),
      );
      if (ok) flash(m === 'rework' ? `${r.lane} sent back for rework` : `${r.lane} discarded`);
    },

    openDiff() {
      const lane = needFocused();
      if (!lane) return;
      set({ mode: 'diff', scroll: { ...get().scroll, viewer: 0 } });
      void actions.loadReview(lane.name);
    },

    openGateOutput() {
      const lane = needFocused();
      if (!lane) return;
      set({ mode: 'gate-output', scroll: { ...get().scroll, viewer: 0 } });
      void actions.loadReview(lane.name);
    },

    async rerunGates() {
      const lane = needFocused();
      if (!lane) return;
      if (await guard(`re-run gates of ${lane.name}`, () => supervisor.rerunGates(lane.name))) {
        flash(`gates of ${lane.name} re-run`);
        await actions.loadReview(lane.name);
      }
    },

    requestStop() {
      const lane = needFocused();
      if (!lane) return;
      set({
        mode: 'confirm-stop',
        confirm: { lane: lane.name, message: `Stop lane ${lane.name}? Its agent is ended; the worktree stays.` },
      });
    },

    async resume() {
      const lane = needFocused();
      if (!lane) return;
      if (await guard(`resume ${lane.name}`, () => supervisor.resume(lane.name))) flash(`${lane.name} resumed`);
    },

    openLearning() {
      set({ mode: 'learning-input', learning: { text: '', lane: get().focused } });
    },

    async submitLearning() {
      const { text, lane } = get().learning;
      if (!text.trim()) {
        flash('type the learning first', 'warn');
        return;
      }
      set({ mode: 'none', learning: { text: '', lane: null } });
      if (await guard('add learning', () => supervisor.addLearning(text.trim(), lane ?? undefined)))
        flash('learning stored');
    },

    requestQuit() {
      const busy = get().lanes.filter((l) => isBusy(l.state));
      if (anyBusy(get().lanes)) {
        set({
          mode: 'confirm-quit',
          confirm: {
            lane: null,
            message: `${busy.length} lane${busy.length === 1 ? ' is' : 's are'} still working. Quit and stop every agent?`,
          },
        });
        return;
      }
      actions.quitNow();
    },

    quitNow() {
      set({ request: { ...get().request, quit: true }, mode: 'none', confirm: null });
    },
  };

  async function doApprove(lane: string, override: boolean): Promise<void> {
    let needsOverride = false;
    const ok = await guard(`approve ${lane}`, async () => {
      try {
        await supervisor.approve(lane, { override, by: 'operator' });
      } catch (err) {
        if (
          !override &&
          typeof err === 'object' &&
          err !== null &&
          (err as { code?: string }).code === 'needs-override'
        ) {
          needsOverride = true;
          return;
        }
        throw err;
      }
    });
    if (needsOverride) {
      set({
        mode: 'confirm-approve',
        confirm: { lane, message: `Required gates of ${lane} did not pass. Approve anyway?` },
      });
      return;
    }
    if (ok) flash(`${lane} approved${override ? ' (override)' : ''}: merging`);
  }

  return actions;
}

type NewLaneFormStateErrors = AppState['newLane']['errors'];
