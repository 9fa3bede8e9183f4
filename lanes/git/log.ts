/** Reading a lane's history: the commits a branch adds on top of its base. */
import { git } from './git.js';

/** The commits of `base..head` (oldest first), each with its subject; none when git cannot say. */
export async function laneCommits(
  repoRoot: string,
  base: string,
  head: string,
): Promise<{ sha: string; subject: string }[]> {
  const res = await git(['log', '--reverse', '--format=%H%x09%s', `${base}..${head}`, '--'], {
    cwd: repoRoot,
    allowFail: true,
  });
  if (res.exitCode !== 0 || !res.stdout) return [];
  return res.stdout.split('\n').map((line) => {
    const [sha, ...subject] = line.split('\t');
    return { sha, subject: subject.join('\t') };
  });
}
