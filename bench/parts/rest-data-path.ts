import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAclTable } from '../harness/acl-fixture.ts';
import type { BenchContext } from '../harness/context.ts';
import { startEnvoy } from '../harness/envoy-variants.ts';
import { median } from '../harness/load-result.ts';
import { priorityNote, runToCompletion } from '../harness/processes.ts';
import type { BenchPart, PartResult, TargetVerdict } from '../harness/results.ts';
import { REPO_ROOT } from '../harness/tollgate-authz.ts';
import { errorsCell, ms, ratio, rps, spreadCell, table } from '../report/markdown.ts';
import type { LoaderResult, LoaderSpec } from '../rest/data-path-loader.ts';
import { bridgeVersion, type KafkaBridge, startKafkaBridge } from '../rest/kafka-bridge.ts';
import { createTopics, deleteTopics, fetchAliceToken, kafkajsVersion } from '../rest/stack-env.ts';
import { runAlone } from '../rest/standalone.ts';
import { startTollgateServe } from '../rest/tollgate-serve.ts';

/**
 * Part 4: the REST data path. Produce (1 KiB records, batches of 1 and 100 per request) and
 * consume throughput (a) through Envoy -> tollgate authz -> tollgate rest -> Kafka, (b) with a
 * kafkajs client straight to the broker (the ceiling, with the settings of Tollgate's session
 * producer), (c) through the Strimzi Kafka Bridge when it is installed. The systems alternate
 * within each round; medians of the repeats are quoted.
 */

type System = 'tollgate' | 'direct' | 'bridge';
const SYSTEM_LABEL: Record<System, string> = {
  tollgate: '(a) Envoy → Tollgate authz → rest',
  direct: '(b) kafkajs direct (ceiling)',
  bridge: '(c) Strimzi Kafka Bridge',
};
const BATCHES = [1, 100] as const;
const RECORD_BYTES = 1024;
const TARGET_OF_DIRECT = 0.6;
const LOADER = join(REPO_ROOT, 'bench', 'rest', 'data-path-loader.ts');

interface Throughput {
  readonly recordsPerSec: number;
  readonly mbPerSec: number;
  readonly requestsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
}

interface Point {
  readonly system: System;
  /** Records per request; 0 for consume. */
  readonly batch: number;
  readonly kind: 'produce' | 'consume';
  readonly median: Throughput;
  readonly runs: readonly Throughput[];
}

interface RestDataPathData {
  readonly systems: readonly System[];
  readonly bridge: { readonly version: string | null; readonly reason: string };
  readonly kafkajs: string;
  readonly concurrency: number;
  readonly consumeRecords: number;
  readonly points: readonly Point[];
}

function throughput(r: LoaderResult): Throughput {
  const sec = r.seconds > 0 ? r.seconds : Number.NaN;
  return {
    recordsPerSec: r.records / sec,
    mbPerSec: (r.records * RECORD_BYTES) / 1e6 / sec,
    requestsPerSec: r.requests / sec,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    errors: r.errors,
  };
}

function medianThroughput(runs: readonly Throughput[]): Throughput {
  const pick = (f: (t: Throughput) => number) => median(runs.map(f));
  return {
    recordsPerSec: pick((t) => t.recordsPerSec),
    mbPerSec: pick((t) => t.mbPerSec),
    requestsPerSec: pick((t) => t.requestsPerSec),
    p50Ms: pick((t) => t.p50Ms),
    p99Ms: pick((t) => t.p99Ms),
    // The worst run's, never a median: a failed run must show (load-result.ts medianOf).
    errors: runs.length === 0 ? Number.NaN : Math.max(...runs.map((t) => t.errors)),
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

function produceBody(batch: number): string {
  const value = Buffer.alloc(RECORD_BYTES, 0x61).toString('base64');
  return JSON.stringify({ records: Array.from({ length: batch }, () => ({ value })) });
}

async function run(ctx: BenchContext): Promise<PartResult> {
  const startedAt = new Date();
  const { settings } = ctx;
  const stack = await ctx.stack();
  const bridgeInfo = bridgeVersion();
  const systems: System[] =
    bridgeInfo.version === null ? ['tollgate', 'direct'] : ['tollgate', 'direct', 'bridge'];
  const concurrency = settings.httpConnections;
  const consumeRecords = settings.mode === 'quick' ? 20000 : 50000;
  const stamp = ctx.runDir.split('/').pop()!.toLowerCase();
  const produceTopic = `orders.bench-produce-${stamp}`;
  const consumeTopic = `orders.bench-consume-${stamp}`;
  const stops: Array<() => Promise<void>> = [];
  const runs = new Map<string, Throughput[]>();
  const record = (system: System, kind: string, batch: number, t: Throughput) => {
    const key = `${system}/${kind}/${batch}`;
    runs.set(key, [...(runs.get(key) ?? []), t]);
  };
  try {
    ctx.log(`part rest: topics ${produceTopic}, ${consumeTopic} (1 partition each)`);
    await createTopics(stack, [
      { topic: produceTopic, partitions: 1 },
      { topic: consumeTopic, partitions: 1 },
    ]);
    stops.push(() => deleteTopics(stack, [produceTopic, consumeTopic]));
    const tollgate = await startTollgateServe({
      name: 'tollgate-rest',
      dir: ctx.runDir,
      issuerUrl: stack.issuerUrl,
      principalClaim: 'sub',
      aclFile: stack.aclFile,
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
    const { token } = await fetchAliceToken(stack);
    const auth = { authorization: `Bearer ${token}` };
    const bodyFiles = Object.fromEntries(
      BATCHES.map((batch) => {
        const file = join(ctx.runDir, `produce-${batch}.json`);
        writeFileSync(file, produceBody(batch));
        return [batch, file];
      }),
    ) as Record<number, string>;

    const produce = (system: System, batch: number, durationSec: number): LoaderSpec => {
      const maxRequests = Math.ceil((durationSec * 50000) / batch);
      if (system === 'direct') {
        return {
          mode: 'kafka-produce',
          brokers: [stack.kafkaBootstrap],
          token,
          topic: produceTopic,
          batch,
          recordBytes: RECORD_BYTES,
          concurrency,
          durationSec,
          maxRequests,
        };
      }
      const base = system === 'tollgate' ? envoy.url : bridge!.url;
      return {
        mode: 'http-produce',
        url: `${base}/topics/${produceTopic}`,
        headers: {
          ...(system === 'tollgate' ? auth : {}),
          'content-type': 'application/vnd.kafka.binary.v2+json',
          accept: 'application/vnd.kafka.v2+json',
        },
        bodyFile: bodyFiles[batch]!,
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
            token,
            group,
            topic: consumeTopic,
            records: consumeRecords,
            timeoutSec: 60,
          }
        : {
            mode: 'http-consume',
            baseUrl: system === 'tollgate' ? envoy.url : bridge!.url,
            headers: system === 'tollgate' ? auth : {},
            group,
            topic: consumeTopic,
            records: consumeRecords,
            timeoutSec: 60,
            maxBytes: 4 * 1024 * 1024,
          };

    ctx.log(`part rest: filling ${consumeTopic} with ${consumeRecords} records (kafkajs direct)`);
    const fill = await runLoader(
      ctx,
      {
        ...(produce('direct', 100, 120) as Extract<LoaderSpec, { mode: 'kafka-produce' }>),
        topic: consumeTopic,
        concurrency: 4,
        maxRequests: consumeRecords / 100,
      },
      180,
    );
    if (fill.records < consumeRecords)
      throw new Error(`filling ${consumeTopic}: ${fill.records} records (${fill.firstError})`);

    ctx.log('part rest: probe and warm-up (unmeasured)');
    for (const system of systems) {
      for (const batch of BATCHES) {
        const warm = await runLoader(
          ctx,
          produce(system, batch, settings.warmupSec),
          settings.warmupSec * 3 + 60,
        );
        if (warm.requests === 0 || warm.errors > 0) {
          throw new Error(
            `${system} produce batch ${batch}: ${warm.requests} ok, ${warm.errors} errors ${JSON.stringify(warm.statuses)} ${warm.firstError ?? ''}`,
          );
        }
      }
    }

    ctx.log('part rest: measuring, systems rotated each round');
    let turn = 0;
    for (let repeat = 0; repeat < settings.repeats; repeat++) {
      for (const batch of BATCHES) {
        const shift = turn++ % systems.length;
        for (const system of [...systems.slice(shift), ...systems.slice(0, shift)]) {
          const r = await runLoader(
            ctx,
            produce(system, batch, settings.durationSec),
            settings.durationSec * 3 + 60,
          );
          const t = throughput(r);
          record(system, 'produce', batch, t);
          ctx.log(
            `  produce ${system} batch ${batch} (run ${repeat + 1}/${settings.repeats}): ` +
              `${rps(t.recordsPerSec)} records/s, ${t.mbPerSec.toFixed(1)} MB/s, ${rps(t.requestsPerSec)} req/s, ` +
              `p50 ${ms(t.p50Ms)} ms` +
              (r.errors > 0
                ? `, ${r.errors} errors ${JSON.stringify(r.statuses)} ${r.firstError ?? ''}`
                : ''),
          );
        }
      }
      const shift = turn++ % systems.length;
      for (const system of [...systems.slice(shift), ...systems.slice(0, shift)]) {
        const group = `alice-bench-${stamp}-${system}-${repeat}`;
        const r = await runLoader(ctx, consume(system, group), 120);
        const t = throughput(r);
        record(system, 'consume', 0, t);
        ctx.log(
          `  consume ${system} (run ${repeat + 1}/${settings.repeats}): ${r.records} records in ${r.seconds.toFixed(2)} s, ` +
            `${rps(t.recordsPerSec)} records/s` +
            (r.errors > 0 ? `, ${r.errors} errors ${r.firstError ?? ''}` : ''),
        );
      }
    }
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  }

  const points: Point[] = [];
  for (const system of systems) {
    for (const batch of BATCHES) {
      const list = runs.get(`${system}/produce/${batch}`) ?? [];
      points.push({ system, batch, kind: 'produce', median: medianThroughput(list), runs: list });
    }
    const list = runs.get(`${system}/consume/0`) ?? [];
    points.push({ system, batch: 0, kind: 'consume', median: medianThroughput(list), runs: list });
  }
  const data: RestDataPathData = {
    systems,
    bridge: bridgeInfo,
    kafkajs: kafkajsVersion(),
    concurrency,
    consumeRecords,
    points,
  };
  const at = (system: System, kind: 'produce' | 'consume', batch: number) =>
    points.find((p) => p.system === system && p.kind === kind && p.batch === batch)?.median.recordsPerSec ??
    Number.NaN;
  const clean = (system: System) =>
    points.filter((p) => p.system === system).every((p) => p.runs.every((r) => r.errors === 0));
  const ofDirect = at('tollgate', 'produce', 100) / at('direct', 'produce', 100);
  const ofBridge = at('tollgate', 'produce', 100) / at('bridge', 'produce', 100);
  const targets: TargetVerdict[] = [
    {
      target: `Produce through the gateway with 100-record batches: at least ${TARGET_OF_DIRECT * 100}% of direct kafkajs throughput`,
      measured: `${rps(at('tollgate', 'produce', 100))} vs ${rps(at('direct', 'produce', 100))} records/s: ${ratio(ofDirect)}`,
      met: Number.isFinite(ofDirect) ? clean('tollgate') && ofDirect >= TARGET_OF_DIRECT : null,
    },
    {
      target: "Produce through the gateway with 100-record batches: at least the Strimzi bridge's",
      measured: Number.isFinite(ofBridge)
        ? `${rps(at('tollgate', 'produce', 100))} vs ${rps(at('bridge', 'produce', 100))} records/s: ${ratio(ofBridge)}`
        : `not measured: ${bridgeInfo.reason}`,
      met: Number.isFinite(ofBridge) ? clean('tollgate') && ofBridge >= 1 : null,
    },
  ];
  return {
    id: restDataPath.id,
    title: restDataPath.title,
    startedAt: startedAt.toISOString(),
    durationSec: (Date.now() - startedAt.getTime()) / 1000,
    method: [
      'Against a broker the benchmark starts itself (deploy/stack/stack.sh, one KRaft node, own ports): the gateway and the direct client on its ' +
        "OAUTHBEARER listener with an `alice` token from the stack's issuer; the bridge (no OAuth) on its SASL PLAIN " +
        'admin listener. Fresh single-partition topics per run.',
      `(a) Envoy 1.40 (one worker, deploy/envoy/envoy.yaml) → \`tollgate serve\` (ext_authz over gRPC, then the REST ` +
        'proxy, which verifies the token again from its cache) → one session producer per principal.',
      `(b) kafkajs ${data.kafkajs}, one producer with Tollgate's session settings (idempotent, acks=all, ` +
        'maxInFlightRequests 1, same retries) — what Tollgate itself can at best reach on one session.',
      `Load: bench/rest/data-path-loader.ts, a Node process, closed loop with ${concurrency} concurrent clients ` +
        '(keep-alive HTTP/1.1 for (a) and (c); concurrent send() calls on one producer for (b)); bounded in requests and time. ' +
        `Bodies: \`application/vnd.kafka.binary.v2+json\`, ${RECORD_BYTES}-byte values (base64); MB/s counts record values.`,
      `Consume: one consumer (a fresh group) reads ${consumeRecords.toLocaleString('en-US')} pre-produced records from the ` +
        'beginning; REST: GET records (max_bytes 4 MiB) in a loop; direct: kafkajs eachBatch. The clock starts at the first ' +
        'non-empty fetch (group join excluded).',
      ctx.pinning.server === null
        ? 'Not pinned.'
        : `Servers (Tollgate, Envoy, bridge) on CPU ${ctx.pinning.server}, the loader on CPU ${ctx.pinning.loadgen}; the broker is the stack's (unpinned). ${priorityNote()}`,
      `${settings.durationSec} s per produce run, ${settings.repeats} rounds, systems rotated each round; min / median / max shown, ratios of medians; a point with errors in any run is failed.`,
      bridgeInfo.version === null
        ? `(c) not run: ${bridgeInfo.reason}.`
        : `(c) io.strimzi:kafka-bridge ${bridgeInfo.version}, producer acks=all, idempotent.`,
    ],
    data,
    targets,
  };
}

function render(result: PartResult): string {
  const data = result.data as RestDataPathData;
  const direct = (kind: string, batch: number) =>
    data.points.find((p) => p.system === 'direct' && p.kind === kind && p.batch === batch)?.median
      .recordsPerSec ?? Number.NaN;
  const bridge = (kind: string, batch: number) =>
    data.points.find((p) => p.system === 'bridge' && p.kind === kind && p.batch === batch)?.median
      .recordsPerSec ?? Number.NaN;
  const rows = data.points.map((p) => [
    p.kind === 'produce' ? `produce, ${p.batch} per request` : 'consume',
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
          p.runs.map((r) => r.requestsPerSec),
          rps,
        )
      : '–',
    p.kind === 'produce'
      ? spreadCell(
          p.runs.map((r) => r.p50Ms),
          ms,
        )
      : '–',
    errorsCell(p.runs),
    p.system === 'tollgate' ? ratio(p.median.recordsPerSec / direct(p.kind, p.batch)) : '–',
    p.system === 'tollgate' ? ratio(p.median.recordsPerSec / bridge(p.kind, p.batch)) : '–',
  ]);
  const note = data.bridge.version === null ? `\n\n(c) not run: ${data.bridge.reason}.` : '';
  return (
    table(
      [
        'workload',
        'system',
        'records/s',
        'MB/s',
        'requests/s',
        'p50 ms',
        'errors',
        'Tollgate ÷ direct',
        'Tollgate ÷ bridge',
      ],
      rows,
    ) + note
  );
}

export const restDataPath: BenchPart = {
  id: 'rest',
  title: 'REST data path: produce and consume through Envoy + Tollgate vs kafkajs direct vs Strimzi bridge',
  needs: ['envoy'],
  run,
  render,
};

if (import.meta.main) {
  runAlone(restDataPath).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`bench: ${(err as Error).stack ?? err}\n`);
      process.exitCode = 1;
    },
  );
}
