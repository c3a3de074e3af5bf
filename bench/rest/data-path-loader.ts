import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import kafkajs from 'kafkajs';

/**
 * Part 4's load generator, run as its own process (on the load-generator CPU) so the three
 * systems are driven by the same code: `node data-path-loader.ts '<json spec>'` prints one JSON
 * result. Closed loop: `concurrency` clients each send their next request when the previous one
 * answered. Bounded by `maxRequests` and `durationSec`; consumption by `records` and `timeoutSec`.
 *
 *  - http-produce:  POST the same body (a batch of records) to a REST proxy, keep-alive HTTP/1.1.
 *  - kafka-produce: producer.send() of the same batch with kafkajs, straight to the broker, with
 *                   the settings of Tollgate's session producer (src/kafka/session.ts).
 *  - http-consume:  one consumer instance (Confluent REST v2, binary or json) per principal, GET
 *                   records until together they have `records`.
 *  - kafka-consume: one kafkajs consumer from the beginning until `records`.
 */

interface HttpProduce {
  readonly mode: 'http-produce';
  readonly url: string;
  readonly headers: Record<string, string>;
  /** A file holding the request body (a batch of 100 is larger than one argv string may be). */
  readonly bodyFile: string;
  /**
   * Authorization header values taken in turn, request by request (many principals); absent:
   * `headers` alone.
   */
  readonly authorizations?: readonly string[];
  readonly concurrency: number;
  readonly durationSec: number;
  readonly maxRequests: number;
}

interface KafkaProduce {
  readonly mode: 'kafka-produce';
  readonly brokers: string[];
  readonly token: string;
  readonly topic: string;
  readonly batch: number;
  readonly recordBytes: number;
  readonly concurrency: number;
  readonly durationSec: number;
  readonly maxRequests: number;
}

interface HttpConsume {
  readonly mode: 'http-consume';
  readonly baseUrl: string;
  readonly headers: Record<string, string>;
  readonly group: string;
  readonly topic: string;
  readonly records: number;
  readonly timeoutSec: number;
  readonly maxBytes: number;
  /** Embedded format of the consumer (default binary). */
  readonly format?: 'binary' | 'json';
  /**
   * One consumer per value, each with this Authorization header and its own group
   * (`group-<i>`), all reading at once; together they stop at `records`. Absent: one consumer
   * with `headers`.
   */
  readonly authorizations?: readonly string[];
}

interface KafkaConsume {
  readonly mode: 'kafka-consume';
  readonly brokers: string[];
  readonly token: string;
  readonly group: string;
  readonly topic: string;
  readonly records: number;
  readonly timeoutSec: number;
}

export type LoaderSpec = HttpProduce | KafkaProduce | HttpConsume | KafkaConsume;

export interface LoaderResult {
  /** Requests (produce: HTTP requests or send() calls; consume: fetches) that succeeded. */
  readonly requests: number;
  readonly errors: number;
  readonly statuses: Record<string, number>;
  readonly seconds: number;
  /** Records produced or consumed. */
  readonly records: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU time (user + system) this loader process spent in the measured interval. */
  readonly cpuSec: number;
  readonly firstError?: string;
}

function cpuSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

function pct(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function httpCall(
  agent: Agent,
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | null,
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent,
        headers: body === null ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

async function closedLoop(
  concurrency: number,
  durationSec: number,
  maxRequests: number,
  recordsPerRequest: number,
  send: (index: number) => Promise<number>,
): Promise<LoaderResult> {
  const latencies = new Float64Array(maxRequests);
  const statuses: Record<string, number> = {};
  let started = 0;
  let ok = 0;
  let errors = 0;
  let firstError: string | undefined;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + durationSec * 1000;
  const worker = async () => {
    while (started < maxRequests && performance.now() < deadline) {
      const index = started++;
      const t = performance.now();
      try {
        const status = await send(index);
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status >= 200 && status < 300) latencies[ok++] = performance.now() - t;
        else errors++;
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
        statuses.error = (statuses.error ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const cpuSec = cpuSince(cpu0);
  const sorted = latencies.subarray(0, ok).sort();
  return {
    requests: ok,
    errors,
    statuses,
    seconds,
    records: ok * recordsPerRequest,
    p50Ms: pct(sorted, 0.5),
    p99Ms: pct(sorted, 0.99),
    cpuSec,
    firstError,
  };
}

function oauth(token: string) {
  return { mechanism: 'oauthbearer' as const, oauthBearerProvider: async () => ({ value: token }) };
}

async function httpProduce(spec: HttpProduce): Promise<LoaderResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: spec.concurrency });
  const url = new URL(spec.url);
  const body = readFileSync(spec.bodyFile, 'utf8');
  const records = (JSON.parse(body) as { records: unknown[] }).records.length;
  const auth = spec.authorizations ?? [];
  const headerSets =
    auth.length === 0 ? [spec.headers] : auth.map((authorization) => ({ ...spec.headers, authorization }));
  const result = await closedLoop(
    spec.concurrency,
    spec.durationSec,
    spec.maxRequests,
    records,
    async (index) => {
      const res = await httpCall(agent, url, 'POST', headerSets[index % headerSets.length]!, body, 30000);
      return res.status;
    },
  );
  agent.destroy();
  return result;
}

async function kafkaProduce(spec: KafkaProduce): Promise<LoaderResult> {
  const kafka = new kafkajs.Kafka({
    clientId: 'tollgate-bench-direct',
    brokers: spec.brokers,
    sasl: oauth(spec.token),
    logLevel: kafkajs.logLevel.WARN,
  });
  // As src/kafka/session.ts builds a session's producer.
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 },
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  const value = Buffer.alloc(spec.recordBytes, 0x61);
  const messages = Array.from({ length: spec.batch }, () => ({ value }));
  try {
    return await closedLoop(spec.concurrency, spec.durationSec, spec.maxRequests, spec.batch, async () => {
      await producer.send({ topic: spec.topic, acks: -1, messages });
      return 200;
    });
  } finally {
    await producer.disconnect();
  }
}

interface ConsumerRun {
  readonly latencies: number[];
  readonly statuses: Record<string, number>;
  records: number;
  errors: number;
  firstError?: string;
  /** When the first non-empty fetch was sent, and when the last one answered (0: none). */
  t0: number;
  tEnd: number;
}

/** One REST consumer instance: create, subscribe, GET records until `target`, delete. */
async function consumeAs(
  spec: HttpConsume,
  headers: Record<string, string>,
  group: string,
  target: number,
): Promise<ConsumerRun> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const base = spec.baseUrl;
  const format = spec.format ?? 'binary';
  const json = { ...headers, 'content-type': 'application/vnd.kafka.v2+json' };
  const created = await httpCall(
    agent,
    new URL(`${base}/consumers/${group}`),
    'POST',
    json,
    JSON.stringify({
      name: 'c1',
      format,
      'auto.offset.reset': 'earliest',
      'enable.auto.commit': false,
    }),
    30000,
  );
  if (created.status !== 200)
    throw new Error(`create consumer: ${created.status} ${created.text.slice(0, 200)}`);
  const instance = `${base}/consumers/${group}/instances/c1`;
  const sub = await httpCall(
    agent,
    new URL(`${instance}/subscription`),
    'POST',
    json,
    JSON.stringify({ topics: [spec.topic] }),
    30000,
  );
  if (sub.status !== 204 && sub.status !== 200)
    throw new Error(`subscribe: ${sub.status} ${sub.text.slice(0, 200)}`);
  const fetchUrl = new URL(`${instance}/records?timeout=1000&max_bytes=${spec.maxBytes}`);
  const accept = { ...headers, accept: `application/vnd.kafka.${format}.v2+json` };
  const run: ConsumerRun = { latencies: [], statuses: {}, records: 0, errors: 0, t0: 0, tEnd: 0 };
  // The clock starts at the first fetch that returns records: group join and the first
  // assignment are a per-consumer constant, not throughput.
  const hardDeadline = performance.now() + spec.timeoutSec * 1000;
  while (run.records < target && performance.now() < hardDeadline) {
    const t = performance.now();
    try {
      const res = await httpCall(agent, fetchUrl, 'GET', accept, null, 30000);
      run.statuses[res.status] = (run.statuses[res.status] ?? 0) + 1;
      if (res.status !== 200) {
        run.errors++;
        run.firstError ??= `${res.status} ${res.text.slice(0, 200)}`;
        continue;
      }
      const got = (JSON.parse(res.text) as unknown[]).length;
      if (got > 0 && run.t0 === 0) run.t0 = t;
      if (run.t0 > 0) {
        run.records += got;
        run.tEnd = performance.now();
        run.latencies.push(run.tEnd - t);
      }
    } catch (err) {
      run.errors++;
      run.firstError ??= (err as Error).message;
    }
  }
  if (run.records < target) {
    run.errors++;
    run.firstError ??= `${run.records} of ${target} records within ${spec.timeoutSec} s`;
  }
  await httpCall(agent, new URL(instance), 'DELETE', json, null, 30000).catch(() => {});
  agent.destroy();
  return run;
}

async function httpConsume(spec: HttpConsume): Promise<LoaderResult> {
  const cpu0 = process.cpuUsage();
  const auth = spec.authorizations ?? [];
  const consumers =
    auth.length === 0
      ? [{ headers: spec.headers, group: spec.group }]
      : auth.map((authorization, i) => ({
          headers: { ...spec.headers, authorization },
          group: `${spec.group}-${i}`,
        }));
  const target = Math.ceil(spec.records / consumers.length);
  const runs = await Promise.all(consumers.map((c) => consumeAs(spec, c.headers, c.group, target)));
  const started = runs.filter((r) => r.t0 > 0);
  const t0 = Math.min(...started.map((r) => r.t0));
  const tEnd = Math.max(...started.map((r) => r.tEnd));
  const statuses: Record<string, number> = {};
  for (const r of runs)
    for (const [status, count] of Object.entries(r.statuses))
      statuses[status] = (statuses[status] ?? 0) + count;
  const sorted = Float64Array.from(runs.flatMap((r) => r.latencies)).sort();
  return {
    requests: sorted.length,
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    statuses,
    seconds: started.length === 0 ? 0 : (tEnd - t0) / 1000,
    records: runs.reduce((sum, r) => sum + r.records, 0),
    p50Ms: pct(sorted, 0.5),
    p99Ms: pct(sorted, 0.99),
    cpuSec: cpuSince(cpu0),
    firstError: runs.find((r) => r.firstError !== undefined)?.firstError,
  };
}

async function kafkaConsume(spec: KafkaConsume): Promise<LoaderResult> {
  const cpu0 = process.cpuUsage();
  const kafka = new kafkajs.Kafka({
    clientId: 'tollgate-bench-direct',
    brokers: spec.brokers,
    sasl: oauth(spec.token),
    logLevel: kafkajs.logLevel.WARN,
  });
  const consumer = kafka.consumer({ groupId: spec.group });
  await consumer.connect();
  await consumer.subscribe({ topics: [spec.topic], fromBeginning: true });
  let records = 0;
  let batches = 0;
  let t0 = 0;
  let tEnd = 0;
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (t0 === 0) t0 = performance.now();
        records += batch.messages.length;
        batches++;
        if (records >= spec.records && tEnd === 0) {
          tEnd = performance.now();
          resolve();
        }
      },
    });
  });
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, spec.timeoutSec * 1000))]);
  const seconds = t0 === 0 ? 0 : ((tEnd || performance.now()) - t0) / 1000;
  await consumer.disconnect();
  return {
    requests: batches,
    errors: 0,
    statuses: {},
    seconds,
    records,
    p50Ms: Number.NaN,
    p99Ms: Number.NaN,
    cpuSec: cpuSince(cpu0),
  };
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as LoaderSpec;
  const result =
    spec.mode === 'http-produce'
      ? await httpProduce(spec)
      : spec.mode === 'kafka-produce'
        ? await kafkaProduce(spec)
        : spec.mode === 'http-consume'
          ? await httpConsume(spec)
          : await kafkaConsume(spec);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    process.stderr.write(`loader: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
}
