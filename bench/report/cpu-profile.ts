import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../harness/tollgate-authz.ts';

/**
 * Summarises `node --cpu-prof` profiles (from `node bench/run.ts --profile`): self time per
 * function and per package or source directory, so a missed target comes with what the CPU
 * was doing. Run: node bench/report/cpu-profile.ts <file.cpuprofile | directory> [top N]
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives: a package, a node: module, or a source directory of this repo. */
export function area(url: string): string {
  if (url === '') return '(native / V8)';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (path.startsWith('node:')) return path;
  const rel = relative(REPO_ROOT, path);
  return rel.startsWith('..') ? path : rel.split('/').slice(0, 2).join('/');
}

export function summarizeProfile(profile: Profile, top: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
    total += dt;
  });
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let idle = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    // Shares are of busy time: waiting for work is not a cost.
    if (frame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const name = frame.functionName || '(anonymous)';
    const where = frame.url ? `${area(frame.url)}:${frame.lineNumber + 1}` : '';
    const key = where ? `${name} ${where}` : name;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    byArea.set(area(frame.url), (byArea.get(area(frame.url)) ?? 0) + us);
  }
  const busy = total - idle;
  const pct = (us: number) => `${((us / busy) * 100).toFixed(1).padStart(5)}%`;
  const list = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `  ${pct(us)}  ${k}`)
      .join('\n');
  return (
    `${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (shares below are of busy time)\n` +
    `self time by area:\n${list(byArea)}\nself time by function:\n${list(byFunction)}\n`
  );
}

if (process.argv[1] === import.meta.filename) {
  const target = process.argv[2];
  const top = Number(process.argv[3] ?? 25);
  if (!target) {
    process.stderr.write('usage: node bench/report/cpu-profile.ts <file.cpuprofile | dir> [top]\n');
    process.exit(2);
  }
  const files = statSync(target).isDirectory()
    ? readdirSync(target)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(target, f))
    : [target];
  for (const file of files) {
    process.stdout.write(`== ${file}\n${summarizeProfile(JSON.parse(readFileSync(file, 'utf8')), top)}\n`);
  }
}
