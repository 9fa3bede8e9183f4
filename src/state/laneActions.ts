/**
 * Actions on lanes: focus, attach, handoff, stop, remove, resume, the new-lane form, quitting
 * (an engine client leaves the lanes running; an in-process console stops them) and the engine
 * going away. Stop, remove and quit while lanes work only ask (a confirm overlay);
 * the confirmed action runs in reviewActions.ts's confirmYes.
 */
import { LANE_NAME_RULE, validateLaneName } from '../../lanes/lane/names.js';
import type { ActionContext } from './context.js';
import { errorText } from './context.js';
import { isBusy, isFinal } from './selectors.js';
import { splitLaneName } from './memberNames.js';
import { emptyNewLaneForm } from './slices.js';
import { NEW_LANE_FIELDS, NO_OVERLAY, type AppState, type NewLaneFormState } from './types.js';

export interface LaneActions {
  moveFocus(delta: number): void;
  focusLane(name: string): void;
  requestAttach(): void;
  /** the host calls this after detaching */
  attachDone(message?: string): void;
  handoff(): Promise<void>;
  /** asks first (confirm overlay) */
  requestStop(): void;
  /** asks first (confirm overlay) */
  requestRemove(): void;
  resume(): Promise<void>;
  openNewLaneForm(): void;
  formField(delta: number): void;
  formChoice(delta: number): void;
  submitNewLane(): Promise<void>;
  /**
   * Asks first: an engine client always (its lanes keep running; stopping them is a second
   * choice), an in-process console while lanes are working. `via` ctrl-c arms the second ctrl-c.
   */
  requestQuit(via?: 'key' | 'ctrl-c'): void;
  quitNow(): void;
  /** quit, and stop every lane and the engine first (the quit dialog's second choice) */
  quitStopEngine(): void;
  /** ctrl-c in a confirm dialog: a second ctrl-c within a second of the one that opened quit quits; else back */
  confirmCtrlC(): void;
  /** the host lost the engine without a bye: the engine-gone overlay */
  engineGone(message: string): void;
  /** the engine-gone overlay's r: the host starts the engine again */
  restartEngine(): void;
  /** A: the host ends this view and opens the other (this repo's dashboard, or every engine's) */
  requestSwitchView(): void;
  /** the host started the engine again (message: null) or failed to (the reason) */
  engineBack(error: string | null, notes?: string[]): void;
}

/** The quit dialog's text for an engine client: how many lanes keep running, and how to come back. */
export function keepRunningMessage(alive: number): string {
  const lanes = alive === 1 ? '1 lane keeps' : `${alive} lanes keep`;
  return `${lanes} running; \`ao-console\` to come back, \`ao-console engine stop\` to stop them`;
}

/**
 * The engine a new lane of a dashboard over several goes to by default: the selected lane's when
 * it is connected, else the first connected one; null for a dashboard of one engine (or none connected).
 */
export function newLaneMember(s: Pick<AppState, 'members' | 'focused'>): string | null {
  if (!s.members) return null;
  const focusedKey = s.focused ? (splitLaneName(s.focused)?.key ?? null) : null;
  const connected = s.members.filter((m) => m.state === 'connected');
  return (connected.find((m) => m.key === focusedKey) ?? connected[0])?.key ?? null;
}

export function createLaneActions(ctx: ActionContext): LaneActions {
  const { get, set, supervisor, flash } = ctx;

  /** Changes the new-lane form when it is open. */
  const patchForm = (patch: Partial<NewLaneFormState>): void => {
    const o = ctx.overlay('new-lane-form');
    if (o) set({ overlay: { ...o, form: { ...o.form, ...patch } } });
  };

  const actions: LaneActions = {
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
      set({ focused: name, scroll: { ...get().scroll, review: 0 }, scrollback: null });
      ctx.refresh();
    },

    requestAttach() {
      const lane = ctx.needFocused();
      if (!lane) return;
      set({ request: { ...get().request, attach: lane.name } });
    },

    attachDone(message) {
      set({ request: { ...get().request, attach: null }, overlay: NO_OVERLAY });
      if (message) flash(message);
      ctx.refresh();
    },

    async handoff() {
      const lane = ctx.needFocused();
      if (!lane) return;
      if (await ctx.guard(`hand off ${lane.name}`, () => supervisor.handoff(lane.name, 'operator')))
        flash(`${lane.name} handed off: gates running`);
    },

    requestStop() {
      const lane = ctx.needFocused();
      if (!lane) return;
      set({
        overlay: {
          kind: 'confirm',
          action: 'stop',
          lane: lane.name,
          message: `Stop lane ${lane.name}? Its agent (or its running gates) is ended; the worktree stays and the lane can be resumed.`,
        },
      });
    },

    requestRemove() {
      const lane = ctx.needFocused();
      if (!lane) return;
      set({
        overlay: {
          kind: 'confirm',
          action: 'remove',
          lane: lane.name,
          message: `Remove lane ${lane.name}? Whatever runs is stopped, its work (uncommitted files too) is kept under refs/ao/archive/${lane.name}/, its worktree and branch are removed and the name is free again.`,
        },
      });
    },

    async resume() {
      const lane = ctx.needFocused();
      if (!lane) return;
      if (await ctx.guard(`resume ${lane.name}`, () => supervisor.resume(lane.name))) flash(`${lane.name} resumed`);
    },

    openNewLaneForm() {
      // the default profile, else the first whose command is here, else the first
      const { profiles, defaultProfile, profileMissing = {}, baseBranch } = get();
      const chosen = defaultProfile ? profiles.indexOf(defaultProfile) : -1;
      const runnable = profiles.findIndex((p) => !profileMissing[p]);
      const profile = chosen >= 0 ? chosen : Math.max(0, runnable);
      const form = emptyNewLaneForm(baseBranch, profile);
      // several engines: the name starts with the engine it goes to (the selected lane's), `key/`
      const key = newLaneMember(get());
      set({ overlay: { kind: 'new-lane-form', form: key ? { ...form, name: `${key}/` } : form } });
    },

    formField(delta) {
      const o = ctx.overlay('new-lane-form');
      if (!o) return;
      const i = NEW_LANE_FIELDS.indexOf(o.form.field);
      const n = NEW_LANE_FIELDS.length;
      patchForm({ field: NEW_LANE_FIELDS[(i + delta + n) % n] });
    },

    formChoice(delta) {
      const o = ctx.overlay('new-lane-form');
      const n = get().profiles.length;
      if (!o || n === 0) return;
      patchForm({ profile: (o.form.profile + delta + n) % n, errors: { ...o.form.errors, profile: undefined } });
    },

    async submitNewLane() {
      const s = get();
      const f = ctx.overlay('new-lane-form')?.form;
      if (!f || f.submitting) return;
      const errors: NewLaneFormState['errors'] = {};
      const name = f.name.trim();
      // several engines: `key/lane` starts it in that engine (a plain name: the first connected one)
      const slash = s.members ? name.indexOf('/') : -1;
      const plain = slash >= 0 ? name.slice(slash + 1) : name;
      if (slash >= 0 && !s.members?.some((m) => m.key === name.slice(0, slash)))
        errors.name = `no engine named "${name.slice(0, slash)}" (engines: ${s.members?.map((m) => m.key).join(', ')})`;
      else if (!plain) errors.name = `a name is required: ${LANE_NAME_RULE}`;
      else {
        try {
          validateLaneName(plain);
        } catch (err) {
          // names the rule broken, then the whole rule
          errors.name = (err as Error).message.replace(/^invalid lane name "[^"]*": /, '');
        }
        // a merged, discarded or removed lane's name is free again
        if (!errors.name && s.lanes.some((l) => l.name === name && !isFinal(l.state)))
          errors.name = `a lane named "${name}" exists already`;
      }
      const profile = s.profiles[f.profile];
      if (!profile) errors.profile = s.profiles.length === 0 ? 'no profiles are loaded' : 'choose a profile';
      // no task check here: a profile that takes none (shell) needs none; the engine refuses an
      // empty task for the others, and that refusal shows on the task field (below)
      if (Object.keys(errors).length > 0) {
        const first = NEW_LANE_FIELDS.find((k) => errors[k]) ?? f.field;
        patchForm({ errors, field: first });
        return;
      }
      patchForm({ errors: {}, submitting: true });
      try {
        const created = await supervisor.newLane({
          name,
          profile: profile as string,
          task: f.task.trim(),
          base: f.base.trim() || undefined,
        });
        // the engine's name for it (several engines: a plain name comes back as key/name)
        const shown = typeof created?.name === 'string' ? created.name : name;
        set({ overlay: NO_OVERLAY, focused: shown });
        flash(`lane ${shown} created`);
      } catch (err) {
        // keep the form open with what was typed; the engine's refusal shows inline
        const msg = errorText(err);
        const field = /base|branch/i.test(msg)
          ? 'base'
          : /task/i.test(msg)
            ? 'task'
            : /profile/i.test(msg)
              ? 'profile'
              : 'name';
        if (ctx.overlay('new-lane-form')) patchForm({ submitting: false, errors: { [field]: msg }, field });
        else flash(`new lane ${name}: ${msg}`, 'error');
      }
      ctx.refresh();
    },

    requestQuit(via = 'key') {
      if (get().lanesOutlive) {
        const alive = get().lanes.filter((l) => l.alive).length;
        set({
          overlay: {
            kind: 'confirm',
            action: 'quit',
            message: `Quit? ${keepRunningMessage(alive)}.`,
            ...(via === 'ctrl-c' ? { ctrlCAt: ctx.now() } : {}),
          },
        });
        return;
      }
      const busy = get().lanes.filter((l) => isBusy(l.state));
      if (busy.length > 0) {
        set({
          overlay: {
            kind: 'confirm',
            action: 'quit',
            message: `${busy.length} lane${busy.length === 1 ? ' is' : 's are'} still working. Quit and stop every agent?`,
            ...(via === 'ctrl-c' ? { ctrlCAt: ctx.now() } : {}),
          },
        });
        return;
      }
      actions.quitNow();
    },

    quitNow() {
      set({ request: { ...get().request, quit: true }, overlay: NO_OVERLAY });
    },

    quitStopEngine() {
      set({ request: { ...get().request, quit: true, stopEngine: true }, overlay: NO_OVERLAY });
    },

    confirmCtrlC() {
      const c = ctx.overlay('confirm');
      if (c?.action === 'quit' && c.ctrlCAt !== undefined && ctx.now() - c.ctrlCAt <= 1000) actions.quitNow();
      else set({ overlay: NO_OVERLAY });
    },

    engineGone(message) {
      set({
        overlay: { kind: 'engine-gone', message, restarting: false },
        request: { ...get().request, attach: null },
      });
    },

    restartEngine() {
      const o = ctx.overlay('engine-gone');
      if (!o || o.restarting) return;
      set({ overlay: { ...o, restarting: true }, request: { ...get().request, restartEngine: true } });
    },

    requestSwitchView() {
      if (get().viewSwitch) set({ request: { ...get().request, switchView: true } });
    },

    engineBack(error, notes = []) {
      const o = ctx.overlay('engine-gone');
      set({ request: { ...get().request, restartEngine: false } });
      if (error !== null) {
        if (o) set({ overlay: { ...o, restarting: false, message: error } });
        return;
      }
      set({ overlay: NO_OVERLAY });
      flash(notes.length > 0 ? `engine started again: ${notes.join('; ')}` : 'engine started again');
      ctx.refresh();
    },
  };
  return actions;
}
