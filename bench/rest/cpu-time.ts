import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time of whole process trees from /proc, for part 4's records per CPU-second: every
 * process on the request path (Envoy, Tollgate) is read with its descendants, so a helper
 * process a server forks is charged to it too. utime + stime of each live process, plus
 * cutime + cstime (what its exited, reaped children used).
 */

const CLOCK_TICKS = (() => {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const value = Number(out.stdout?.trim());
  return Number.isFinite(value) && value > 0 ? value : 100;
})();

interface Stat {
  readonly ppid: number;
  readonly ticks: number;
}

function readStat(pid: number): Stat | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state is field 3, ppid 4; utime, stime,
    // cutime and cstime are fields 14 to 17.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      ppid: Number(fields[1]),
      ticks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]),
    };
  } catch {
    return null;
  }
}

/** CPU seconds used so far by `pid` and every process below it; 0 for a pid that is gone. */
export function treeCpuSec(pid: number): number {
  const stats = new Map<number, Stat>();
  for (const entry of readdirSync('/proc')) {
    const child = Number(entry);
    if (!Number.isInteger(child)) continue;
    const stat = readStat(child);
    if (stat) stats.set(child, stat);
  }
  let ticks = 0;
  const todo = [pid];
  const seen = new Set<number>();
  while (todo.length > 0) {
    const next = todo.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    ticks += stats.get(next)?.ticks ?? 0;
    for (const [child, stat] of stats) if (stat.ppid === next) todo.push(child);
  }
  return ticks / CLOCK_TICKS;
}

/** CPU seconds of each named tree, read now. */
export function treesCpuSec(pids: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) out[name] = treeCpuSec(pid);
  return out;
}
