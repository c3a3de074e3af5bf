import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createAclTable } from '../harness/acl-fixture.ts';
import type { BenchContext } from '../harness/context.ts';
import { startEnvoy } from '../harness/envoy-variants.ts';
import { median } from '../harness/load-result.ts';
import { priorityNote, runToCompletion } from '../harness/processes.ts';
import type { BenchPart, PartResult, TargetVerdict } from '../harness/results.ts';
import { REPO_ROOT, sumMetric } from '../harness/tollgate-authz.ts';
import { errorsCell, ms, ratio, rps, spreadCell, table } from '../report/markdown.ts';
import type { LoaderResult, LoaderSpec } from '../rest/data-path-loader.ts';
import { bridgeVersion, type KafkaBridge, startKafkaBridge } from '../rest/kafka-bridge.ts';
import {
  createTopics,
  deleteTopics,
  fetchAliceToken,
  kafkajsVersion,
  type StackEnv,
} from '../rest/stack-env.ts';
import { runAloneAsMain } from '../rest/standalone.ts';
import { startTollgateServe } from '../rest/tollgate-serve.ts';

/**
 * Part 4: the REST data path. Produce (1 KiB records; batches of 1 and 100 per request, keyless
 * and keyed, one partition and four) with several principals at once, and consume (1 KiB
 * records, hundreds of thousands of them): (a) through Envoy -> tollgate serve (ext_authz, then
 * the REST proxy) -> Kafka, (b) with kafkajs straight to the broker (the ceiling, with the
 * settings of Tollgate's session producer, one producer per principal), (c) through the Strimzi
 * Kafka Bridge when it is installed. The systems alternate within each round. Besides
 * throughput, every run reads the CPU time of everything on its request path (the load client,
 * Envoy and Tollgate with their child processes; the broker is common to all and left out) and
 * reports records per CPU-second, so the result does not depend on how the cores are split.
 */

type System = 'tollgate' | 'direct' | 'bridge';
const SYSTEM_LABEL: Record<System, string> = {
  tollgate: '(a) Envoy → Tollgate',
  direct: '(b) kafkajs direct',
  bridge: '(c) Strimzi Kafka Bridge',
};

interface Workload {
  readonly id: string;
  readonly batch: number;
  readonly keyed: boolean;
  readonly partitions: number;
}

const WORKLOADS: readonly Workload[] = [
  { id: '1 per request, keyless, 1 partition', batch: 1, keyed: false, partitions: 1 },
  { id: '100 per request, keyless, 1 partition', batch: 100, keyed: false, partitions: 1 },
  { id: '100 per request, keyed, 1 partition', batch: 100, keyed: true, partitions: 1 },
  { id: '100 per request, keyless, 4 partitions', batch: 100, keyed: false, partitions: 4 },
  { id: '100 per request, keyed, 4 partitions', batch: 100, keyed: true, partitions: 4 },
];
const PARTITION_COUNTS = [...new Set(WORKLOADS.map((w) => w.partitions))];
/** Principals producing at once: each has its own Tollgate session (the batcher merges only within one). */
const PRINCIPALS = 8;
const RECORD_BYTES = 1024;
/** Issue #6: produce throughput through the gateway, 100-record batches. */
const TARGET_OF_DIRECT = 0.6;
/** Issue #14: records per CPU-second of the whole path, 100-record batches. */
const TARGET_CPU_OF_DIRECT = 0.8;
/** Consume fetch size (REST max_bytes, kafkajs maxBytes): the bound on what one fetch holds. */
const CONSUME_MAX_BYTES = 4 * 1024 * 1024;
const LOADER = join(REPO_ROOT, 'bench', 'rest', 'data-path-loader.ts');

interface Throughput {
  readonly recordsPerSec: number;
  readonly mbPerSec: number;
  readonly requestsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** CPU seconds over the run by process tree (client, envoy, tollgate, bridge). */
  readonly cpuSec: Readonly<Record<string, number>>;
  /** Records per CPU-second of everything on the path (the sum of cpuSec). */
  readonly recordsPerCpuSec: number;
}

interface Point {
  readonly system: System;
  readonly kind: 'produce' | 'consume';
  /** The produce workload's id; null for consume. */
  readonly workload: string | null;
  /** Records per request (produce); 0 for consume. */
  readonly batch: number;
  readonly median: Throughput;
  readonly runs: readonly Throughput[];
}

interface RestDataPathData {
  readonly systems: readonly System[];
  readonly bridge: { readonly version: string | null; readonly reason: string };
  readonly kafkajs: string;
  readonly concurrency: number;
  readonly principals: number;
  readonly consumeRecords: number;
  /** REST requests Tollgate authorized with the gate's handed-over check vs checked again (whole part). */
  readonly handoffs: { readonly used: number; readonly rechecked: number } | null;
  readonly points: readonly Point[];
}

/** tollgate_rest_check_handoffs_total by result, from Tollgate's /metrics. */
async function readHandoffs(metricsUrl: string): Promise<RestDataPathData['handoffs']> {
  const of = (result: string) =>
    sumMetric(metricsUrl, 'tollgate_rest_check_handoffs_total', `result="${result}"`);
  return { used: await of('used'), rechecked: await of('rechecked') };
}

function throughput(r: LoaderResult): Throughput {
  const sec = r.seconds > 0 ? r.seconds : Number.NaN;
  const cpu = Object.values(r.cpuSec ?? {}).reduce((a, b) => a + b, 0);
  return {
    recordsPerSec: r.records / sec,
    mbPerSec: (r.records * RECORD_BYTES) / 1e6 / sec,
    requestsPerSec: r.requests / sec,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    errors: r.errors,
    cpuSec: r.cpuSec ?? {},
    recordsPerCpuSec: cpu > 0 ? r.records / cpu : Number.NaN,
  };
}

function medianThroughput(runs: readonly Throughput[]): Throughput {
  const pick = (f: (t: Throughput) => number) => median(runs.map(f));
  const names = [...new Set(runs.flatMap((t) => Object.keys(t.cpuSec)))];
  return {
    recordsPerSec: pick((t) => t.recordsPerSec),
    mbPerSec: pick((t) => t.mbPerSec),
    requestsPerSec: pick((t) => t.requestsPerSec),
    p50Ms: pick((t) => t.p50Ms),
    p99Ms: pick((t) => t.p99Ms),
    // The worst run's, never a median: a failed run must show (load-result.ts medianOf).
    errors: runs.length === 0 ? Number.NaN : Math.max(...runs.map((t) => t.errors)),
    cpuSec: Object.fromEntries(names.map((n) => [n, pick((t) => t.cpuSec[n] ?? 0)])),
    recordsPerCpuSec: pick((t) => t.recordsPerCpuSec),
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

const benchUser = (i: number) => `bench-user-${i}`;

/**
 * Tollgate's ACL file for this part: the bench users may write and read the part's topics and
 * read as groups `alice-bench-*` (the broker sees every token as `alice`, whose own ACLs
 * allow `orders.*` and `alice-*`).
 */
function writeAclFile(path: string, topicPrefix: string): void {
  const allow = { principal: 'User:*', permissionType: 'ALLOW' };
  const acls = [
    ...['READ', 'WRITE'].map((operation) => ({
      ...allow,
      resourceType: 'TOPIC',
      patternType: 'PREFIXED',
      resourceName: topicPrefix,
      operation,
    })),
    {
      ...allow,
      resourceType: 'GROUP',
      patternType: 'PREFIXED',
      resourceName: 'alice-bench-',
      operation: 'READ',
    },
  ];
  const serviceUsers = Array.from({ length: PRINCIPALS }, (_, i) => benchUser(i));
  writeFileSync(
    path,
    `# Generated by bench/parts/rest-data-path.ts\n${stringify({ superUsers: [], serviceUsers, acls })}`,
  );
}

/** One token per bench principal: the stack's `alice` client with preferred_username=bench-user-N. */
async function mintTokens(stack: StackEnv): Promise<string[]> {
  return Promise.all(
    Array.from({ length: PRINCIPALS }, async (_, i) => {
      const { token } = await fetchAliceToken(stack, { preferred_username: benchUser(i) });
      return token;
    }),
  );
}

/** Per-round ratios of `a` to `b` (runs of one round are alternated back to back). */
function pairedRatios(
  a: readonly Throughput[],
  b: readonly Throughput[],
  f: (t: Throughput) => number,
): number[] {
  const n = Math.min(a.length, b.length);
  return Array.from({ length: n }, (_, i) => f(a[i]!) / f(b[i]!));
}

async function run(ctx: BenchContext): Promise<PartResult> {
  const startedAt = new Date();
  const { settings } = ctx;
  const stack = await ctx.stack();
  const bridgeInfo = bridgeVersion();
  const systems: System[] =
    bridgeInfo.version === null ? ['tollgate', 'direct'] : ['tollgate', 'direct', 'bridge'];
  const concurrency = settings.httpConnections;
  // Enough 1 KiB records that a direct read takes seconds, not a tenth of one (issue #14).
  const consumeRecords = settings.mode === 'quick' ? 200000 : 500000;
  const stamp = ctx.runDir.split('/').pop()!.toLowerCase();
  const topicPrefix = 'orders.bench-';
  const produceTopic = (partitions: number) => `${topicPrefix}produce-${partitions}p-${stamp}`;
  const consumeTopic = `${topicPrefix}consume-${stamp}`;
  const stops: Array<() => Promise<void>> = [];
  let handoffs: RestDataPathData['handoffs'] = null;
  const runs = new Map<string, Throughput[]>();
  const record = (system: System, key: string, t: Throughput) => {
    runs.set(`${system}/${key}`, [...(runs.get(`${system}/${key}`) ?? []), t]);
  };
  try {
    const topics = [
      ...PARTITION_COUNTS.map((partitions) => ({ topic: produceTopic(partitions), partitions })),
      { topic: consumeTopic, partitions: 1 },
    ];
    ctx.log(`part rest: topics ${topics.map((t) => `${t.topic} (${t.partitions})`).join(', ')}`);
    await createTopics(stack, topics);
    stops.push(() =>
      deleteTopics(
        stack,
        topics.map((t) => t.topic),
      ),
    );
    const aclFile = join(ctx.runDir, 'rest-acl.yaml');
    writeAclFile(aclFile, topicPrefix);
    const tollgate = await startTollgateServe({
      name: 'tollgate-rest',
      dir: ctx.runDir,
      issuerUrl: stack.issuerUrl,
      principalClaim: 'preferred_username',
      aclFile,
      kafkaBootstrap: stack.kafkaBootstrap,
      cpu: ctx.pinning.server,
      nodeArgs: ctx.profile ? ['--cpu-prof', '--cpu-prof-dir', join(ctx.runDir, 'profiles-rest')] : [],
    });
    stops.push(() => tollgate.proc.stop());
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
    stops.push(() => envoy.proc.stop());
    let bridge: KafkaBridge | null = null;
    if (systems.includes('bridge')) {
      bridge = await startKafkaBridge({ stack, dir: ctx.runDir, cpu: ctx.pinning.server });
      stops.push(() => bridge!.proc.stop());
    } else {
      ctx.log(`part rest: no bridge: ${bridgeInfo.reason}`);
    }
    const tokens = await mintTokens(stack);
    const watch = (system: System): Record<string, number> =>
      system === 'tollgate'
        ? { envoy: envoy.proc.pid, tollgate: tollgate.proc.pid }
        : system === 'bridge'
          ? { bridge: bridge!.proc.pid }
          : {};

    const produce = (system: System, w: Workload, durationSec: number): LoaderSpec => {
      const maxRequests = Math.ceil((durationSec * 50000) / w.batch);
      const shape = { batch: w.batch, recordBytes: RECORD_BYTES, keyed: w.keyed };
      if (system === 'direct') {
        return {
          mode: 'kafka-produce',
          brokers: [stack.kafkaBootstrap],
          tokens,
          topic: produceTopic(w.partitions),
          ...shape,
          concurrency,
          durationSec,
          maxRequests,
        };
      }
      const base = system === 'tollgate' ? envoy.url : bridge!.url;
      return {
        mode: 'http-produce',
        url: `${base}/topics/${produceTopic(w.partitions)}`,
        headers: {
          'content-type': 'application/vnd.kafka.binary.v2+json',
          accept: 'application/vnd.kafka.v2+json',
        },
        tokens: system === 'tollgate' ? tokens : [],
        watch: watch(system),
        ...shape,
        concurrency,
        durationSec,
        maxRequests,
      };
    };
    const consume = (system: System, group: string): LoaderSpec =>
      system === 'direct'
        ? {
            mode: 'kafka-consume',
            brokers: [stack.kafkaBootstrap],
            token: tokens[0]!,
            group,
            topic: consumeTopic,
            records: consumeRecords,
            timeoutSec: 120,
            maxBytes: CONSUME_MAX_BYTES,
          }
        : {
            mode: 'http-consume',
            baseUrl: system === 'tollgate' ? envoy.url : bridge!.url,
            headers: system === 'tollgate' ? { authorization: `Bearer ${tokens[0]!}` } : {},
            group,
            topic: consumeTopic,
            records: consumeRecords,
            timeoutSec: 120,
            maxBytes: CONSUME_MAX_BYTES,
            watch: watch(system),
          };

    ctx.log(`part rest: filling ${consumeTopic} with ${consumeRecords} records (kafkajs direct)`);
    const fill = await runLoader(
      ctx,
      {
        ...(produce('direct', WORKLOADS[1]!, 300) as Extract<LoaderSpec, { mode: 'kafka-produce' }>),
        topic: consumeTopic,
        concurrency: 8,
        maxRequests: consumeRecords / 100,
      },
      360,
    );
    if (fill.records < consumeRecords)
      throw new Error(`filling ${consumeTopic}: ${fill.records} records (${fill.firstError})`);

    ctx.log('part rest: probe and warm-up (unmeasured)');
    for (const system of systems) {
      for (const w of WORKLOADS) {
        const warm = await runLoader(
          ctx,
          produce(system, w, settings.warmupSec),
          settings.warmupSec * 3 + 60,
        );
        if (warm.requests === 0 || warm.errors > 0) {
          throw new Error(
            `${system} produce ${w.id}: ${warm.requests} ok, ${warm.errors} errors ${JSON.stringify(warm.statuses)} ${warm.firstError ?? ''}`,
          );
        }
      }
    }

    ctx.log('part rest: measuring, systems rotated each round');
    let turn = 0;
    for (let repeat = 0; repeat < settings.repeats; repeat++) {
      for (const w of WORKLOADS) {
        const shift = turn++ % systems.length;
        for (const system of [...systems.slice(shift), ...systems.slice(0, shift)]) {
          const r = await runLoader(
            ctx,
            produce(system, w, settings.durationSec),
            settings.durationSec * 3 + 60,
          );
          const t = throughput(r);
          record(system, `produce/${w.id}`, t);
          ctx.log(
            `  produce ${system} ${w.id} (run ${repeat + 1}/${settings.repeats}): ` +
              `${rps(t.recordsPerSec)} records/s, ${rps(t.recordsPerCpuSec)} records/CPU-s ` +
              `(${cpuBreakdown(t)}), p50 ${ms(t.p50Ms)} ms` +
              (r.errors > 0
                ? `, ${r.errors} errors ${JSON.stringify(r.statuses)} ${r.firstError ?? ''}`
                : ''),
          );
        }
      }
      const shift = turn++ % systems.length;
      for (const system of [...systems.slice(shift), ...systems.slice(0, shift)]) {
        const group = `alice-bench-${stamp}-${system}-${repeat}`;
        const r = await runLoader(ctx, consume(system, group), 180);
        const read = throughput(r);
        // Short of the records asked for (timed out): the run failed, whatever its rate says.
        const t = r.records < consumeRecords ? { ...read, errors: read.errors + 1 } : read;
        record(system, 'consume', t);
        ctx.log(
          `  consume ${system} (run ${repeat + 1}/${settings.repeats}): ${r.records} records in ${r.seconds.toFixed(2)} s, ` +
            `${rps(t.recordsPerSec)} records/s, ${rps(t.recordsPerCpuSec)} records/CPU-s (${cpuBreakdown(t)})` +
            (r.errors > 0 ? `, ${r.errors} errors ${r.firstError ?? ''}` : '') +
            (r.records < consumeRecords ? ` (short of ${consumeRecords}: counted as failed)` : ''),
        );
      }
    }
    handoffs = await readHandoffs(tollgate.metricsUrl).catch((err: Error) => {
      ctx.log(`part rest: could not read the hand-off counts: ${err.message}`);
      return null;
    });
    ctx.log(`part rest: REST checks handed over by the gate: ${JSON.stringify(handoffs)}`);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  }

  const points: Point[] = [];
  for (const system of systems) {
    for (const w of WORKLOADS) {
      const list = runs.get(`${system}/produce/${w.id}`) ?? [];
      points.push({
        system,
        kind: 'produce',
        workload: w.id,
        batch: w.batch,
        median: medianThroughput(list),
        runs: list,
      });
    }
    const list = runs.get(`${system}/consume`) ?? [];
    points.push({
      system,
      kind: 'consume',
      workload: null,
      batch: 0,
      median: medianThroughput(list),
      runs: list,
    });
  }
  const data: RestDataPathData = {
    systems,
    bridge: bridgeInfo,
    kafkajs: kafkajsVersion(),
    concurrency,
    principals: PRINCIPALS,
    consumeRecords,
    handoffs,
    points,
  };
  const pointOf = (system: System, workload: string | null) =>
    points.find((p) => p.system === system && p.workload === workload);
  const clean = (p: Point | undefined) =>
    p !== undefined && p.runs.length > 0 && p.runs.every((r) => r.errors === 0);
  const main = WORKLOADS[1]!.id;
  const at = (system: System, workload: string) =>
    pointOf(system, workload)?.median.recordsPerSec ?? Number.NaN;
  const ofDirect = at('tollgate', main) / at('direct', main);
  const ofBridge = at('tollgate', main) / at('bridge', main);
  const batched = WORKLOADS.filter((w) => w.batch === 100);
  const cpuRatios = batched.map((w) => {
    const a = pointOf('tollgate', w.id);
    const b = pointOf('direct', w.id);
    return {
      workload: w.id,
      ratio: median(pairedRatios(a?.runs ?? [], b?.runs ?? [], (t) => t.recordsPerCpuSec)),
      clean: clean(a) && clean(b),
    };
  });
  const cpuMeasured = cpuRatios.every((r) => Number.isFinite(r.ratio));
  const targets: TargetVerdict[] = [
    {
      target: `Produce through the gateway, 100-record batches, ${PRINCIPALS} principals: records per CPU-second of the whole path at least ${TARGET_CPU_OF_DIRECT}× direct kafkajs's, in every workload`,
      measured: cpuRatios
        .map((r) => `${r.workload}: ${ratio(r.ratio)}${r.clean ? '' : ' (failed runs)'}`)
        .join('; '),
      met: cpuMeasured ? cpuRatios.every((r) => r.clean && r.ratio >= TARGET_CPU_OF_DIRECT) : null,
    },
    {
      target: `Produce throughput through the gateway with 100-record batches (keyless, 1 partition): at least ${TARGET_OF_DIRECT * 100}% of direct kafkajs`,
      measured: `${rps(at('tollgate', main))} vs ${rps(at('direct', main))} records/s: ${ratio(ofDirect)}`,
      met: Number.isFinite(ofDirect)
        ? clean(pointOf('tollgate', main)) && ofDirect >= TARGET_OF_DIRECT
        : null,
    },
    {
      target: "Produce through the gateway with 100-record batches: at least the Strimzi bridge's",
      measured: Number.isFinite(ofBridge)
        ? `${rps(at('tollgate', main))} vs ${rps(at('bridge', main))} records/s: ${ratio(ofBridge)}`
        : `not measured: ${bridgeInfo.reason}`,
      met: Number.isFinite(ofBridge) ? clean(pointOf('tollgate', main)) && ofBridge >= 1 : null,
    },
  ];
  return {
    id: restDataPath.id,
    title: restDataPath.title,
    startedAt: startedAt.toISOString(),
    durationSec: (Date.now() - startedAt.getTime()) / 1000,
    method: [
      'Against a broker the benchmark starts itself (deploy/stack/stack.sh, one KRaft node, own ports): the gateway and the direct client on its ' +
        "OAUTHBEARER listener with tokens from the stack's issuer; the bridge (no OAuth) on its SASL PLAIN " +
        'admin listener. Fresh topics per run (1 and 4 partitions for produce, 1 for consume).',
      `${PRINCIPALS} principals at once: tokens of the stack's \`alice\` client minted with \`preferred_username=bench-user-N\`; Tollgate ` +
        "takes the principal from that claim, so each is its own session and producer (its batcher merges only that principal's requests), " +
        `while the broker sees \`alice\`. Client i of ${concurrency} uses principal i mod ${PRINCIPALS}.`,
      '(a) Envoy 1.40 (one worker, deploy/envoy/envoy.yaml) → `tollgate serve` (ext_authz over gRPC, then the REST ' +
        'proxy in the same process) → one session producer per principal.',
      `(b) kafkajs ${data.kafkajs}, one producer per principal (own connection and token) with Tollgate's session settings ` +
        '(idempotent, acks=all, maxInFlightRequests 1, same retries).',
      `Load: bench/rest/data-path-loader.ts, a Node process, closed loop with ${concurrency} concurrent clients ` +
        '(keep-alive HTTP/1.1 for (a) and (c); concurrent send() calls for (b)); bounded in requests and time. ' +
        `Bodies: \`application/vnd.kafka.binary.v2+json\`, ${RECORD_BYTES}-byte values (base64), keys \`key-000\`… when keyed; MB/s counts record values.`,
      'Records per CPU-second: records over the CPU time (user + system, all threads, from process.cpuUsage and /proc/<pid>/stat ' +
        'with every child process) of everything on the path during the measured window: the load client, plus Envoy and Tollgate for (a), ' +
        'plus the bridge for (c). The broker serves every system alike and is not counted. Ratios are per round (the runs of a round ' +
        'are back to back), min / median / max over the rounds; the target uses the median.',
      `Consume: one consumer (a fresh group) reads ${consumeRecords.toLocaleString('en-US')} pre-produced 1 KiB records from the ` +
        `beginning; REST: GET records (max_bytes ${CONSUME_MAX_BYTES / 1048576} MiB; Tollgate's consumer buffer is bounded by rest.consumerBufferMaxBytes, default 8 MiB) in a loop; ` +
        `direct: kafkajs eachBatch with maxBytes ${CONSUME_MAX_BYTES / 1048576} MiB. The clock and the CPU window start at the first ` +
        'fetch that returned records (group join excluded). A run that read fewer records than asked is failed.',
      ctx.pinning.server === null
        ? 'Not pinned.'
        : `Servers (Tollgate, Envoy, bridge) on CPU ${ctx.pinning.server}, the loader on CPU ${ctx.pinning.loadgen}; the broker is the stack's (unpinned). ${priorityNote()}`,
      `${settings.durationSec} s per produce run, ${settings.repeats} rounds, systems rotated each round; min / median / max shown; a point with errors in any run is failed.`,
      bridgeInfo.version === null
        ? `(c) not run: ${bridgeInfo.reason}.`
        : `(c) io.strimzi:kafka-bridge ${bridgeInfo.version}, producer acks=all, idempotent.`,
    ],
    data,
    targets,
  };
}

function cpuBreakdown(t: Throughput): string {
  return Object.entries(t.cpuSec)
    .map(([name, sec]) => `${name} ${sec.toFixed(2)} s`)
    .join(', ');
}

function render(result: PartResult): string {
  const data = result.data as RestDataPathData;
  const runsOf = (system: System, workload: string | null) =>
    data.points.find((p) => p.system === system && p.workload === workload)?.runs ?? [];
  const rows = data.points.map((p) => {
    const direct = runsOf('direct', p.workload);
    const bridge = runsOf('bridge', p.workload);
    const vs = (other: readonly Throughput[], f: (t: Throughput) => number) =>
      p.system === 'tollgate' && other.length > 0 ? spreadCell(pairedRatios(p.runs, other, f), ratio) : '–';
    return [
      p.kind === 'produce'
        ? `produce, ${p.workload}`
        : `consume, ${data.consumeRecords.toLocaleString('en-US')} records`,
      SYSTEM_LABEL[p.system],
      spreadCell(
        p.runs.map((r) => r.recordsPerSec),
        rps,
      ),
      spreadCell(
        p.runs.map((r) => r.mbPerSec),
        (v) => v.toFixed(1),
      ),
      p.kind === 'produce'
        ? spreadCell(
            p.runs.map((r) => r.p50Ms),
            ms,
          )
        : '–',
      spreadCell(
        p.runs.map((r) => r.recordsPerCpuSec),
        rps,
      ),
      cpuSplit(p.median.cpuSec),
      errorsCell(p.runs),
      vs(direct, (t) => t.recordsPerSec),
      vs(direct, (t) => t.recordsPerCpuSec),
      vs(bridge, (t) => t.recordsPerSec),
    ];
  });
  const handoffs =
    data.handoffs === null || data.handoffs === undefined
      ? ''
      : `\n\nREST requests Tollgate authorized with the gate's handed-over check: ${data.handoffs.used.toLocaleString('en-US')}; checked again in full: ${data.handoffs.rechecked.toLocaleString('en-US')}.`;
  const note = (data.bridge.version === null ? `\n\n(c) not run: ${data.bridge.reason}.` : '') + handoffs;
  return (
    table(
      [
        'workload',
        'system',
        'records/s',
        'MB/s',
        'p50 ms',
        'records/CPU-s',
        'CPU split (median s)',
        'errors',
        'Tollgate ÷ direct, records/s',
        'Tollgate ÷ direct, records/CPU-s',
        'Tollgate ÷ bridge, records/s',
      ],
      rows,
    ) + note
  );
}

function cpuSplit(cpu: Readonly<Record<string, number>> | undefined): string {
  if (!cpu) return '–';
  const parts = Object.entries(cpu).map(([name, sec]) => `${name} ${sec.toFixed(2)}`);
  return parts.length === 0 ? '–' : parts.join(', ');
}

export const restDataPath: BenchPart = {
  id: 'rest',
  title: 'REST data path: produce and consume through Envoy + Tollgate vs kafkajs direct vs Strimzi bridge',
  needs: ['envoy'],
  run,
  render,
};

if (import.meta.main) runAloneAsMain(restDataPath);
