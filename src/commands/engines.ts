/**
 * `ao-console engines [--json]`: every engine of this user that runs now, one per repo, from the
 * per-user registry (lanes/engine/registry.ts; reading it prunes what dead engines left). Each
 * engine is asked for its lanes over its socket, all at once and each bounded by a timeout, so
 * one stuck engine shows "not answering" instead of hanging the list. Works outside any repo.
 */
import type { Command } from 'commander';
import { PROTOCOL_VERSION, type EngineStatusData } from '../../lanes/control/protocol.js';
import { listEngines, registryDir, type EngineEntry } from '../../lanes/engine/registry.js';
import { EngineConnection } from '../control/engineConnection.js';
import { formatAge, formatTable } from '../format/table.js';
import { printJson, println } from './common.js';

/** How long one engine gets to answer `engine-status`. */
const ANSWER_TIMEOUT_MS = 2000;

export interface ListedEngine extends EngineEntry {
  /** lanes the engine holds (every state), null when it did not answer */
  lanes: number | null;
  /** lanes whose agent runs now, null when it did not answer */
  alive: number | null;
  /** why `lanes` is null: "not answering (...)", "protocol N" */
  problem?: string;
}

/** Asks one engine for its lanes; never throws and never waits longer than `timeoutMs`. */
async function askLanes(entry: EngineEntry, timeoutMs: number): Promise<ListedEngine> {
  // Another protocol would refuse our hello: say so without asking.
  if (entry.protocol !== PROTOCOL_VERSION)
    return {
      ...entry,
      lanes: null,
      alive: null,
      problem: `protocol ${entry.protocol} (ao-console ${entry.version}); this one speaks ${PROTOCOL_VERSION}`,
    };
  let conn: EngineConnection | undefined;
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const work = (async () => {
    const c = await EngineConnection.open(entry.socketPath);
    // The timeout may have passed while connecting: nobody waits for this connection any more.
    if (timedOut) {
      c.close();
      throw new Error('timed out');
    }
    conn = c;
    await c.hello('engines');
    return c.request<EngineStatusData>('engine-status');
  })();
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new Error(`no answer in ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    const status = await Promise.race([work, timeout]);
    const lanes = Object.values(status.lanes).reduce((a, n) => a + (n ?? 0), 0);
    return { ...entry, lanes, alive: status.alive };
  } catch (err) {
    work.catch(() => {}); // settled later or never: not an unhandled rejection
    return { ...entry, lanes: null, alive: null, problem: `not answering (${(err as Error).message})` };
  } finally {
    clearTimeout(timer);
    conn?.close();
  }
}

function lanesCell(e: ListedEngine): string {
  if (e.lanes === null) return e.problem ?? 'not answering';
  return e.alive ? `${e.lanes} (${e.alive} running)` : String(e.lanes);
}

export function registerEngines(program: Command): void {
  program
    .command('engines')
    .description("list this user's running engines, one per repo: repo, pid, version, age, lanes")
    .option('--json', 'print the engines as JSON')
    .addHelpText(
      'after',
      `
Engines list themselves in $XDG_STATE_HOME/ao-console/engines (default ~/.local/state/ao-console/engines)
while they run; entries of engines that died are removed here. Each engine is asked for its lanes
(at most ${ANSWER_TIMEOUT_MS / 1000} s): one that does not answer shows "not answering". Works outside a repo.`,
    )
    .action(async (opts: { json?: boolean }) => {
      const engines = await Promise.all(listEngines().map((e) => askLanes(e, ANSWER_TIMEOUT_MS)));
      if (opts.json) return printJson(engines);
      const now = Date.now();
      println(
        formatTable(
          [{ header: 'REPO' }, { header: 'PID' }, { header: 'VERSION' }, { header: 'STARTED' }, { header: 'LANES' }],
          engines.map((e) => [
            e.repoRoot,
            String(e.pid),
            e.version,
            `${formatAge(e.startedAt, now)} ago`,
            lanesCell(e),
          ]),
          `no engine runs for this user (none listed in ${registryDir()}); \`ao-console\` in a repo starts one`,
        ),
      );
    });
}
