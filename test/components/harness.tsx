/**
 * Test support for the component tests: an in-memory SupervisorApi (it stands in for the engine
 * here only; the engine has its own tests) and a renderer with a terminal of a chosen size.
 */
import './forceColor.js';
import { EventEmitter } from 'node:events';
import { render as inkRender, type Instance } from 'ink';
import { App } from '../../components/App.js';
import { StoreProvider } from '../../components/StoreContext.js';
import {
  ActionError,
  type AttachHandle,
  type GateVerdict,
  type NewLaneRequest,
  type ReviewInfo,
  type SupervisorApi,
  type SupervisorEvent,
} from '../../lanes/supervisor/api.js';
import type { LaneSnapshot, StyledRow } from '../../lanes/lane/types.js';
import { isLive } from '../../lanes/lane/rules.js';
import { KEYMAP } from '../../src/keymap/index.js';
import { createAppStore, type AppStore, type AppStoreOptions } from '../../src/state/store.js';

export function makeLane(name: string, over: Partial<LaneSnapshot> = {}): LaneSnapshot {
  const now = Date.now();
  return {
    id: 1,
    name,
    sessionId: 's1',
    profile: 'demo',
    task: `task of ${name}`,
    branch: `ao/${name}`,
    base: 'main',
    worktree: `/tmp/wt/${name}`,
    state: 'running',
    stateSince: now - 65_000,
    createdAt: now - 120_000,
    exitCode: null,
    exitSignal: null,
    reworkCount: 0,
    outputBytes: 1000,
    outputRate: 2048,
    lastLine: `last line of ${name}`,
    gateSummary: '',
    empty: false,
    cols: 80,
    rows: 24,
    // as an engine reports it: the agent process runs in the live states
    alive: isLive(over.state ?? 'running'),
    ...over,
  };
}

export interface Call {
  method: string;
  args: unknown[];
}

export class FakeSupervisor implements SupervisorApi {
  readonly sessionId = 'sess-1';
  readonly repoRoot = '/repo/demo';
  lanes: LaneSnapshot[] = [];
  screens = new Map<string, StyledRow[]>();
  reviews = new Map<string, ReviewInfo>();
  calls: Call[] = [];
  private listeners = new Set<(e: SupervisorEvent) => void>();
  private output = new Map<string, Set<(d: string) => void>>();

  constructor(lanes: LaneSnapshot[] = []) {
    this.lanes = lanes;
  }

  private record(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
  }
  private lane(name: string): LaneSnapshot {
    const l = this.lanes.find((x) => x.name === name);
    if (!l) throw new ActionError(`no lane named ${name}`, 'not-found');
    return l;
  }
  emit(e: SupervisorEvent): void {
    for (const l of this.listeners) l(e);
  }
  /** moves a lane to `state`; its process is alive in the live states unless `alive` says otherwise */
  setState(name: string, state: LaneSnapshot['state'], alive = isLive(state)): void {
    const l = this.lane(name);
    const from = l.state;
    l.state = state;
    l.alive = alive;
    l.stateSince = Date.now();
    this.emit({ type: 'lane-state', lane: name, from, to: state, cause: 'test' });
  }
  /** pretend the agent wrote to its pty */
  output_(name: string, data: string): void {
    for (const f of this.output.get(name) ?? []) f(data);
  }

  listLanes(): LaneSnapshot[] {
    return this.lanes.map((l) => ({ ...l }));
  }
  getLane(name: string): LaneSnapshot | undefined {
    const l = this.lanes.find((x) => x.name === name);
    return l ? { ...l } : undefined;
  }
  async newLane(req: NewLaneRequest): Promise<LaneSnapshot> {
    this.record('newLane', req);
    const lane = makeLane(req.name, {
      profile: req.profile,
      task: req.task,
      base: req.base ?? 'main',
      state: 'starting',
    });
    this.lanes.push(lane);
    this.emit({ type: 'lane-created', lane: req.name });
    return lane;
  }
  send(name: string, data: string): void {
    this.record('send', name, data);
  }
  screenText(name: string): string[] {
    return (this.screens.get(name) ?? []).map((r) => r.map((x) => x.text).join(''));
  }
  screenAnsi(name: string): string[] {
    return this.screenText(name);
  }
  screenStyled(name: string): StyledRow[] {
    this.lane(name);
    return this.screens.get(name) ?? [];
  }
  cursor(): { x: number; y: number; visible: boolean } {
    return { x: 0, y: 0, visible: true };
  }
  resize(name: string, cols: number, rows: number): void {
    this.record('resize', name, cols, rows);
    const l = this.lane(name);
    l.cols = cols;
    l.rows = rows;
  }
  async syncScreen(name: string): Promise<void> {
    this.record('syncScreen', name);
  }

  async attach(
    name: string,
    onData: (data: string) => void,
    size?: { cols: number; rows: number },
  ): Promise<AttachHandle> {
    this.record('attach', name, size);
    if (size) this.resize(name, size.cols, size.rows);
    const set = this.output.get(name) ?? new Set();
    set.add(onData);
    this.output.set(name, set);
    return { rows: this.screenAnsi(name), cursor: this.cursor(), detach: () => set.delete(onData) };
  }
  async handoff(name: string): Promise<void> {
    this.record('handoff', name);
    this.setState(name, 'gating');
  }
  async rerunGates(name: string): Promise<void> {
    this.record('rerunGates', name);
  }
  async review(name: string): Promise<ReviewInfo> {
    this.record('review', name);
    const r = this.reviews.get(name);
    if (!r) throw new ActionError(`no review for ${name}`, 'bad-state');
    return r;
  }
  async approve(name: string, opts?: { override?: boolean; by?: string }): Promise<void> {
    this.record('approve', name, opts);
    const r = this.reviews.get(name);
    if (r && !r.requiredPassed && !opts?.override) throw new ActionError('required gates failed', 'needs-override');
    this.setState(name, 'merging');
  }
  async reject(name: string, opts: { reason: string; mode: 'rework' | 'discard'; by?: string }): Promise<void> {
    this.record('reject', name, opts);
    this.setState(name, opts.mode === 'rework' ? 'running' : 'discarded');
  }
  async stop(name: string): Promise<void> {
    this.record('stop', name);
    this.setState(name, 'stopped');
  }
  async resume(name: string): Promise<void> {
    this.record('resume', name);
    this.setState(name, 'starting');
  }
  async addLearning(text: string, lane?: string): Promise<void> {
    this.record('addLearning', text, lane);
  }
  on(listener: (event: SupervisorEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  async shutdown(cause?: string): Promise<void> {
    this.record('shutdown', cause);
  }
  callsOf(method: string): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }
}

export class TestStdout extends EventEmitter {
  frames: string[] = [];
  isTTY = true;
  constructor(
    public columns: number,
    public rows: number,
  ) {
    super();
  }
  write = (frame: string): boolean => {
    this.frames.push(frame);
    return true;
  };
  lastFrame = (): string => this.frames[this.frames.length - 1] ?? '';
  all = (): string => this.frames.join('');
  resize(cols: number, rows: number): void {
    this.columns = cols;
    this.rows = rows;
    this.emit('resize');
  }
}

export class TestStdin extends EventEmitter {
  isTTY = true;
  private data: string | null = null;
  write(data: string): void {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  }
  read = (): string | null => {
    const d = this.data;
    this.data = null;
    return d;
  };
  /** input put back for the next reader (as a paused tty stream keeps it until read) */
  unshifted: string[] = [];
  unshift(chunk: Buffer | string): void {
    this.unshifted.push(chunk.toString());
  }
  setEncoding(): void {}
  rawMode = false;
  setRawMode(on: boolean): void {
    this.rawMode = on;
  }
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

/** The bytes a terminal sends for a key name of the keymap. */
const KEY_BYTES: Record<string, string> = {
  up: '\x1b[A',
  down: '\x1b[B',
  right: '\x1b[C',
  left: '\x1b[D',
  enter: '\r',
  escape: '\x1b',
  tab: '\t',
  'shift-tab': '\x1b[Z',
  backspace: '\x7f',
  pageup: '\x1b[5~',
  pagedown: '\x1b[6~',
  home: '\x1b[H',
  end: '\x1b[F',
  space: ' ',
  'ctrl-c': '\x03',
};

export function keyBytes(name: string): string {
  return KEY_BYTES[name] ?? name;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Rendered {
  store: AppStore;
  supervisor: FakeSupervisor;
  stdout: TestStdout;
  lastFrame(): string;
  /** press a key by its keymap name ('down', 'enter', 'a', ...) */
  press(key: string): Promise<void>;
  /** press the first key of a keymap binding, by id ('review.approve') */
  pressBinding(id: string): Promise<void>;
  type(text: string): Promise<void>;
  waitFor(pred: (frame: string) => boolean, what?: string): Promise<string>;
  unmount(): void;
}

export function renderApp(
  supervisor: FakeSupervisor,
  opts: { cols?: number; rows?: number; profiles?: string[]; store?: Partial<AppStoreOptions> } = {},
): Rendered {
  const cols = opts.cols ?? 100;
  const rows = opts.rows ?? 30;
  const store = createAppStore(supervisor, {
    profiles: opts.profiles ?? ['claude', 'codex', 'demo'],
    repoLabel: 'demo-repo',
    baseBranch: 'main',
    refreshMs: 0,
    color: true,
    size: { cols, rows },
    ...opts.store,
  });
  const stdout = new TestStdout(cols, rows);
  const stdin = new TestStdin();
  const instance: Instance = inkRender(
    <StoreProvider store={store}>
      <App />
    </StoreProvider>,
    {
      stdout: stdout as unknown as NodeJS.WriteStream,
      stdin: stdin as unknown as NodeJS.ReadStream,
      stderr: new TestStdout(cols, rows) as unknown as NodeJS.WriteStream,
      debug: true,
      exitOnCtrlC: false,
      patchConsole: false,
    },
  );
  const settle = (): Promise<void> => sleep(30);
  const r: Rendered = {
    store,
    supervisor,
    stdout,
    lastFrame: () => stdout.lastFrame(),
    async press(key) {
      stdin.write(keyBytes(key));
      // a lone ESC waits for Ink's escape-sequence timeout
      await sleep(key === 'escape' ? 120 : 30);
    },
    async pressBinding(id) {
      const b = KEYMAP.find((x) => x.id === id);
      if (!b) throw new Error(`no binding ${id}`);
      await r.press(b.keys[0]);
    },
    async type(text) {
      for (const ch of text) stdin.write(ch);
      await settle();
    },
    async waitFor(pred, what = 'frame') {
      const until = Date.now() + 2000;
      while (Date.now() < until) {
        if (pred(stdout.lastFrame())) return stdout.lastFrame();
        await sleep(10);
      }
      throw new Error(`timed out waiting for ${what}; last frame:\n${stdout.lastFrame()}`);
    },
    unmount() {
      instance.unmount();
      instance.cleanup();
      store.dispose();
    },
  };
  return r;
}

/** Strips SGR and other CSI escapes. */
export function plain(s: string): string {
  return s.replace(/\x1b\[[0-9;:?<>=]*[ -/]*[@-~]/g, '');
}

export function sampleVerdict(over: Partial<GateVerdict> = {}): GateVerdict {
  return {
    gate: 'test',
    status: 'PASS',
    required: true,
    durationMs: 3200,
    exitCode: 0,
    output: 'ok 3 tests',
    commit: 'abc1234def',
    stale: false,
    at: 1,
    ...over,
  };
}

export function sampleReview(lane: string, over: Partial<ReviewInfo> = {}): ReviewInfo {
  return {
    lane,
    head: 'abc1234def',
    base: 'main',
    empty: false,
    requiredPassed: true,
    verdicts: [sampleVerdict(), sampleVerdict({ gate: 'no-secrets', durationMs: 40, output: '' })],
    diffStat: [{ path: 'src/add.js', added: 3, deleted: 1 }],
    diff: 'diff --git a/src/add.js b/src/add.js\n--- a/src/add.js\n+++ b/src/add.js\n@@ -1,2 +1,4 @@\n-export const add = (a, b) => a - b;\n+export const add = (a, b) => a + b;\n+// fixed\n+\n',
    ...over,
  };
}
