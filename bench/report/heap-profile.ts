import { readFileSync } from 'node:fs';
import type { SamplingHeapProfile, SamplingHeapProfileNode } from '../harness/heap-sampling.ts';
import { area } from './cpu-profile.ts';

/**
 * Summarises a sampling heap profile (bench/harness/heap-sampling.ts, or `node --heap-prof`):
 * bytes allocated per call, by area (package, node: module, source directory) and by function,
 * each attributed to the frame that allocated; and the split between Tollgate's own share and
 * the transport's: an allocation is Tollgate's when the frame nearest to it that is either
 * Tollgate's (`src/`) or grpc-js's is Tollgate's. So what grpc-js and node:http2 do to send an
 * answer counts as transport even when Tollgate's handler called them synchronously, and what
 * Tollgate's code asks of a library (prom-client, Buffer) counts as Tollgate's.
 * Run: node bench/report/heap-profile.ts <file.heapprofile> [calls] [top N]
 */

export interface HeapSummary {
  /** Sampled bytes in the profile, divided by `calls`. */
  readonly bytesPerCall: number;
  /** Of those, Tollgate's own share (the nearest `src/` or grpc-js frame is `src/`). */
  readonly ownBytesPerCall: number;
  readonly byArea: readonly (readonly [string, number])[];
  readonly byFunction: readonly (readonly [string, number])[];
  /** The same per function, only for Tollgate's own share. */
  readonly ownByFunction: readonly (readonly [string, number])[];
}

/** True for Tollgate's frames, false for grpc-js's, undefined for anything else (inherits). */
function ownership(url: string): boolean | undefined {
  const where = area(url);
  if (where.startsWith('src/')) return true;
  if (where === '@grpc/grpc-js') return false;
  return undefined;
}

export function summarizeHeapProfile(profile: SamplingHeapProfile, calls: number, top = 20): HeapSummary {
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const ownByFunction = new Map<string, number>();
  let total = 0;
  let own = 0;
  const add = (m: Map<string, number>, key: string, bytes: number) => m.set(key, (m.get(key) ?? 0) + bytes);
  // Iterative walk: profiles of deep grpc-js stacks can be deeper than is comfortable to recurse.
  const stack: { node: SamplingHeapProfileNode; underOwn: boolean }[] = [
    { node: profile.head, underOwn: false },
  ];
  while (stack.length > 0) {
    const { node, underOwn } = stack.pop()!;
    const frame = node.callFrame;
    const ownHere = ownership(frame.url) ?? underOwn;
    if (node.selfSize > 0) {
      const name = frame.functionName || '(anonymous)';
      const key = frame.url ? `${name} ${area(frame.url)}:${frame.lineNumber + 1}` : name;
      total += node.selfSize;
      add(byArea, area(frame.url), node.selfSize);
      add(byFunction, key, node.selfSize);
      if (ownHere) {
        own += node.selfSize;
        add(ownByFunction, key, node.selfSize);
      }
    }
    for (const child of node.children) stack.push({ node: child, underOwn: ownHere });
  }
  const ranked = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, bytes]) => [k, bytes / calls] as const);
  return {
    bytesPerCall: total / calls,
    ownBytesPerCall: own / calls,
    byArea: ranked(byArea),
    byFunction: ranked(byFunction),
    ownByFunction: ranked(ownByFunction),
  };
}

/** The summary as plain text (for a log or a committed findings file). */
export function formatHeapSummary(summary: HeapSummary, what: string): string {
  const list = (rows: readonly (readonly [string, number])[]) =>
    rows.map(([k, bytes]) => `  ${Math.round(bytes).toString().padStart(6)} B  ${k}`).join('\n');
  return (
    `${what}: ${Math.round(summary.bytesPerCall)} B sampled per call, ` +
    `${Math.round(summary.ownBytesPerCall)} B of it Tollgate's own (nearest of src/ and grpc-js frames is src/)\n` +
    `by area (allocating frame):\n${list(summary.byArea)}\n` +
    `by function (allocating frame):\n${list(summary.byFunction)}\n` +
    `by function, Tollgate's own share:\n${list(summary.ownByFunction)}\n`
  );
}

if (process.argv[1] === import.meta.filename) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node bench/report/heap-profile.ts <file.heapprofile> [calls] [top]\n');
    process.exit(2);
  }
  const calls = Number(process.argv[3] ?? 1);
  const top = Number(process.argv[4] ?? 20);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as SamplingHeapProfile;
  process.stdout.write(formatHeapSummary(summarizeHeapProfile(profile, calls, top), file));
}
