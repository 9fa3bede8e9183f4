/**
 * Named points where a test can hold the engine (to kill it there with SIGKILL): with
 * `AO_TEST_PAUSE_AT=merge:after-ref` (a comma-separated list) the process writes
 * `<AO_TEST_PAUSE_DIR>/<point>.paused` (its pid) when it reaches the point and waits while that
 * file exists. Unset, a point costs one lookup of the environment: production runs the same code.
 * The points: merge:after-intent (intent on disk, base not moved), merge:after-ref (base moved,
 * checkout not updated), merge:after-checkout (checkout updated, lane not yet recorded merged).
 */
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type PausePoint = 'merge:after-intent' | 'merge:after-ref' | 'merge:after-checkout';

export async function pausePoint(point: PausePoint): Promise<void> {
  const wanted = process.env.AO_TEST_PAUSE_AT;
  if (!wanted || !wanted.split(',').includes(point)) return;
  const marker = path.join(process.env.AO_TEST_PAUSE_DIR ?? os.tmpdir(), `${point.replace(/[^\w.-]/g, '_')}.paused`);
  writeFileSync(marker, String(process.pid));
  while (existsSync(marker)) await new Promise((r) => setTimeout(r, 20));
}
