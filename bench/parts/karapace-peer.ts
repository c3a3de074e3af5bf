import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAclTable, writeTollgateAclFile } from '../harness/acl-fixture.ts';
import type { BenchContext } from '../harness/context.ts';
import { startEnvoy } from '../harness/envoy-variants.ts';
import { median, spreadOf } from '../harness/load-result.ts';
import { principalAclTable, principalName } from '../harness/principal-fixture.ts';
import { priorityNote, runToCompletion, type ServerProcess } from '../harness/processes.ts';
import type { BenchPart, PartResult, TargetVerdict } from '../harness/results.ts';
import { REPO_ROOT } from '../harness/tollgate-authz.ts';
import { errorsCell, ms, ratio, rps, spreadCell, table } from '../report/markdown.ts';
import type { LoaderResult, LoaderSpec } from '../rest/data-path-loader.ts';
import { karapaceVersion, startKarapaceRest } from '../rest/karapace-rest.ts';
import { createTopics, deleteTopics, fetchAliceToken } from '../rest/stack-env.ts';
import { runAloneAsMain } from '../rest/standalone.ts';
import { startTollgateServe } from '../rest/tollgate-serve.ts';

/**
 * Issue #14, target 4: Karapace's own REST proxy (OAuth2 pass-through: the caller's bearer token
 * goes to the broker over OAUTHBEARER) as a peer of Tollgate's REST data path, on the same
 * broker, with the same tokens and the same load: JSON records (`application/vnd.kafka.json.v2+json`),
 * 100 × 1 KiB per request, 16 concurrent, with 1 and with 50 principals. Per system and run:
 * produce and consume throughput, p50/p99 per request, records per CPU-second (the proxy's
 * processes plus the load generator's, from /proc), and the proxy's RSS idle, at its peak under
 * load and after the load. Every run starts the system afresh, so each RSS reading is of that
 * run alone; systems alternate within each round.
 */

type System = 'tollgate' | 'tollgate-envoy' | 'karapace';
const SYSTEM_LABEL: Record<System, string> = {
  tollgate: "Tollgate's REST port (`tollgate serve`)",
  'tollgate-envoy': 'Envoy → Tollgate (ext_authz + REST)',
  karapace: 'Karapace REST (OAuth2 pass-through)',
};
const PRINCIPAL_COUNTS = [1, 50] as const;
const RECORDS_PER_REQUEST = 100;
const RECORD_BYTES = 1024;
const JSON_V2 = 'application/vnd.kafka.json.v2+json';
const LOADER = join(REPO_ROOT, 'bench', 'rest', 'data-path-loader.ts');
/** After the load, the proxy gets this long to give memory back before RSS is read. */
const SETTLE_MS = 5000;
/** Consumers at once with several principals (one per principal, each its own group). */
const CONSUMERS_MAX = 4;

interface Measure {
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** CPU of the proxy's processes (Tollgate, Envoy; Karapace) over the loader's run. */
  readonly serverCpuSec: number;
  /** CPU of the load generator over its measured interval. */
  readonly clientCpuSec: number;
  /** CPU of the broker over the same run (informational: not the proxy's, the same broker for all). */
  readonly brokerCpuSec: number;
  /** records ÷ (server + client CPU seconds). */
  readonly recordsPerCpuSec: number;
  readonly firstError?: string;
}

interface Memory {
  readonly idleBytes: number;
  readonly peakBytes: number;
  readonly afterBytes: number;
  /** Tollgate only: its V8 heap and off-heap figures after the load (prom-client's nodejs_*). */
  readonly tollgateAfter?: Readonly<Record<string, number>>;
}

interface Run {
  readonly system: System;
  readonly principals: number;
  readonly repeat: number;
  readonly produce: Measure;
  readonly consume: Measure;
  readonly memory: Memory;
}

interface KarapacePeerData {
  readonly karapace: string;
  readonly systems: readonly System[];
  readonly principalCounts: readonly number[];
  readonly concurrency: number;
  readonly consumeRecords: number;
  readonly consumers: Readonly<Record<number, number>>;
  readonly runs: readonly Run[];
}

/** A 1 KiB JSON object (serialised), the same for every record. */
export function jsonRecordValue(bytes: number): Record<string, unknown> {
  const skeleton = { seq: 0, region: 'eu', payload: '' };
  const pad = bytes - JSON.stringify(skeleton).length;
  return { ...skeleton, payload: 'x'.repeat(Math.max(0, pad)) };
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process (all its threads), in seconds; 0 once it is gone. */
function cpuSec(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

function rssBytes(pid: number): number {
  try {
    const kib = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return Number(kib ?? 0) * 1024;
  } catch {
    return 0;
  }
}

const totalRss = (pids: readonly number[]) => pids.reduce((sum, pid) => sum + rssBytes(pid), 0);
const totalCpu = (pids: readonly number[]) => pids.reduce((sum, pid) => sum + cpuSec(pid), 0);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Median of 3 readings 500 ms apart: one reading can land on a collection. */
async function steadyRss(pids: readonly number[]): Promise<number> {
  const readings: number[] = [];
  for (let i = 0; i < 3; i++) {
    if (i > 0) await sleep(500);
    readings.push(totalRss(pids));
  }
  return median(readings);
}

/** The highest summed RSS of `pids`, polled every 100 ms until stopped. */
function peakSampler(pids: readonly number[]): { stop(): number } {
  let peak = totalRss(pids);
  const timer = setInterval(() => {
    peak = Math.max(peak, totalRss(pids));
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, totalRss(pids));
    },
  };
}

async function runLoader(ctx: BenchContext, spec: LoaderSpec, timeoutSec: number): Promise<LoaderResult> {
  const out = await runToCompletion(
    ctx.pinning.loadgen,
    process.execPath,
    [LOADER, JSON.stringify(spec)],
    timeoutSec * 1000,
  );
  if (out.code !== 0) throw new Error(`loader ${spec.mode} exited ${out.code}: ${out.stderr.slice(-800)}`);
  return JSON.parse(out.stdout) as LoaderResult;
}

/** Runs the loader and charges it the CPU the proxy's processes and the broker spent meanwhile. */
async function measured(
  ctx: BenchContext,
  spec: LoaderSpec,
  timeoutSec: number,
  serverPids: readonly number[],
  brokerPid: number,
): Promise<Measure> {
  const server0 = totalCpu(serverPids);
  const broker0 = cpuSec(brokerPid);
  let r: LoaderResult;
  try {
    r = await runLoader(ctx, spec, timeoutSec);
  } catch (err) {
    // A loader that died is a failed run, not a lost part.
    r = {
      requests: 0,
      errors: 1,
      statuses: {},
      seconds: 0,
      records: 0,
      p50Ms: Number.NaN,
      p99Ms: Number.NaN,
      cpuSec: {},
      firstError: (err as Error).message,
    };
  }
  const serverCpuSec = totalCpu(serverPids) - server0;
  const clientCpuSec = r.cpuSec.client ?? 0;
  const brokerCpuSec = cpuSec(brokerPid) - broker0;
  return {
    records: r.records,
    seconds: r.seconds,
    recordsPerSec: r.seconds > 0 ? r.records / r.seconds : Number.NaN,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    errors: r.errors,
    serverCpuSec,
    clientCpuSec,
    brokerCpuSec,
    recordsPerCpuSec: r.records / (serverCpuSec + clientCpuSec),
    ...(r.firstError === undefined ? {} : { firstError: r.firstError }),
  };
}

interface Started {
  readonly url: string;
  readonly pids: readonly number[];
  readonly procs: readonly ServerProcess[];
  readonly tollgateMetricsUrl?: string;
}

async function tollgateAfterFigures(metricsUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) })).text();
  const figures: Record<string, number> = {};
  for (const name of [
    'tollgate_nodejs_heap_size_used_bytes',
    'tollgate_nodejs_heap_size_total_bytes',
    'tollgate_nodejs_external_memory_bytes',
    'tollgate_process_resident_memory_bytes',
  ]) {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    if (line) figures[name.replace('tollgate_', '')] = Number(line.split(' ').pop());
  }
  return figures;
}

async function run(ctx: BenchContext): Promise<PartResult> {
  const startedAt = new Date();
  const { settings } = ctx;
  const info = karapaceVersion();
  if (info.version === null) throw new Error(`part karapace: ${info.reason}`);
  const stack = await ctx.stack();
  const brokerPid = Number(readFileSync(join(ctx.runDir, 'stack', 'pids', 'kafka.pid'), 'utf8').trim());
  const systems: System[] = ['tollgate', 'tollgate-envoy', 'karapace'];
  const concurrency = settings.httpConnections;
  const consumeRecords = settings.mode === 'quick' ? 20000 : 50000;
  // Each consumer reads the whole topic, so every one makes several fetches (with 16 consumers
  // sharing 20,000 records, each got its share in its first 4 MiB fetch: a measure of group
  // joins, not of consumption).
  const consumers: Record<number, number> = Object.fromEntries(
    PRINCIPAL_COUNTS.map((n) => [n, Math.min(n, CONSUMERS_MAX)]),
  );
  const stamp = ctx.runDir.split('/').pop()!.toLowerCase();
  const produceTopic = `orders.bench-kp-produce-${stamp}`;
  const consumeTopic = `orders.bench-kp-consume-${stamp}`;
  const maxPrincipals = Math.max(...PRINCIPAL_COUNTS);
  const principals = Array.from({ length: maxPrincipals }, (_, i) => principalName(i));
  // Tollgate takes the principal from preferred_username (as part 5 does): the stack's issuer
  // signs `sub` = alice for its alice client only, so the broker sees alice for every token
  // (its ACLs allow orders.* and groups alice-*), while Tollgate sees 50 principals with 50
  // sessions and Karapace 50 Authorization headers with 50 sets of Kafka clients.
  const aclFile = join(ctx.runDir, 'karapace-peer-acl.yaml');
  writeTollgateAclFile(principalAclTable(principals), aclFile);
  const bodyFile = join(ctx.runDir, 'karapace-peer-produce.json');
  const value = jsonRecordValue(RECORD_BYTES);
  writeFileSync(
    bodyFile,
    JSON.stringify({ records: Array.from({ length: RECORDS_PER_REQUEST }, () => ({ value })) }),
  );
  const runs: Run[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  try {
    ctx.log(
      `part karapace: Karapace ${info.version}; topics ${produceTopic}, ${consumeTopic} (1 partition each)`,
    );
    await createTopics(stack, [
      { topic: produceTopic, partitions: 1 },
      { topic: consumeTopic, partitions: 1 },
    ]);
    cleanups.push(() => deleteTopics(stack, [produceTopic, consumeTopic]));
    ctx.log(`part karapace: minting ${maxPrincipals} tokens (preferred_username=${principals[0]}…)`);
    const tokens: string[] = [];
    for (const p of principals) tokens.push((await fetchAliceToken(stack, { preferred_username: p })).token);

    const produceSpec = (url: string, n: number, durationSec: number, maxRequests?: number): LoaderSpec => ({
      mode: 'http-produce',
      url: `${url}/topics/${produceTopic}`,
      headers: { 'content-type': JSON_V2, accept: 'application/vnd.kafka.v2+json' },
      tokens: tokens.slice(0, n),
      bodyFile,
      batch: RECORDS_PER_REQUEST,
      recordBytes: RECORD_BYTES,
      keyed: false,
      concurrency,
      durationSec,
      maxRequests: maxRequests ?? Math.ceil((durationSec * 100000) / RECORDS_PER_REQUEST),
    });

    const startSystem = async (system: System, label: string): Promise<Started> => {
      if (system === 'karapace') {
        const k = await startKarapaceRest({ name: label, stack, dir: ctx.runDir, cpu: ctx.pinning.server });
        return { url: k.url, pids: [k.proc.pid], procs: [k.proc] };
      }
      const tollgate = await startTollgateServe({
        name: label,
        dir: ctx.runDir,
        issuerUrl: stack.issuerUrl,
        principalClaim: 'preferred_username',
        aclFile,
        kafkaBootstrap: stack.kafkaBootstrap,
        cpu: ctx.pinning.server,
      });
      if (system === 'tollgate') {
        return {
          url: tollgate.restUrl,
          pids: [tollgate.proc.pid],
          procs: [tollgate.proc],
          tollgateMetricsUrl: tollgate.metricsUrl,
        };
      }
      try {
        const envoy = await startEnvoy({
          variant: 'tollgate',
          envoy: ctx.tools.envoy,
          dir: ctx.runDir,
          cpu: ctx.pinning.server,
          upstreamPort: Number(new URL(tollgate.restUrl).port),
          authzPort: tollgate.grpcPort,
          issuerUrl: stack.issuerUrl,
          jwksJson: '{"keys":[]}',
          acl: createAclTable(0),
        });
        return {
          url: envoy.url,
          pids: [tollgate.proc.pid, envoy.proc.pid],
          procs: [envoy.proc, tollgate.proc],
          tollgateMetricsUrl: tollgate.metricsUrl,
        };
      } catch (err) {
        await tollgate.proc.stop();
        throw err;
      }
    };

    // The consume topic is filled once, with the same JSON records, through a Tollgate of its own.
    {
      ctx.log(`part karapace: filling ${consumeTopic} with ${consumeRecords} JSON records`);
      const filler = await startSystem('tollgate', 'kp-fill-tollgate');
      try {
        const fill = await runLoader(
          ctx,
          {
            ...(produceSpec(filler.url, 1, 120, consumeRecords / RECORDS_PER_REQUEST) as Extract<
              LoaderSpec,
              { mode: 'http-produce' }
            >),
            url: `${filler.url}/topics/${consumeTopic}`,
            concurrency: 4,
          },
          180,
        );
        if (fill.records < consumeRecords || fill.errors > 0)
          throw new Error(
            `filling ${consumeTopic}: ${fill.records} records, ${fill.errors} errors ${fill.firstError ?? ''}`,
          );
      } finally {
        for (const p of filler.procs) await p.stop();
      }
    }

    ctx.log('part karapace: measuring; each run starts its system afresh, systems rotated each round');
    let turn = 0;
    for (const n of PRINCIPAL_COUNTS) {
      for (let repeat = 0; repeat < settings.repeats; repeat++) {
        const shift = turn++ % systems.length;
        for (const system of [...systems.slice(shift), ...systems.slice(0, shift)]) {
          const label = `kp-${system}-${n}p-${repeat}`;
          const started = await startSystem(system, label);
          try {
            await sleep(2000);
            const idleBytes = await steadyRss(started.pids);
            const peak = peakSampler(started.pids);
            // Warm-up (unmeasured): JIT, and every principal's session or Kafka clients opened.
            const warm = await runLoader(
              ctx,
              produceSpec(started.url, n, settings.warmupSec),
              settings.warmupSec * 3 + 60,
            ).catch((err: unknown) => ({ errors: 1, requests: 0, firstError: (err as Error).message }));
            const produce = await measured(
              ctx,
              produceSpec(started.url, n, settings.durationSec),
              settings.durationSec * 3 + 60,
              started.pids,
              brokerPid,
            );
            const consume = await measured(
              ctx,
              {
                mode: 'http-consume',
                baseUrl: started.url,
                headers: {},
                tokens: tokens.slice(0, consumers[n]),
                group: `alice-kp-${stamp}-${system}-${n}-${repeat}`,
                topic: consumeTopic,
                records: consumeRecords * consumers[n]!,
                timeoutSec: 90,
                maxBytes: 4 * 1024 * 1024,
                format: 'json',
              },
              150,
              started.pids,
              brokerPid,
            );
            const peakBytes = peak.stop();
            await sleep(SETTLE_MS);
            const afterBytes = await steadyRss(started.pids);
            const tollgateAfter = started.tollgateMetricsUrl
              ? await tollgateAfterFigures(started.tollgateMetricsUrl).catch(() => undefined)
              : undefined;
            // Warm-up errors fail the run too: a proxy that refused callers must not read as clean.
            const produceWithWarm: Measure =
              warm.errors > 0 || warm.requests === 0
                ? {
                    ...produce,
                    errors: produce.errors + Math.max(1, warm.errors),
                    firstError: produce.firstError ?? `warm-up: ${warm.firstError ?? 'no request answered'}`,
                  }
                : produce;
            const result: Run = {
              system,
              principals: n,
              repeat,
              produce: produceWithWarm,
              consume,
              memory: { idleBytes, peakBytes, afterBytes, ...(tollgateAfter ? { tollgateAfter } : {}) },
            };
            runs.push(result);
            const mib = (b: number) => (b / 2 ** 20).toFixed(0);
            const errs = (m: Measure) =>
              m.errors > 0 ? ` **${m.errors} errors** (${m.firstError ?? ''})` : '';
            ctx.log(
              `  ${system}, ${n} principal(s), run ${repeat + 1}/${settings.repeats}: produce ${rps(produce.recordsPerSec)} rec/s ` +
                `p50 ${ms(produce.p50Ms)} p99 ${ms(produce.p99Ms)} ms, ${rps(produce.recordsPerCpuSec)} rec/CPU-s${errs(produceWithWarm)}; ` +
                `consume ${rps(consume.recordsPerSec)} rec/s, ${rps(consume.recordsPerCpuSec)} rec/CPU-s${errs(consume)}; ` +
                `RSS ${mib(idleBytes)} / ${mib(peakBytes)} / ${mib(afterBytes)} MiB` +
                (tollgateAfter
                  ? ` (heap used ${mib(tollgateAfter.nodejs_heap_size_used_bytes ?? Number.NaN)}, total ${mib(tollgateAfter.nodejs_heap_size_total_bytes ?? Number.NaN)}, external ${mib(tollgateAfter.nodejs_external_memory_bytes ?? Number.NaN)} MiB)`
                  : ''),
            );
          } finally {
            for (const p of started.procs) await p.stop();
          }
        }
      }
    }
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  }

  const data: KarapacePeerData = {
    karapace: info.version,
    systems,
    principalCounts: [...PRINCIPAL_COUNTS],
    concurrency,
    consumeRecords,
    consumers,
    runs,
  };
  return {
    id: karapacePeer.id,
    title: karapacePeer.title,
    startedAt: startedAt.toISOString(),
    durationSec: (Date.now() - startedAt.getTime()) / 1000,
    method: [
      `Karapace ${info.version} (Aiven, upstream source unmodified; \`make deps\` installs it into .tools/karapace-venv ` +
        'from ../shared/peers/karapace) as its REST proxy, `rest_authorization=true`: each distinct Authorization header ' +
        "gets Kafka clients of its own that present the caller's token to the broker over OAUTHBEARER. " +
        "`producer_acks=all` (the durability of Tollgate's idempotent acks=all session producer; Karapace's default is 1), " +
        'everything else its defaults (linger 100 ms), log level WARNING.',
      'Tollgate: `tollgate serve` as shipped (deploy/node-flags), its REST port directly, and through Envoy 1.40 (one worker, ' +
        'deploy/envoy/envoy.yaml: ext_authz to the same process, then its REST port).',
      "Same broker (the one the benchmark starts), same tokens: tokens of the stack issuer's `alice` client with " +
        '`preferred_username` = p00000…p00049; Tollgate maps that claim to its principal (one session each), Karapace keys ' +
        'its clients by the header (one set each); the broker sees `alice` for all of them.',
      `Load: bench/rest/data-path-loader.ts, closed loop, ${concurrency} concurrent keep-alive HTTP/1.1 clients, each POST ` +
        `${RECORDS_PER_REQUEST} JSON records of ${RECORD_BYTES} bytes (\`${JSON_V2}\`) to one single-partition topic; with ` +
        'several principals the requests take their tokens in turn. Consume: one JSON consumer per principal (at most ' +
        `${CONSUMERS_MAX}, at once, each its own group) reads the ${consumeRecords.toLocaleString('en-US')} pre-produced ` +
        'records from the beginning (max_bytes 4 MiB per fetch); the clock starts at the first non-empty fetch.',
      "Records per CPU-second: records ÷ (CPU of the proxy's processes — Tollgate, plus Envoy where used; Karapace — from " +
        "/proc/<pid>/stat utime+stime over the loader's run, plus the loader's own process.cpuUsage over its measured " +
        "interval). The broker's CPU over the same interval is recorded beside it (the same broker for all). " +
        'Consume CPU includes creating, subscribing and deleting the consumers.',
      "RSS (VmRSS, summed over the proxy's processes): idle = 2 s after ready, before any request; peak = highest reading " +
        `every 100 ms from warm-up to the end of consume; after = ${SETTLE_MS / 1000} s after the load. Each run starts its ` +
        'system afresh.',
      `${settings.warmupSec} s unmeasured warm-up, ${settings.durationSec} s produce per run, ${settings.repeats} rounds ` +
        'per principal count, systems rotated each round; min / median / max over the rounds; ratios Tollgate ÷ Karapace ' +
        'per round (same round), min / median / max. A run with errors (warm-up included) is failed.',
      ctx.pinning.server === null
        ? 'Not pinned.'
        : `Proxies (Tollgate, Envoy, Karapace) on CPU ${ctx.pinning.server}, the loader on CPU ${ctx.pinning.loadgen}; the broker is unpinned. ${priorityNote()}`,
    ],
    data,
    targets: targetsOf(data),
  };
}

type Figure = (r: Run) => number;
const FIGURES: ReadonlyArray<{ label: string; of: Figure; lowerIsBetter: boolean }> = [
  { label: 'produce records/s', of: (r) => r.produce.recordsPerSec, lowerIsBetter: false },
  { label: 'produce p50', of: (r) => r.produce.p50Ms, lowerIsBetter: true },
  { label: 'produce p99', of: (r) => r.produce.p99Ms, lowerIsBetter: true },
  { label: 'produce records/CPU-s', of: (r) => r.produce.recordsPerCpuSec, lowerIsBetter: false },
  { label: 'consume records/s', of: (r) => r.consume.recordsPerSec, lowerIsBetter: false },
  { label: 'consume records/CPU-s', of: (r) => r.consume.recordsPerCpuSec, lowerIsBetter: false },
  { label: 'RSS idle', of: (r) => r.memory.idleBytes, lowerIsBetter: true },
  { label: 'RSS peak', of: (r) => r.memory.peakBytes, lowerIsBetter: true },
  { label: 'RSS after load', of: (r) => r.memory.afterBytes, lowerIsBetter: true },
];

const isClean = (r: Run) => r.produce.errors === 0 && r.consume.errors === 0;

/** Tollgate ÷ Karapace of one figure, round by round (the same round's runs paired). */
function ratios(data: KarapacePeerData, system: System, n: number, of: Figure): number[] {
  const out: number[] = [];
  for (const r of data.runs.filter((x) => x.system === system && x.principals === n)) {
    const k = data.runs.find((x) => x.system === 'karapace' && x.principals === n && x.repeat === r.repeat);
    if (k) out.push(of(r) / of(k));
  }
  return out;
}

function targetsOf(data: KarapacePeerData): TargetVerdict[] {
  return data.principalCounts.map((n) => {
    const mine = data.runs.filter((r) => r.principals === n && r.system === 'tollgate');
    const theirs = data.runs.filter((r) => r.principals === n && r.system === 'karapace');
    const clean = mine.length > 0 && mine.every(isClean);
    const parts = FIGURES.map((f) => {
      const q = median(ratios(data, 'tollgate', n, f.of));
      return { label: f.label, q, leads: f.lowerIsBetter ? q < 1 : q > 1 };
    });
    const measurable = mine.length > 0 && theirs.length > 0 && parts.every((p) => Number.isFinite(p.q));
    return {
      target: `Tollgate's REST port leads Karapace's REST proxy on every figure, memory included (${n} principal${n === 1 ? '' : 's'}; ratios Tollgate ÷ Karapace)`,
      measured: measurable
        ? parts.map((p) => `${p.label} ${ratio(p.q)}${p.leads ? '' : ' (behind)'}`).join('; ') +
          (clean ? '' : '; Tollgate runs had errors')
        : 'not measured',
      met: measurable ? clean && parts.every((p) => p.leads) : null,
    };
  });
}

function render(result: PartResult): string {
  const data = result.data as KarapacePeerData;
  const mib = (b: number) => (Number.isFinite(b) ? (b / 2 ** 20).toFixed(0) : '–');
  const sections: string[] = [];
  for (const n of data.principalCounts) {
    const of = (system: System) => data.runs.filter((r) => r.system === system && r.principals === n);
    const perf = data.systems.map((system) => {
      const runs = of(system);
      const cell = (f: Figure, fmt: (v: number) => string) => spreadCell(runs.map(f), fmt);
      return [
        SYSTEM_LABEL[system],
        cell((r) => r.produce.recordsPerSec, rps),
        cell((r) => r.produce.p50Ms, ms),
        cell((r) => r.produce.p99Ms, ms),
        cell((r) => r.produce.recordsPerCpuSec, rps),
        cell(
          (r) =>
            r.produce.records / (r.produce.serverCpuSec + r.produce.clientCpuSec + r.produce.brokerCpuSec),
          rps,
        ),
        errorsCell(runs.map((r) => r.produce)),
        cell((r) => r.consume.recordsPerSec, rps),
        cell((r) => r.consume.p50Ms, ms),
        cell((r) => r.consume.p99Ms, ms),
        cell((r) => r.consume.recordsPerCpuSec, rps),
        errorsCell(runs.map((r) => r.consume)),
      ];
    });
    const memory = data.systems.map((system) => {
      const runs = of(system);
      return [
        SYSTEM_LABEL[system],
        spreadCell(
          runs.map((r) => r.memory.idleBytes),
          mib,
        ),
        spreadCell(
          runs.map((r) => r.memory.peakBytes),
          mib,
        ),
        spreadCell(
          runs.map((r) => r.memory.afterBytes),
          mib,
        ),
      ];
    });
    const ratioRows = (['tollgate', 'tollgate-envoy'] as const).map((system) => [
      SYSTEM_LABEL[system],
      ...FIGURES.map((f) => {
        const values = ratios(data, system, n, f.of);
        const s = spreadOf(values);
        return Number.isFinite(s.median) ? spreadCell(values, ratio) : '–';
      }),
    ]);
    sections.push(
      `**${n} principal${n === 1 ? '' : 's'}** (consume: ${data.consumers[n]} consumer${data.consumers[n] === 1 ? '' : 's'})\n\n` +
        table(
          [
            'system',
            'produce records/s',
            'p50 ms',
            'p99 ms',
            'records/CPU-s',
            'records/CPU-s incl. broker',
            'errors',
            'consume records/s',
            'fetch p50 ms',
            'fetch p99 ms',
            'records/CPU-s',
            'errors',
          ],
          perf,
        ) +
        '\n\n' +
        table(['system', 'RSS idle MiB', 'RSS peak MiB', 'RSS after load MiB'], memory) +
        '\n\nTollgate ÷ Karapace, round by round (below 1 is better for latency and RSS):\n\n' +
        table(['system', ...FIGURES.map((f) => f.label)], ratioRows),
    );
  }
  return sections.join('\n\n');
}

export const karapacePeer: BenchPart = {
  id: 'karapace',
  title: "Against Karapace's REST proxy: throughput, CPU and memory with 1 and 50 principals",
  needs: ['envoy'],
  run,
  render,
};

if (import.meta.main) runAloneAsMain(karapacePeer);
