/**
 * The supervisor of a repo's engine, seen from a client process (the dashboard): every action
 * is a request over one EngineConnection; the synchronous reads (listLanes, getLane,
 * screenStyled, cursor) answer from caches fed by the engine's pushes: `subscribe` (lane list
 * and supervisor events) and `watch` (the screens of the lanes this front end draws). Attach
 * streams raw output through `attach` / `output` pushes / `detach`. `shutdown()` only
 * disconnects: the lanes keep running in the engine.
 */
import type {
  AttachHandle,
  ConsoleMetrics,
  OutcomeCount,
  LearningInfo,
  MergeQueueInfo,
  NewComment,
  NewLaneRequest,
  RejectMode,
  ReviewComment,
  ReviewInfo,
  SupervisorApi,
  SupervisorEvent,
} from '../../lanes/supervisor/api.js';
import type { LaneSnapshot, StyledRow, StyledRun } from '../../lanes/lane/types.js';
import type { AttachData, EngineStatusData, ScreenDiffPush, ScreenFullPush } from '../../lanes/control/protocol.js';
import type { CloseInfo, EngineConnection, EngineHello, EnginePush } from './engineConnection.js';

type Cursor = { x: number; y: number; visible: boolean };

interface ScreenCache {
  rows: StyledRow[];
  cursor: Cursor;
  size: { cols: number; rows: number };
}

/** How the connection to the engine ended, for onLost listeners. */
export type LostInfo = CloseInfo & { kind: 'bye' | 'lost' };

const SGR_ATTRS: [keyof StyledRun, string][] = [
  ['bold', '1'],
  ['dim', '2'],
  ['italic', '3'],
  ['underline', '4'],
  ['inverse', '7'],
];

function colorSgr(color: string | undefined, fg: boolean): string | null {
  if (!color) return null;
  if (color.startsWith('p')) {
    const n = Number(color.slice(1));
    if (!Number.isInteger(n) || n < 0 || n > 255) return null;
    return `${fg ? 38 : 48};5;${n}`;
  }
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  if (!m) return null;
  return `${fg ? 38 : 48};2;${parseInt(m[1], 16)};${parseInt(m[2], 16)};${parseInt(m[3], 16)}`;
}

/** A styled row as text with SGR escapes only (safe to print). */
export function styledRowToAnsi(row: StyledRow): string {
  let out = '';
  for (const run of row) {
    const codes = ['0'];
    for (const [k, code] of SGR_ATTRS) if (run[k]) codes.push(code);
    const fg = colorSgr(run.fg, true);
    const bg = colorSgr(run.bg, false);
    if (fg) codes.push(fg);
    if (bg) codes.push(bg);
    out += `\x1b[${codes.join(';')}m${run.text}`;
  }
  return row.length > 0 ? `${out}\x1b[0m` : out;
}

export class RemoteSupervisor implements SupervisorApi {
  private lanes: LaneSnapshot[] = [];
  private readonly screens = new Map<string, ScreenCache>();
  private readonly listeners = new Set<(ev: SupervisorEvent) => void>();
  private readonly changeListeners = new Set<() => void>();
  private readonly lostListeners = new Set<(info: LostInfo) => void>();
  private readonly sinks = new Map<string, (data: string) => void>();
  private watched: string[] = [];
  private offConn: (() => void)[] = [];
  private disconnected = false;
  private lostInfo: LostInfo | null = null;

  private constructor(
    private conn: EngineConnection,
    private hello: EngineHello,
  ) {}

  /**
   * A supervisor over `conn` (which has said hello): subscribes to the lane list and events
   * before it resolves, so listLanes() is right from the start.
   */
  static async open(conn: EngineConnection): Promise<RemoteSupervisor> {
    if (!conn.info) throw new Error('say hello on the connection first');
    const sup = new RemoteSupervisor(conn, conn.info);
    await sup.bind(conn);
    return sup;
  }

  /** The engine's hello: pid, version, protocol, startedAt, recovery notes. */
  get engineInfo(): EngineHello {
    return this.hello;
  }
  get sessionId(): string {
    return this.hello.sessionId;
  }
  get repoRoot(): string {
    return this.hello.repoRoot;
  }
  /** how the connection ended, or null while it lives */
  get lost(): LostInfo | null {
    return this.lostInfo;
  }

  private async bind(conn: EngineConnection): Promise<void> {
    this.conn = conn;
    this.hello = conn.info ?? this.hello;
    this.lostInfo = null;
    this.offConn = [conn.onPush((p) => this.onPush(p)), conn.onClose((info) => this.onClose(info))];
    const data = await conn.request<{ lanes: LaneSnapshot[] }>('subscribe');
    this.lanes = data.lanes;
    if (this.watched.length > 0) await conn.request('watch', { lanes: this.watched });
    this.changed();
  }

  /**
   * Moves this supervisor onto a new connection (an engine started again after a crash): the
   * same listeners, the same watched lanes, fresh caches.
   */
  async reconnect(conn: EngineConnection): Promise<void> {
    for (const off of this.offConn) off();
    this.conn.close();
    this.screens.clear();
    this.sinks.clear();
    this.disconnected = false;
    await this.bind(conn);
  }

  private onPush(p: EnginePush): void {
    switch (p.push) {
      case 'event':
        for (const l of [...this.listeners]) {
          try {
            l(p.event);
          } catch {
            // a listener's fault is its own
          }
        }
        break;
      case 'lanes':
        this.lanes = p.lanes;
        this.changed();
        break;
      case 'screen':
        this.onScreen(p);
        break;
      case 'output':
        this.sinks.get(p.lane)?.(p.data);
        break;
      default:
        break; // bye is the connection's; unknown pushes of a newer engine are ignored
    }
  }

  private onScreen(p: ScreenFullPush | ScreenDiffPush): void {
    const lane = p.lane;
    if (!this.watched.includes(lane)) return;
    const { cursor, size } = p;
    if (p.full) {
      this.screens.set(lane, { rows: p.rows, cursor, size });
    } else {
      const prev = this.screens.get(lane);
      if (!prev) return; // a change without its full screen: wait for the next full one
      const rows = prev.rows.slice(0, p.length);
      for (const [i, row] of p.changed) if (i < p.length) rows[i] = row;
      for (let i = 0; i < p.length; i++) rows[i] ??= [];
      this.screens.set(lane, { rows, cursor, size });
    }
    this.changed();
  }

  private onClose(info: CloseInfo): void {
    if (info.kind === 'closed') return;
    this.lostInfo = { ...info, kind: info.kind };
    this.sinks.clear();
    for (const l of [...this.lostListeners]) l(this.lostInfo);
  }

  private changed(): void {
    for (const l of [...this.changeListeners]) l();
  }

  /** Fires a request whose answer nobody waits for; a refusal becomes an error event. */
  private fire(verb: string, params: Record<string, unknown>): void {
    this.conn.request(verb, params).catch((err: unknown) => {
      if (this.lostInfo || this.disconnected) return;
      const message = err instanceof Error ? err.message : String(err);
      const lane = typeof params.lane === 'string' ? params.lane : undefined;
      for (const l of [...this.listeners]) l({ type: 'error', lane, message: `${verb}: ${message}` });
    });
  }

  /** Runs a request that answers with a lane snapshot and puts it in the cache at once. */
  private async laneRequest(verb: string, params: Record<string, unknown>): Promise<LaneSnapshot> {
    const snap = await this.conn.request<LaneSnapshot>(verb, params);
    if (snap && typeof snap === 'object' && 'name' in snap) {
      const i = this.lanes.findIndex((l) => l.name === snap.name);
      this.lanes = i >= 0 ? this.lanes.map((l, j) => (j === i ? snap : l)) : [...this.lanes, snap];
      this.changed();
    }
    return snap;
  }

  listLanes(): LaneSnapshot[] {
    return this.lanes;
  }
  getLane(name: string): LaneSnapshot | undefined {
    return this.lanes.find((l) => l.name === name);
  }
  newLane(req: NewLaneRequest): Promise<LaneSnapshot> {
    return this.laneRequest('new', { name: req.name, profile: req.profile, task: req.task, base: req.base });
  }
  send(name: string, data: string): void {
    if (data) this.fire('send', { lane: name, text: data });
  }
  screenStyled(name: string): StyledRow[] {
    return this.screens.get(name)?.rows ?? [];
  }
  screenText(name: string): string[] {
    return this.screenStyled(name).map((row) =>
      row
        .map((r) => r.text)
        .join('')
        .trimEnd(),
    );
  }
  screenAnsi(name: string): string[] {
    return this.screenStyled(name).map(styledRowToAnsi);
  }
  cursor(name: string): Cursor {
    return this.screens.get(name)?.cursor ?? { x: 0, y: 0, visible: true };
  }
  /** the size of the lane's screen as the engine last sent it (null before the first screen) */
  screenSize(name: string): { cols: number; rows: number } | null {
    return this.screens.get(name)?.size ?? null;
  }
  resize(name: string, cols: number, rows: number): void {
    this.fire('resize', { lane: name, cols, rows });
  }
  async syncScreen(name: string): Promise<void> {
    await this.conn.request('screen', { lane: name });
  }
  watchScreens(names: string[]): void {
    const next = [...new Set(names)];
    if (next.length === this.watched.length && next.every((n, i) => n === this.watched[i])) return;
    this.watched = next;
    for (const lane of [...this.screens.keys()]) if (!next.includes(lane)) this.screens.delete(lane);
    this.fire('watch', { lanes: next });
  }

  async attach(
    name: string,
    onData: (data: string) => void,
    size?: { cols: number; rows: number },
  ): Promise<AttachHandle> {
    // Output pushed before the first frame is in the caller's hands is held, then handed over.
    let held: string[] | null = [];
    this.sinks.set(name, (d) => (held ? held.push(d) : onData(d)));
    let first: AttachData;
    try {
      first = await this.conn.request<AttachData>('attach', {
        lane: name,
        ...(size ? { cols: size.cols, rows: size.rows } : {}),
      });
    } catch (err) {
      this.sinks.delete(name);
      throw err;
    }
    setImmediate(() => {
      const queued = held ?? [];
      held = null;
      if (this.sinks.has(name)) for (const d of queued) onData(d);
    });
    let detached = false;
    return {
      rows: first.rows,
      cursor: first.cursor,
      detach: () => {
        if (detached) return;
        detached = true;
        this.sinks.delete(name);
        if (!this.lostInfo && !this.disconnected) this.fire('detach', { lane: name });
      },
    };
  }

  async handoff(name: string): Promise<void> {
    await this.laneRequest('handoff', { lane: name });
  }
  reportWaiting(name: string): void {
    this.fire('waiting', { lane: name });
  }
  async rerunGates(name: string): Promise<void> {
    await this.laneRequest('rerun-gates', { lane: name });
  }
  review(name: string): Promise<ReviewInfo> {
    return this.conn.request<ReviewInfo>('review', { lane: name });
  }
  async approve(name: string, opts?: { override?: boolean; wait?: boolean }): Promise<void> {
    await this.laneRequest('approve', {
      lane: name,
      override: opts?.override ?? false,
      ...(opts?.wait ? { wait: true } : {}),
    });
  }
  mergeQueue(): Promise<MergeQueueInfo> {
    return this.conn.request<MergeQueueInfo>('queue');
  }
  moveInQueue(name: string, position: number): Promise<MergeQueueInfo> {
    return this.conn.request<MergeQueueInfo>('queue-move', { lane: name, position });
  }
  async removeFromQueue(name: string): Promise<void> {
    await this.laneRequest('queue-remove', { lane: name });
  }
  pauseQueue(paused: boolean): Promise<MergeQueueInfo> {
    return this.conn.request<MergeQueueInfo>(paused ? 'queue-pause' : 'queue-resume');
  }
  async reject(name: string, opts: { reason: string; mode: RejectMode }): Promise<void> {
    await this.laneRequest('reject', { lane: name, reason: opts.reason, mode: opts.mode });
  }
  async stop(name: string): Promise<void> {
    await this.laneRequest('stop', { lane: name });
  }
  async remove(name: string): Promise<void> {
    await this.laneRequest('remove', { lane: name });
  }
  async resume(name: string): Promise<void> {
    await this.laneRequest('resume', { lane: name });
  }
  async addLearning(text: string, lane?: string): Promise<void> {
    await this.conn.request('learn', lane ? { text, lane } : { text });
  }
  listLearnings(query?: string, opts?: { includeTombstoned?: boolean; limit?: number }): Promise<LearningInfo[]> {
    return this.conn.request<LearningInfo[]>('learnings', {
      ...(query ? { query } : {}),
      ...(opts?.includeTombstoned !== undefined ? { includeTombstoned: opts.includeTombstoned } : {}),
      ...(opts?.limit !== undefined ? { limit: opts.limit } : {}),
    });
  }
  async tombstoneLearning(id: number, reason: string): Promise<void> {
    await this.conn.request('learning-tombstone', { learning: id, reason });
  }
  async editLearning(id: number, text: string): Promise<void> {
    await this.conn.request('learning-edit', { learning: id, text });
  }
  metrics(): Promise<ConsoleMetrics> {
    return this.conn.request<ConsoleMetrics>('metrics');
  }
  pastOutcomes(since: number): Promise<OutcomeCount[]> {
    return this.conn.request<OutcomeCount[]>('past-outcomes', { since });
  }
  listComments(lane: string): Promise<ReviewComment[]> {
    return this.conn.request<ReviewComment[]>('comments', { lane });
  }
  addComment(lane: string, c: NewComment): Promise<ReviewComment> {
    return this.conn.request<ReviewComment>('comment', {
      lane,
      file: c.file,
      line: c.line,
      ...(c.endLine !== undefined ? { endLine: c.endLine } : {}),
      text: c.text,
    });
  }
  editComment(lane: string, id: number, text: string): Promise<ReviewComment> {
    return this.conn.request<ReviewComment>('comment-edit', { lane, comment: id, text });
  }
  async deleteComment(lane: string, id: number): Promise<void> {
    await this.conn.request('comment-delete', { lane, comment: id });
  }
  on(listener: (event: SupervisorEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called whenever a cache changed (lane list, a watched screen): the dashboard refreshes then. */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }
  /** Called when the engine said bye (it was stopped) or went away without a word. */
  onLost(listener: (info: LostInfo) => void): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  /** The engine's status (`engine-status`). */
  engineStatus(): Promise<EngineStatusData> {
    return this.conn.request<EngineStatusData>('engine-status');
  }

  /**
   * Stops every lane and the engine; resolves with how many lanes it stopped once the engine
   * said bye or closed the connection.
   */
  async stopEngine(by = 'dashboard'): Promise<{ lanes: number }> {
    const gone = new Promise<void>((resolve) => this.conn.onClose(() => resolve()));
    let res: { lanes: number } | null = null;
    try {
      res = await this.conn.request<{ lanes: number }>('engine-stop', { by });
    } catch (err) {
      if (!this.conn.closed) throw err; // refused; a connection that ended first is the engine leaving
    }
    await gone;
    return res ?? { lanes: 0 };
  }

  /** Leaves the engine (its lanes keep running). */
  disconnect(): void {
    if (this.disconnected) return;
    this.disconnected = true;
    this.sinks.clear();
    this.conn.close();
  }

  /** A remote's shutdown only disconnects: the lanes keep running in the engine. */
  async shutdown(): Promise<void> {
    this.disconnect();
  }
}
