/**
 * A profile of the cached Check's tail (issue #14, target 1: p99 at most 3× p50): where do the
 * slowest 1% of Checks spend their time? Not a benchmark (the servers carry a tracer), the
 * explanation next to one.
 *
 *   node bench/tail-profile.ts [--rates 1000,5000] [--repeats 2] [--duration 10] [--out FILE]
 *
 * Tollgate as shipped plus `--import bench/harness/tail-trace.ts` (its GC pauses and event-loop
 * stalls with wall-clock times), the grpc-js server that does no work (same tracer) and the
 * grpc-go one (no tracer: what the machine and generator show), pinned like part 1, the same
 * cached requests open loop from grpc-load, every call dumped. bench/report/tail-attribution.ts
 * then says, per run, which of the calls at or above the p99 overlapped a GC pause, another
 * stall, a late send, or none of these. Writes a markdown report (default
 * bench/profiles/check-tail.md) and keeps the raw dumps and traces in bench/tmp/<run>/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { type CheckTarget, loadCheck, warmUp } from './harness/check-load.ts';
import { createContext, WORKLOADS } from './harness/context.ts';
import { type Floor, startFloor } from './harness/floor-servers.ts';
import { runGrpcLoad } from './harness/grpc-load.ts';
import { priorityNote, type ServerProcess, stopAll, waitForIdle } from './harness/processes.ts';
import { describeRevision, revisionForRun } from './harness/revision.ts';
import { benchSettings } from './harness/settings.ts';
import { REPO_ROOT, startTollgateAuthz, tollgateNodeFlags } from './harness/tollgate-authz.ts';
import { machine, versions } from './harness/versions.ts';
import { table } from './report/markdown.ts';
import {
  attributeTail,
  CAUSES,
  type Cause,
  parseDump,
  parseTrace,
  type TailAttribution,
} from './report/tail-attribution.ts';

const TRACER = join(REPO_ROOT, 'bench', 'harness', 'tail-trace.ts');
const CAUSE_LABEL: Record<Cause, string> = {
  gc: 'a GC pause ≥ 1 ms in flight',
  stall: 'another stall of the server thread ≥ 2 ms',
  lag: 'sent ≥ 1 ms late by the generator',
  none: 'none of these',
};

interface Traced {
  readonly name: string;
  readonly target: CheckTarget;
  readonly proc: ServerProcess;
  /** The tracer's output; null for grpc-go. */
  readonly traceFile: string | null;
}

interface Row {
  readonly server: string;
  readonly rate: number;
  readonly repeat: number;
  readonly tail: TailAttribution;
}

const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '1000,5000' },
    repeats: { type: 'string', default: '2' },
    duration: { type: 'string', default: '10' },
    out: { type: 'string', default: join(REPO_ROOT, 'bench', 'profiles', 'check-tail.md') },
    'allow-dirty': { type: 'boolean', default: false },
  },
});
const rates = values.rates.split(',').map(Number);
const repeats = Number(values.repeats);
const durationSec = Number(values.duration);
if (rates.some((r) => !(r > 0)) || !(repeats >= 1) || !(durationSec >= 1)) {
  process.stderr.write('tail-profile: --rates r1,r2 (per second), --repeats N, --duration SEC\n');
  process.exit(2);
}

const revision = revisionForRun(values['allow-dirty']);
const runId = `tail-${new Date()
  .toISOString()
  .replace(/[-:]/g, '')
  .replace(/\.\d+Z$/, 'Z')}`;
const ctx = createContext(benchSettings(false, repeats), runId, false);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    Promise.allSettled([stopAll(), ctx.close()]).finally(() => process.exit(130));
  });
}

/** Starts a server with the tracer writing to its own file (the env is read at its start). */
async function traced<T>(name: string, start: () => Promise<T>): Promise<{ server: T; traceFile: string }> {
  const traceFile = join(ctx.runDir, `trace-${name}.csv`);
  process.env.TAIL_TRACE_FILE = traceFile;
  try {
    return { server: await start(), traceFile };
  } finally {
    delete process.env.TAIL_TRACE_FILE;
  }
}

async function startServers(): Promise<Traced[]> {
  const fx = await ctx.fixtures();
  const servers: Traced[] = [];
  const tollgate = await traced('tollgate', () =>
    startTollgateAuthz({
      name: 'tollgate-tail',
      dir: ctx.runDir,
      issuerUrl: fx.tokens.issuerUrl,
      aclFile: fx.tollgateAclFile,
      cpu: ctx.pinning.server,
      nodeArgs: ['--import', TRACER],
    }),
  );
  servers.push({
    name: 'tollgate',
    target: { name: 'tollgate', grpcTarget: tollgate.server.grpcTarget, pid: tollgate.server.proc.pid },
    proc: tollgate.server.proc,
    traceFile: tollgate.traceFile,
  });
  for (const kind of ['grpc-js', 'grpc-go'] as const satisfies readonly Floor[]) {
    const started =
      kind === 'grpc-go'
        ? { server: await startFloor(ctx, kind), traceFile: null }
        : await traced(kind, () => startFloor(ctx, kind, ['--import', TRACER]));
    servers.push({
      name: kind,
      target: { name: kind, grpcTarget: started.server.grpcTarget, pid: started.server.proc.pid },
      proc: started.server.proc,
      traceFile: started.traceFile,
    });
  }
  return servers;
}

async function measure(servers: readonly Traced[]): Promise<Row[]> {
  const pool = (await ctx.fixtures()).checkPools.cached;
  // Warmed as part 1 warms them: Tollgate on every workload (the fresh one fills its token
  // cache, which sizes its heap), the floors on the cached one.
  for (const s of servers) await warmUp(ctx, s.target, s.name === 'tollgate' ? WORKLOADS : ['cached']);
  const rows: Row[] = [];
  let turn = 0;
  for (let repeat = 1; repeat <= repeats; repeat++) {
    // Each repeat starts, as part 1's do, with a saturation run (closed loop, not analysed):
    // the heap's state at the fixed rates is then the state part 1 measures.
    for (const s of servers) {
      await loadCheck(ctx, s.target, 'cached', { rps: null, durationSec, concurrency: 64 });
    }
    for (const rate of rates) {
      const order = turn++ % 2 === 0 ? servers : [...servers].reverse();
      for (const s of order) {
        const dumpFile = join(ctx.runDir, `dump-${s.name}-${rate}-${repeat}.csv`);
        const run = await runGrpcLoad({
          bin: ctx.tools.grpcLoad,
          target: s.target.grpcTarget,
          requestsFile: pool.binaryFile,
          offset: 0,
          rps: rate,
          durationSec,
          concurrency: 64,
          cpu: ctx.pinning.loadgen,
          dumpFile,
        });
        await waitForIdle(s.proc.pid);
        const trace =
          s.traceFile && existsSync(s.traceFile) ? parseTrace(readFileSync(s.traceFile, 'utf8')) : null;
        const tail = attributeTail(parseDump(readFileSync(dumpFile, 'utf8')), run.startUnixUs, trace);
        rows.push({ server: s.name, rate, repeat, tail });
        ctx.log(
          `  ${s.name} ${rate}/s (run ${repeat}/${repeats}): p50 ${(tail.p50Us / 1000).toFixed(3)} ms, ` +
            `p99 ${(tail.p99Us / 1000).toFixed(3)} ms; slowest ${tail.slow}: ` +
            CAUSES.map((c) => `${c} ${tail.byCause[c]}`).join(', '),
        );
      }
    }
  }
  return rows;
}

function render(rows: readonly Row[]): string {
  const ms = (us: number) => (us / 1000).toFixed(us >= 10000 ? 1 : 3);
  const share = (r: Row, c: Cause) => `${Math.round((100 * r.tail.byCause[c]) / Math.max(1, r.tail.slow))}%`;
  const m = machine();
  const v = versions(ctx.tools);
  return [
    '# Where the cached Check’s slowest 1% go',
    '',
    '<!-- Generated by bench/tail-profile.ts; rerun it to replace. -->',
    '',
    `Run \`${runId}\`, ${new Date().toISOString().slice(0, 16)} UTC, ${describeRevision(revision)}; ` +
      `${m.cpus} × ${m.cpuModel}, Node ${v.node}, grpc-js ${v['@grpc/grpc-js']}.`,
    '',
    `- Command: \`node bench/tail-profile.ts --rates ${rates.join(',')} --repeats ${repeats} --duration ${durationSec}\`.`,
    `- Servers, alternated run by run, pinned to CPU ${ctx.pinning.server}, grpc-load on CPU ${ctx.pinning.loadgen}; ` +
      `${priorityNote()} \`tollgate authz\` as shipped (${tollgateNodeFlags().join(' ')}) and the grpc-js server ` +
      'that does no work, both with `--import bench/harness/tail-trace.ts`: every GC (perf_hooks) and every ' +
      'event-loop stall (a 1 ms interval timer firing more than 2 ms late) with wall-clock times; the grpc-go ' +
      'server that does no work, untraced: what this machine and generator show.',
    `- Load: the cached-token CheckRequests of part 1, open loop, ${durationSec} s per run, every call dumped ` +
      '(grpc-load -dump: due time, send lag, latency). A call at or above its run’s p99 is given the first of: ' +
      CAUSES.map((c) => CAUSE_LABEL[c]).join('; ') +
      ' (overlapping the call’s flight, from due to answer).',
    '- The tracer’s timer wakes the server ~1,000 times a second, so its p50 and p99 are not the benchmark’s; ' +
      'the attribution is what this is for.',
    '',
    table(
      [
        'server',
        'rate',
        'run',
        'p50 ms',
        'p99 ms',
        'calls ≥ p99',
        ...CAUSES.map((c) => CAUSE_LABEL[c]),
        'GC pauses ≥ 1 ms · longest ms',
        'stalls · longest ms',
      ],
      rows.map((r) => [
        r.server,
        `${r.rate.toLocaleString('en-US')}/s`,
        String(r.repeat),
        ms(r.tail.p50Us),
        ms(r.tail.p99Us),
        String(r.tail.slow),
        ...CAUSES.map((c) => (r.server === 'grpc-go' && (c === 'gc' || c === 'stall') ? '–' : share(r, c))),
        r.server === 'grpc-go' ? '–' : `${r.tail.gcPausesOver1Ms} · ${ms(r.tail.longestGcUs)}`,
        r.server === 'grpc-go' ? '–' : `${r.tail.stalls} · ${ms(r.tail.longestStallUs)}`,
      ]),
    ),
    '',
  ].join('\n');
}

let servers: Traced[] = [];
try {
  ctx.log(`tail profile ${runId}: rates ${rates.join(', ')}, ${repeats} repeats of ${durationSec} s`);
  servers = await startServers();
  const rows = await measure(servers);
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, render(rows));
  // `make lint` formats markdown under bench/ with biome: write it the way biome would.
  try {
    execFileSync(join(REPO_ROOT, 'node_modules', '.bin', 'biome'), ['format', '--write', values.out], {
      stdio: 'ignore',
    });
  } catch {
    ctx.log(`  (biome could not format ${values.out}; run make format before committing it)`);
  }
  ctx.log(`wrote ${values.out}; dumps and traces in ${ctx.runDir}`);
} finally {
  await Promise.allSettled(servers.map((s) => s.proc.stop()));
  await ctx.close();
}
