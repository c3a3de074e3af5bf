import { execFileSync } from 'node:child_process';
import { REPO_ROOT } from './tollgate-authz.ts';

/**
 * The git revision a run measures. A result is only worth quoting when it names a commit that
 * holds exactly the code that ran, so a run refuses a working tree with changes unless told
 * (`--allow-dirty`), and a run that was told says so in its results and in BENCHMARKS.md.
 * Changes to what a run itself writes (bench/results/, BENCHMARKS.md, bench/profiles/) do not count.
 */

export interface Revision {
  readonly sha: string;
  /** Paths with uncommitted changes (untracked included), outside the run's own outputs. */
  readonly changed: readonly string[];
  /** True when the run went ahead on a changed tree (`--allow-dirty`). */
  readonly dirty: boolean;
}

const OWN_OUTPUTS = [/^bench\/results\//, /^BENCHMARKS\.md$/, /^bench\/profiles\//];

/** Paths of `git status --porcelain` output that are not the benchmark's own outputs. */
export function changedPaths(porcelain: string): string[] {
  return porcelain
    .split('\n')
    .filter((line) => line.length > 3)
    .map((line) => line.slice(3).replace(/^.* -> /, ''))
    .filter((path) => !OWN_OUTPUTS.some((own) => own.test(path)));
}

export function currentRevision(): { sha: string; changed: string[] } {
  const git = (args: string[]) =>
    execFileSync('git', ['-C', REPO_ROOT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return {
    sha: git(['rev-parse', 'HEAD']).trim(),
    changed: changedPaths(git(['status', '--porcelain', '--untracked-files=all'])),
  };
}

/** One line for the log and the report. */
export function describeRevision(revision: Revision): string {
  return revision.dirty
    ? `${revision.sha} with uncommitted changes (--allow-dirty): ${revision.changed.slice(0, 8).join(', ')}` +
        (revision.changed.length > 8 ? ` and ${revision.changed.length - 8} more` : '')
    : revision.sha;
}

/**
 * The revision to record; fails (before anything starts) on a changed tree unless
 * `allowDirty`, naming the changed paths.
 */
export function revisionForRun(allowDirty: boolean): Revision {
  const { sha, changed } = currentRevision();
  if (changed.length > 0 && !allowDirty) {
    throw new Error(
      `the working tree has uncommitted changes (${changed.slice(0, 5).join(', ')}${changed.length > 5 ? ', …' : ''}): ` +
        'commit them so the results name the code that ran, or pass --allow-dirty (the report will say so)',
    );
  }
  return { sha, changed, dirty: changed.length > 0 };
}
