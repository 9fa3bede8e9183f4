/**
 * One dashboard over several engines (`ao-console --all`, a remote's dashboard): a SupervisorApi
 * made of one RemoteSupervisor per engine ("member"). There is no central store: each member's
 * lanes stay in its engine; this class only routes and renames.
 *
 * - Lane names are `key/lane` (a lane name never holds '/': profiles/names.ts): every method
 *   taking a lane name sends the plain name to that member; every snapshot, event, review,
 *   comment, learning and queue entry coming out carries the prefix.
 * - A member whose connection is lost (`lost`: killed; or a remote's `bye`) is `disconnected`:
 *   its last lanes stay listed (stale), actions on them are refused with the reason, and it is
 *   tried again after 1, 2, 4, 8, 16, then every 30 s (back to 1 s after a good connect). A
 *   local engine that said `bye` (it was stopped) is `stopped`: its lanes leave the list and
 *   it is not retried (reconnectNow, e.g. when the registry lists it again, is).
 * - Verbs that name no lane (learnings, metrics, the merge queue as a whole) go to the member of
 *   the lane the dashboard draws (the last watchScreens call: the focused lane), else to the
 *   first connected member in key order.
 * - shutdown()/disconnect() close every connection and stop every timer; no lane is stopped.
 */
import {
  ActionError,
  type AttachHandle,
  type ConsoleMetrics,
  type OutcomeCount,
  type LearningInfo,
  type MergeQueueInfo,
  type NewComment,
  type NewLaneRequest,
  type RejectMode,
  type ReviewComment,
  type ReviewInfo,
  type SupervisorApi,
  type SupervisorEvent,
} from '../../lanes/supervisor/api.js';
import type { LaneSnapshot, StyledRow } from '../../lanes/lane/types.js';
import type { EngineConnection } from './engineConnection.js';
import { RemoteSupervisor, type LostInfo } from './remoteSupervisor.js';
import { memberLaneName, splitLaneName } from '../state/memberNames.js';

export interface MemberSpec {
  /** unique short label, the group name shown (repo basename, made unique; or a remote's name) */
  key: string;
  /** what it is: repo path, or `host:path` for a remote */
  title: string;
  remote: boolean;
  /** resolves with a connection that has said hello; rejects on failure */
  connect(): Promise<EngineConnection>;
  /** a local engine's state dir (its store: the dashboard reads recordings there); none for a remote */
  stateDir?: string;
}

export type MemberState = 'connecting' | 'connected' | 'disconnected' | 'stopped';

export interface MemberStatus {
  key: string;
  title: string;
  remote: boolean;
  state: MemberState;
  /** why it is disconnected or stopped */
  reason?: string;
  /** epoch ms of the next connection attempt (disconnected) */
  retryAt?: number;
  /** lanes listed for it (its last ones while disconnected; none when stopped) */
  lanes: number;
}

export interface MultiSupervisorOptions {
  /** the waits between attempts, in ms; the last one repeats (default 1, 2, 4, 8, 16, 30 s) */
  backoffMs?: readonly number[];
  /** the member whose repo root and session the dashboard's history and header use (default: the first in key order) */
  home?: string;
  now?: () => number;
  /** an attempt that has not connected (hello said) by then fails and is retried (default CONNECT_TIMEOUT_MS) */
  connectTimeoutMs?: number;
}

/**
 * How long one attempt may take: an engine that accepts but never answers (stopped with
 * SIGSTOP, wedged) must not keep its member connecting, nor the dashboard from opening.
 */
export const CONNECT_TIMEOUT_MS = 30_000;

/** `connecting` resolved, or a rejection after `ms`; a connection that comes later is closed. */
function connectWithin(connecting: Promise<EngineConnection>, ms: number): Promise<EngineConnection> {
  return new Promise<EngineConnection>((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(new Error(`no answer within ${ms / 1000} s`));
    }, ms);
    connecting.then(
      (conn) => {
        clearTimeout(timer);
        if (late) conn.close();
        else resolve(conn);
      },
      (err: unknown) => {
        clearTimeout(timer);
        if (!late) reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

export const RECONNECT_BACKOFF_MS: readonly number[] = [1000, 2000, 4000, 8000, 16000, 30000];

interface Member {
  spec: MemberSpec;
  sup: RemoteSupervisor | null;
  state: MemberState;
  reason?: string;
  retryAt?: number;
  /** attempts since the last good connect (the backoff's index) */
  failures: number;
  timer: ReturnType<typeof setTimeout> | null;
  /** the sup's lane array the prefixed copy was made of */
  lanesFrom: LaneSnapshot[] | null;
  lanes: LaneSnapshot[];
  removed: boolean;
  offs: (() => void)[];
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** A member's event with every lane name it holds prefixed; a lane-less message says which member. */
export function prefixEvent(key: string, ev: SupervisorEvent): SupervisorEvent {
  const p = (lane: string) => memberLaneName(key, lane);
  switch (ev.type) {
    case 'lane-created':
    case 'lane-state':
    case 'lane-exit':
    case 'gate-verdict':
    case 'budget':
      return { ...ev, lane: p(ev.lane) };
    case 'decision':
      return { ...ev, decision: { ...ev.decision, lane: p(ev.decision.lane) } };
    case 'learning':
      return ev.lane !== undefined ? { ...ev, lane: p(ev.lane) } : ev;
    case 'error':
    case 'notice':
    case 'queue':
      return ev.lane !== undefined ? { ...ev, lane: p(ev.lane) } : { ...ev, message: `${key}: ${ev.message}` };
    default: {
      // a new event type must be looked at here: does it name a lane?
      const unhandled: never = ev;
      return unhandled;
    }
  }
}

function prefixComment(key: string, c: ReviewComment): ReviewComment {
  return { ...c, lane: memberLaneName(key, c.lane) };
}

export class MultiSupervisor implements SupervisorApi {
  private readonly byKey = new Map<string, Member>();
  private readonly listeners = new Set<(ev: SupervisorEvent) => void>();
  private readonly changeListeners = new Set<() => void>();
  private readonly backoff: readonly number[];
  private readonly now: () => number;
  private readonly home: string | undefined;
  private readonly connectTimeoutMs: number;
  /** the member of the lane the dashboard draws (watchScreens) */
  private selectedKey: string | null = null;
  private closed = false;

  constructor(specs: readonly MemberSpec[] = [], opts: MultiSupervisorOptions = {}) {
    this.backoff = opts.backoffMs && opts.backoffMs.length > 0 ? opts.backoffMs : RECONNECT_BACKOFF_MS;
    this.now = opts.now ?? Date.now;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
    this.home = opts.home;
    for (const spec of specs) void this.addMember(spec);
  }

  /** A multi supervisor whose members have each been tried once (connected, or disconnected with the reason). */
  static async open(specs: readonly MemberSpec[], opts: MultiSupervisorOptions = {}): Promise<MultiSupervisor> {
    const multi = new MultiSupervisor([], opts);
    await Promise.all(specs.map((s) => multi.addMember(s)));
    return multi;
  }

  // ------------------------------------------------------------------ members

  /**
   * Adds an engine and tries it once; resolves when that first attempt is over (a failure
   * leaves the member `disconnected`, retried with backoff). Refuses a key that is taken or
   * holds '/' (lane names are `key/lane`).
   */
  async addMember(spec: MemberSpec): Promise<void> {
    if (!spec.key || spec.key.includes('/'))
      throw new Error(`engine key ${JSON.stringify(spec.key)}: a key must be non-empty and hold no '/'`);
    if (this.byKey.has(spec.key)) throw new Error(`engine key ${JSON.stringify(spec.key)} is taken already`);
    if (this.closed) throw new Error('this multi-engine supervisor is closed');
    const m: Member = {
      spec,
      sup: null,
      state: 'connecting',
      failures: 0,
      timer: null,
      lanesFrom: null,
      lanes: [],
      removed: false,
      offs: [],
    };
    this.byKey.set(spec.key, m);
    this.changed();
    await this.attempt(m);
  }

  /** Leaves that engine (its lanes keep running there) and drops its lanes from the list. */
  removeMember(key: string): void {
    const m = this.byKey.get(key);
    if (!m) return;
    m.removed = true;
    this.clearTimer(m);
    for (const off of m.offs.splice(0)) off();
    m.sup?.disconnect();
    this.byKey.delete(key);
    if (this.selectedKey === key) this.selectedKey = null;
    this.changed();
  }

  /** Tries a disconnected (or stopped) member now instead of at its next retry. */
  async reconnectNow(key: string): Promise<void> {
    const m = this.byKey.get(key);
    if (!m || m.state === 'connected' || m.state === 'connecting') return;
    this.clearTimer(m);
    await this.attempt(m);
  }

  /** Every member in key order, with how it stands. */
  members(): MemberStatus[] {
    return this.ordered().map((m) => ({
      key: m.spec.key,
      title: m.spec.title,
      remote: m.spec.remote,
      state: m.state,
      ...(m.reason !== undefined ? { reason: m.reason } : {}),
      ...(m.retryAt !== undefined ? { retryAt: m.retryAt } : {}),
      lanes: this.lanesOf(m).length,
    }));
  }

  /**
   * Where the history (`H`) is read: the home member's store on this machine, or, for a remote
   * home (its store is on its host), the remote's key to name in `ao-console --remote KEY replay`.
   */
  historyStore(): { stateDir: string } | { remote: string } | null {
    const m = this.homeMember();
    if (!m) return null;
    if (m.spec.remote || !m.spec.stateDir) return { remote: m.spec.key };
    return { stateDir: m.spec.stateDir };
  }

  /** The state dir of a local member's lane (its recording is in that store); null for a remote's or an unknown lane. */
  stateDirOf(name: string): string | null {
    const parts = splitLaneName(name);
    const m = parts ? this.byKey.get(parts.key) : undefined;
    if (!m || m.spec.remote) return null;
    return m.spec.stateDir ?? null;
  }

  private ordered(): Member[] {
    return [...this.byKey.values()].sort((a, b) => (a.spec.key < b.spec.key ? -1 : a.spec.key > b.spec.key ? 1 : 0));
  }

  private async attempt(m: Member): Promise<void> {
    if (this.closed || m.removed) return;
    m.state = 'connecting';
    m.retryAt = undefined;
    this.changed();
    let conn: EngineConnection;
    try {
      conn = await connectWithin(m.spec.connect(), this.connectTimeoutMs);
    } catch (err) {
      this.failed(m, errorText(err));
      return;
    }
    if (this.closed || m.removed) {
      conn.close();
      return;
    }
    try {
      if (m.sup) await m.sup.reconnect(conn);
      else {
        const sup = await RemoteSupervisor.open(conn);
        if (this.closed || m.removed) {
          sup.disconnect();
          return;
        }
        m.sup = sup;
        m.offs.push(
          sup.on((ev) => this.emit(prefixEvent(m.spec.key, ev))),
          sup.onChange(() => this.changed()),
          sup.onLost((info) => this.lost(m, info)),
        );
      }
    } catch (err) {
      conn.close();
      this.failed(m, errorText(err));
      return;
    }
    if (this.closed || m.removed) {
      m.sup?.disconnect();
      return;
    }
    if (conn.closed) {
      // it went away while we subscribed: its close was seen as 'connecting'; try again
      this.failed(m, conn.closed.reason);
      return;
    }
    m.state = 'connected';
    m.reason = undefined;
    m.failures = 0;
    this.changed();
  }

  private failed(m: Member, reason: string): void {
    if (this.closed || m.removed) return;
    m.state = 'disconnected';
    m.reason = reason;
    this.schedule(m);
    this.changed();
  }

  private lost(m: Member, info: LostInfo): void {
    if (this.closed || m.removed || m.state !== 'connected') return; // an attempt under way handles its own failure
    if (info.kind === 'bye' && !m.spec.remote) {
      m.state = 'stopped';
      m.reason = info.reason;
      this.clearTimer(m);
      this.emit({ type: 'notice', message: `${m.spec.key}: ${info.reason}; its lanes leave the list` });
      this.changed();
      return;
    }
    this.failed(m, info.reason);
    this.emit({
      type: 'notice',
      message: `${m.spec.key} is disconnected (${info.reason}); its lanes keep running there; retrying`,
    });
  }

  private schedule(m: Member): void {
    this.clearTimer(m);
    const delay = this.backoff[Math.min(m.failures, this.backoff.length - 1)];
    m.failures++;
    m.retryAt = this.now() + delay;
    m.timer = setTimeout(() => {
      m.timer = null;
      void this.attempt(m);
    }, delay);
    m.timer.unref?.();
  }

  private clearTimer(m: Member): void {
    if (m.timer) clearTimeout(m.timer);
    m.timer = null;
    m.retryAt = undefined;
  }

  private emit(ev: SupervisorEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(ev);
      } catch {
        // a listener's fault is its own
      }
    }
  }

  private changed(): void {
    for (const l of [...this.changeListeners]) {
      try {
        l();
      } catch {
        // a listener's fault is its own
      }
    }
  }

  // ------------------------------------------------------------------ routing

  /** Why actions on this member's lanes are refused now. */
  private refusal(m: Member): ActionError {
    const key = m.spec.key;
    if (m.state === 'stopped')
      return new ActionError(`${key}'s engine stopped (${m.reason ?? 'stopped'})`, 'disconnected');
    if (m.state === 'connecting')
      return new ActionError(
        `${key} is connecting${m.reason ? ` (last: ${m.reason})` : ''}; lanes there keep running`,
        'disconnected',
      );
    const secs = m.retryAt !== undefined ? Math.max(0, Math.ceil((m.retryAt - this.now()) / 1000)) : 0;
    return new ActionError(
      `${key} is disconnected (${m.reason ?? 'no connection'}); lanes there keep running; retrying in ${secs}s`,
      'disconnected',
    );
  }

  private memberOf(name: string): { m: Member; lane: string } {
    const parts = splitLaneName(name);
    if (!parts)
      throw new ActionError(
        `no lane named ${name}: lanes here are named <engine>/<lane> (e.g. repo/lane)`,
        'not-found',
      );
    const m = this.byKey.get(parts.key);
    if (!m) throw new ActionError(`no engine named ${parts.key} (lane ${name})`, 'not-found');
    return { m, lane: parts.lane };
  }

  /** The member's live supervisor and the plain lane name; refused (ActionError) when it is not connected. */
  private live(name: string): { sup: RemoteSupervisor; lane: string; key: string } {
    const { m, lane } = this.memberOf(name);
    if (m.state !== 'connected' || !m.sup) throw this.refusal(m);
    return { sup: m.sup, lane, key: m.spec.key };
  }

  /** The member a verb naming no lane goes to: the drawn lane's, else the first connected one. */
  private target(): { sup: RemoteSupervisor; key: string } {
    const sel = this.selectedKey ? this.byKey.get(this.selectedKey) : undefined;
    if (sel) {
      if (sel.state !== 'connected' || !sel.sup) throw this.refusal(sel);
      return { sup: sel.sup, key: sel.spec.key };
    }
    const first = this.ordered().find((m) => m.state === 'connected' && m.sup);
    if (!first?.sup) throw new ActionError('no engine is connected', 'disconnected');
    return { sup: first.sup, key: first.spec.key };
  }

  private lanesOf(m: Member): LaneSnapshot[] {
    if (m.state === 'stopped' || !m.sup) return [];
    const src = m.sup.listLanes();
    if (src !== m.lanesFrom) {
      m.lanesFrom = src;
      m.lanes = src.map((l) => ({ ...l, name: memberLaneName(m.spec.key, l.name) }));
    }
    return m.lanes;
  }

  private prefixLane(key: string, snap: LaneSnapshot): LaneSnapshot {
    return { ...snap, name: memberLaneName(key, snap.name) };
  }

  // ------------------------------------------------------------------ SupervisorApi

  get sessionId(): string {
    return this.homeMember()?.sup?.sessionId ?? '';
  }
  get repoRoot(): string {
    return this.homeMember()?.sup?.repoRoot ?? '';
  }
  private homeMember(): Member | undefined {
    return (this.home !== undefined ? this.byKey.get(this.home) : undefined) ?? this.ordered()[0];
  }

  listLanes(): LaneSnapshot[] {
    return this.ordered().flatMap((m) => this.lanesOf(m));
  }
  getLane(name: string): LaneSnapshot | undefined {
    const parts = splitLaneName(name);
    const m = parts ? this.byKey.get(parts.key) : undefined;
    return m ? this.lanesOf(m).find((l) => l.name === name) : undefined;
  }

  async newLane(req: NewLaneRequest): Promise<LaneSnapshot> {
    let sup: RemoteSupervisor;
    let key: string;
    let lane = req.name;
    if (req.name.includes('/')) ({ sup, key, lane } = this.live(req.name));
    else {
      const first = this.ordered().find((m) => m.state === 'connected' && m.sup);
      if (!first?.sup) throw new ActionError('no engine is connected to start the lane in', 'disconnected');
      sup = first.sup;
      key = first.spec.key;
    }
    return this.prefixLane(key, await sup.newLane({ ...req, name: lane }));
  }
  send(name: string, data: string): void {
    const { sup, lane } = this.live(name);
    sup.send(lane, data);
  }
  screenText(name: string): string[] {
    const { m, lane } = this.memberOf(name);
    return m.sup?.screenText(lane) ?? [];
  }
  screenAnsi(name: string): string[] {
    const { m, lane } = this.memberOf(name);
    return m.sup?.screenAnsi(lane) ?? [];
  }
  screenStyled(name: string): StyledRow[] {
    const { m, lane } = this.memberOf(name);
    return m.sup?.screenStyled(lane) ?? [];
  }
  cursor(name: string): { x: number; y: number; visible: boolean } {
    const { m, lane } = this.memberOf(name);
    return m.sup?.cursor(lane) ?? { x: 0, y: 0, visible: true };
  }
  resize(name: string, cols: number, rows: number): void {
    const { sup, lane } = this.live(name);
    sup.resize(lane, cols, rows);
  }
  async syncScreen(name: string): Promise<void> {
    const { sup, lane } = this.live(name);
    await sup.syncScreen(lane);
  }
  async attach(
    name: string,
    onData: (data: string) => void,
    size?: { cols: number; rows: number },
  ): Promise<AttachHandle> {
    const { sup, lane } = this.live(name);
    return sup.attach(lane, onData, size);
  }
  watchScreens(names: string[]): void {
    const per = new Map<string, string[]>();
    let first: string | null = null;
    for (const name of names) {
      const parts = splitLaneName(name);
      if (!parts || !this.byKey.has(parts.key)) continue;
      first ??= parts.key;
      per.set(parts.key, [...(per.get(parts.key) ?? []), parts.lane]);
    }
    this.selectedKey = first;
    for (const m of this.byKey.values()) m.sup?.watchScreens(per.get(m.spec.key) ?? []);
  }
  async handoff(name: string, cause?: string): Promise<void> {
    const { sup, lane } = this.live(name);
    await sup.handoff(lane);
    void cause; // the engine records the cause of a handoff by a client itself
  }
  reportWaiting(name: string): void {
    const { sup, lane } = this.live(name);
    sup.reportWaiting(lane);
  }
  async rerunGates(name: string): Promise<void> {
    const { sup, lane } = this.live(name);
    await sup.rerunGates(lane);
  }
  async review(name: string): Promise<ReviewInfo> {
    const { sup, lane, key } = this.live(name);
    const info = await sup.review(lane);
    return {
      ...info,
      lane: memberLaneName(key, info.lane),
      ...(info.comments ? { comments: info.comments.map((c) => prefixComment(key, c)) } : {}),
    };
  }
  async approve(name: string, opts?: { override?: boolean; by?: string; wait?: boolean }): Promise<void> {
    const { sup, lane } = this.live(name);
    await sup.approve(lane, opts);
  }
  async mergeQueue(): Promise<MergeQueueInfo> {
    const { sup, key } = this.target();
    return this.prefixQueue(key, await sup.mergeQueue());
  }
  async moveInQueue(name: string, position: number): Promise<MergeQueueInfo> {
    const { sup, lane, key } = this.live(name);
    return this.prefixQueue(key, await sup.moveInQueue(lane, position));
  }
  async removeFromQueue(name: string): Promise<void> {
    const { sup, lane } = this.live(name);
    await sup.removeFromQueue(lane);
  }
  async pauseQueue(paused: boolean): Promise<MergeQueueInfo> {
    const { sup, key } = this.target();
    return this.prefixQueue(key, await sup.pauseQueue(paused));
  }
  private prefixQueue(key: string, q: MergeQueueInfo): MergeQueueInfo {
    return { ...q, entries: q.entries.map((e) => ({ ...e, lane: memberLaneName(key, e.lane) })) };
  }
  async reject(name: string, opts: { reason: string; mode: RejectMode; by?: string }): Promise<void> {
    const { sup, lane } = this.live(name);
    await sup.reject(lane, opts);
  }
  async stop(name: string): Promise<void> {
    const { sup, lane } = this.live(name);
    await sup.stop(lane);
  }
  async remove(name: string): Promise<void> {
    const { sup, lane } = this.live(name);
    await sup.remove(lane);
  }
  async resume(name: string): Promise<void> {
    const { sup, lane } = this.live(name);
    await sup.resume(lane);
  }
  async addLearning(text: string, laneName?: string): Promise<void> {
    if (laneName) {
      const { sup, lane } = this.live(laneName);
      await sup.addLearning(text, lane);
      return;
    }
    await this.target().sup.addLearning(text);
  }
  async listLearnings(query?: string, opts?: { includeTombstoned?: boolean; limit?: number }): Promise<LearningInfo[]> {
    const { sup, key } = this.target();
    const items = await sup.listLearnings(query, opts);
    return items.map((l) => (l.lane !== null ? { ...l, lane: memberLaneName(key, l.lane) } : l));
  }
  async tombstoneLearning(id: number, reason: string): Promise<void> {
    await this.target().sup.tombstoneLearning(id, reason);
  }
  async editLearning(id: number, text: string): Promise<void> {
    await this.target().sup.editLearning(id, text);
  }
  metrics(): Promise<ConsoleMetrics> {
    try {
      return this.target().sup.metrics();
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }
  /** the home member's (its earlier sessions'), as the history (`H`) is the home member's */
  pastOutcomes(since: number): Promise<OutcomeCount[]> {
    const sup = this.homeMember()?.sup;
    return sup ? sup.pastOutcomes(since) : Promise.reject(new Error('the home engine is not connected'));
  }
  async listComments(name: string): Promise<ReviewComment[]> {
    const { sup, lane, key } = this.live(name);
    return (await sup.listComments(lane)).map((c) => prefixComment(key, c));
  }
  async addComment(name: string, comment: NewComment): Promise<ReviewComment> {
    const { sup, lane, key } = this.live(name);
    return prefixComment(key, await sup.addComment(lane, comment));
  }
  async editComment(name: string, id: number, text: string): Promise<ReviewComment> {
    const { sup, lane, key } = this.live(name);
    return prefixComment(key, await sup.editComment(lane, id, text));
  }
  async deleteComment(name: string, id: number): Promise<void> {
    const { sup, lane } = this.live(name);
    await sup.deleteComment(lane, id);
  }

  on(listener: (event: SupervisorEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  /** Called whenever a member's caches or state changed: the dashboard refreshes then. */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /**
   * Stops every lane and the engine of every connected member (the quit dialog's second
   * choice); resolves with how many lanes were stopped in all.
   */
  async stopEngines(by = 'a dashboard'): Promise<{ lanes: number }> {
    const live = this.ordered().filter((m) => m.state === 'connected' && m.sup);
    const results = await Promise.all(live.map((m) => m.sup!.stopEngine(by)));
    return { lanes: results.reduce((n, r) => n + r.lanes, 0) };
  }

  /** Leaves every engine (their lanes keep running) and stops every retry. */
  disconnect(): void {
    if (this.closed) return;
    this.closed = true;
    for (const m of this.byKey.values()) {
      this.clearTimer(m);
      for (const off of m.offs.splice(0)) off();
      m.sup?.disconnect();
    }
    this.changed();
  }

  /** Only disconnects: the lanes keep running in their engines. */
  async shutdown(): Promise<void> {
    this.disconnect();
  }
}
