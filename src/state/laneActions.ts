/**
 * Actions on lanes: focus, attach, handoff, stop, remove, resume, the new-lane form, and quitting
 * (which stops every lane). Stop, remove and quit while lanes work only ask (a confirm overlay);
 * the confirmed action runs in reviewActions.ts's confirmYes.
 */
import { LANE_NAME_RULE, validateLaneName } from '../../lanes/lane/names.js';
import type { ActionContext } from './context.js';
import { errorText } from './context.js';
import { isBusy, isFinal } from './selectors.js';
import { emptyNewLaneForm } from './slices.js';
import { NEW_LANE_FIELDS, NO_OVERLAY, type NewLaneFormState } from './types.js';

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
  /** asks first while lanes are working */
  requestQuit(): void;
  quitNow(): void;
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
      set({ focused: name, scroll: { ...get().scroll, review: 0 } });
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
      set({ overlay: { kind: 'new-lane-form', form: emptyNewLaneForm(get().baseBranch) } });
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
      if (!name) errors.name = `a name is required: ${LANE_NAME_RULE}`;
      else {
        try {
          validateLaneName(name);
        } catch {
          errors.name = LANE_NAME_RULE;
        }
        // a merged, discarded or removed lane's name is free again
        if (!errors.name && s.lanes.some((l) => l.name === name && !isFinal(l.state)))
          errors.name = `a lane named "${name}" exists already`;
      }
      const profile = s.profiles[f.profile];
      if (!profile) errors.profile = s.profiles.length === 0 ? 'no profiles are loaded' : 'choose a profile';
      if (!f.task.trim()) errors.task = 'describe the task for the agent';
      if (Object.keys(errors).length > 0) {
        const first = NEW_LANE_FIELDS.find((k) => errors[k]) ?? f.field;
        patchForm({ errors, field: first });
        return;
      }
      patchForm({ errors: {}, submitting: true });
      try {
        await supervisor.newLane({
          name,
          profile: profile as string,
          task: f.task.trim(),
          base: f.base.trim() || undefined,
        });
        set({ overlay: NO_OVERLAY, focused: name });
        flash(`lane ${name} created`);
      } catch (err) {
        // keep the form open with what was typed; the engine's refusal shows inline
        const msg = errorText(err);
        const field = /base|branch/i.test(msg) ? 'base' : /profile/i.test(msg) ? 'profile' : 'name';
        if (ctx.overlay('new-lane-form')) patchForm({ submitting: false, errors: { [field]: msg }, field });
        else flash(`new lane ${name}: ${msg}`, 'error');
      }
      ctx.refresh();
    },

    requestQuit() {
      const busy = get().lanes.filter((l) => isBusy(l.state));
      if (busy.length > 0) {
        set({
          overlay: {
            kind: 'confirm',
            action: 'quit',
            message: `${busy.length} lane${busy.length === 1 ? ' is' : 's are'} still working. Quit and stop every agent?`,
          },
        });
        return;
      }
      actions.quitNow();
    },

    quitNow() {
      set({ request: { ...get().request, quit: true }, overlay: NO_OVERLAY });
    },
  };
  return actions;
}
