/**
 * The review of a lane: approve (asking first when required gates failed or are stale; a lane with
 * nothing to merge is offered for discard instead), the
 * confirm dialog's yes, the reject form (a reason, then rework or discard), the diff and gate
 * output viewer, and re-running the gates.
 */
import type { ActionContext } from './context.js';
import { NO_OVERLAY, type RejectFormState, type RejectMode } from './types.js';

export interface ReviewActions {
  approve(): Promise<void>;
  /** yes in the confirm dialog: does what it asked about */
  confirmYes(): Promise<void>;
  /** n / esc on a question: back, and for the trust question, what not allowing means */
  confirmNo(): void;
  /** the host recorded (or failed to record) the operator's consent */
  trustDone(message: string, level?: 'info' | 'error'): void;
  openReject(): void;
  rejectNext(): void;
  rejectChoose(mode: RejectMode): void;
  submitReject(mode?: RejectMode): Promise<void>;
  openDiff(): void;
  openGateOutput(): void;
  rerunGates(): Promise<void>;
}

const REASON_REQUIRED = 'a reason is required: it is stored and given to the agent';

/** `quitNow` comes from the lane actions: a confirmed quit. */
export function createReviewActions(ctx: ActionContext, lanes: { quitNow(): void }): ReviewActions {
  const { get, set, supervisor, flash } = ctx;

  const patchReject = (patch: Partial<RejectFormState>): void => {
    const o = ctx.overlay('reject-form');
    if (o) set({ overlay: { ...o, form: { ...o.form, ...patch } } });
  };

  function openViewer(view: 'diff' | 'gate-output'): void {
    const lane = ctx.needFocused();
    if (!lane) return;
    set({ overlay: { kind: 'viewer', view }, scroll: { ...get().scroll, viewer: 0 } });
    void ctx.loadReview(lane.name);
  }

  /** A lane with nothing to merge cannot be approved: say so and offer discard (the reject form, on discard). */
  function offerDiscard(lane: string, why: string): void {
    set({
      overlay: {
        kind: 'reject-form',
        form: { lane, step: 'mode', reason: why, mode: 'discard', error: null },
      },
    });
    flash(`${why}: enter discards ${lane}, esc keeps it`, 'warn');
  }

  async function doApprove(lane: string, override: boolean): Promise<void> {
    let needsOverride = false;
    let nothingToMerge: string | null = null;
    const ok = await ctx.guard(`approve ${lane}`, async () => {
      try {
        await supervisor.approve(lane, { override, by: 'operator' });
      } catch (err) {
        const code = typeof err === 'object' && err !== null ? (err as { code?: string }).code : undefined;
        if (!override && code === 'needs-override') {
          needsOverride = true;
          return;
        }
        if (code === 'nothing-to-merge') {
          nothingToMerge = (err as Error).message.replace(/; discard it instead$/, '');
          return;
        }
        throw err;
      }
    });
    if (nothingToMerge !== null) {
      offerDiscard(lane, nothingToMerge);
      return;
    }
    if (needsOverride) {
      set({
        overlay: {
          kind: 'confirm',
          action: 'approve',
          lane,
          message: `Required gates of ${lane} did not pass. Approve anyway?`,
        },
      });
      return;
    }
    if (ok) flash(`${lane} approved${override ? ' (override)' : ''}: queued to merge (validated on base + lane first)`);
  }

  return {
    async approve() {
      const lane = ctx.needFocused();
      if (!lane) return;
      let r = get().review;
      if (r.lane !== lane.name || !r.info) {
        await ctx.loadReview(lane.name);
        r = get().review;
      }
      const info = r.info;
      if (!info) {
        flash(`approve ${lane.name}: ${r.error ?? 'review not available'}`, 'error');
        return;
      }
      if (info.empty) {
        offerDiscard(lane.name, `nothing to merge: lane ${lane.name} has no commits beyond ${info.base}`);
        return;
      }
      const bad = info.verdicts.filter((v) => v.required && (v.status !== 'PASS' || v.stale));
      if (!info.requiredPassed || bad.length > 0) {
        const what =
          bad.map((v) => `${v.gate} ${v.stale ? 'stale' : v.status}`).join(', ') || 'required gates did not pass';
        set({
          overlay: {
            kind: 'confirm',
            action: 'approve',
            lane: lane.name,
            message: `Required gates failed or are stale (${what}). Approve ${lane.name} anyway?`,
          },
        });
        return;
      }
      await doApprove(lane.name, false);
    },

    async confirmYes() {
      const c = ctx.overlay('confirm');
      set({ overlay: NO_OVERLAY });
      if (!c) return;
      if (c.action === 'quit') return lanes.quitNow();
      if (c.action === 'trust') {
        set({ request: { ...get().request, trust: true } });
        return;
      }
      const lane = c.lane;
      if (c.action === 'stop') {
        if (await ctx.guard(`stop ${lane}`, () => supervisor.stop(lane))) flash(`${lane} stopped`);
      } else if (c.action === 'remove') {
        if (await ctx.guard(`remove ${lane}`, () => supervisor.remove(lane)))
          flash(`${lane} removed: its work is kept under refs/ao/archive/${lane}/`);
      } else {
        await doApprove(lane, true);
      }
    },

    confirmNo() {
      const c = ctx.overlay('confirm');
      set({ overlay: NO_OVERLAY });
      if (c?.action === 'trust')
        flash(
          "the repo's commands stay off: gates that run them fail as not run, setup commands fail their lane; `ao-console trust` allows them",
          'warn',
        );
    },

    trustDone(message, level = 'info') {
      set({ request: { ...get().request, trust: false } });
      flash(message, level);
    },

    openReject() {
      const lane = ctx.needFocused();
      if (!lane) return;
      set({
        overlay: {
          kind: 'reject-form',
          form: { lane: lane.name, step: 'reason', reason: '', mode: 'rework', error: null },
        },
      });
    },

    rejectNext() {
      const r = ctx.overlay('reject-form')?.form;
      if (!r) return;
      if (!r.reason.trim()) patchReject({ error: REASON_REQUIRED });
      else patchReject({ step: 'mode', error: null });
    },

    rejectChoose(mode) {
      patchReject({ mode });
    },

    async submitReject(mode) {
      const r = ctx.overlay('reject-form')?.form;
      if (!r) return;
      if (!r.reason.trim()) {
        patchReject({ step: 'reason', error: REASON_REQUIRED });
        return;
      }
      const m = mode ?? r.mode;
      set({ overlay: NO_OVERLAY });
      const ok = await ctx.guard(`reject ${r.lane}`, () =>
        supervisor.reject(r.lane, { reason: r.reason.trim(), mode: m, by: 'operator' }),
      );
      if (ok) flash(m === 'rework' ? `${r.lane} sent back for rework` : `${r.lane} discarded`);
    },

    openDiff: () => openViewer('diff'),
    openGateOutput: () => openViewer('gate-output'),

    async rerunGates() {
      const lane = ctx.needFocused();
      if (!lane) return;
      if (await ctx.guard(`re-run gates of ${lane.name}`, () => supervisor.rerunGates(lane.name))) {
        flash(`gates of ${lane.name} re-run`);
        await ctx.loadReview(lane.name);
      }
    },
  };
}
