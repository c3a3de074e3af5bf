import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import kafkajs from 'kafkajs';
import { treesCpuSec } from './cpu-time.ts';

/**
 * Part 4's load generator, run as its own process (on the load-generator CPU) so the three
 * systems are driven by the same code: `node data-path-loader.ts '<json spec>'` prints one JSON
 * result. Closed loop: `concurrency` clients each send their next request when the previous one
 * answered. Bounded by `maxRequests` and `durationSec`; consumption by `records` and `timeoutSec`.
 *
 *  - http-produce:  POST the same body (a batch of records) to a REST proxy, keep-alive HTTP/1.1;
 *                   request i is sent with token i mod n, so n principals produce at once (also
 *                   when n is above the concurrency).
 *  - kafka-produce: producer.send() of the same batch with kafkajs, straight to the broker, with
 *                   the settings of Tollgate's session producer (src/kafka/session.ts); one
 *                   producer (own connection, own token) per principal, client i on producer i mod n.
 *  - http-consume:  one consumer instance (Confluent REST v2, binary or json) per principal, GET
 *                   records until together they have `records`.
 *  - kafka-consume: one kafkajs consumer from the beginning until `records`.
 *
 * CPU: over the measured window the loader reads its own CPU time (process.cpuUsage, every
 * thread) and that of each process tree in `watch` (the servers on the request path, from
 * /proc), so the runner can report records per CPU-second of the whole path.
 */

/** The produced records: `batch` values of `recordBytes` bytes, keys `key-000`… when keyed. */
export interface BatchShape {
  readonly batch: number;
  readonly recordBytes: number;
  readonly keyed: boolean;
}

/** Process trees whose CPU time the loader reads at the start and end of its window. */
type Watch = Readonly<Record<string, number>>;

interface HttpProduce extends BatchShape {
  readonly mode: 'http-produce';
  readonly url: string;
  readonly headers: Record<string, string>;
  /** Bearer tokens, one per principal; empty: no Authorization header. */
  readonly tokens: readonly string[];
  /**
   * A file holding the request body to send instead of the shape's binary body (another
   * embedded format); it must hold `batch` records.
   */
  readonly bodyFile?: string;
  readonly watch?: Watch;
  readonly concurrency: number;
  readonly durationSec: number;
  readonly maxRequests: number;
}

interface KafkaProduce extends BatchShape {
  readonly mode: 'kafka-produce';
  readonly brokers: string[];
  /** One producer per token (principal). */
  readonly tokens: readonly string[];
  readonly topic: string;
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
  /** Embedded format of the consumers (default binary). */
  readonly format?: 'binary' | 'json';
  /**
   * Bearer tokens: one consumer per token, each in its own group (`<group>-<i>`), all reading
   * at once until together they have `records`. Absent or empty: one consumer with `headers`.
   */
  readonly tokens?: readonly string[];
  readonly watch?: Watch;
}

interface KafkaConsume {
  readonly mode: 'kafka-consume';
  readonly brokers: string[];
  readonly token: string;
  readonly group: string;
  readonly topic: string;
  readonly records: number;
  readonly timeoutSec: number;
  /** kafkajs's fetch size (bytes per fetch response), the direct consumer's buffer bound. */
  readonly maxBytes: number;
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
  readonly firstError?: string;
  /** CPU seconds over the measured window: `client` is the loader itself, the rest `watch`'s trees. */
  readonly cpuSec: Record<string, number>;
}

/** CPU time over a window: the loader's own and that of the watched process trees. */
class CpuWindow {
  #client: NodeJS.CpuUsage | null = null;
  #trees: Record<string, number> = {};
  #result: Record<string, number> | null = null;
  readonly #watch: Watch;

  constructor(watch: Watch = {}) {
    this.#watch = watch;
  }

  /** Opens the window; later calls (other consumers' first records) leave it as it is. */
  start(): void {
    if (this.#client !== null) return;
    this.#trees = treesCpuSec(this.#watch);
    this.#client = process.cpuUsage();
  }

  stop(): void {
    if (this.#client === null || this.#result !== null) return;
    const client = process.cpuUsage(this.#client);
    const trees = treesCpuSec(this.#watch);
    const out: Record<string, number> = { client: (client.user + client.system) / 1e6 };
    for (const [name, sec] of Object.entries(trees)) out[name] = sec - (this.#trees[name] ?? 0);
    this.#result = out;
  }

  get result(): Record<string, number> {
    return this.#result ?? {};
  }
}

/** The records of one request, as Kafka values (and keys). */
function batchRecords(shape: BatchShape): { key: Buffer | null; value: Buffer }[] {
  const value = Buffer.alloc(shape.recordBytes, 0x61);
  return Array.from({ length: shape.batch }, (_, i) => ({
    key: shape.keyed ? Buffer.from(`key-${String(i).padStart(3, '0')}`) : null,
    value,
  }));
}

/** The same records as a REST v2 binary produce body. */
export function produceBody(shape: BatchShape): string {
  const records = batchRecords(shape).map((r) =>
    r.key === null
      ? { value: r.value.toString('base64') }
      : { key: r.key.toString('base64'), value: r.value.toString('base64') },
  );
  return JSON.stringify({ records });
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
  watch: Watch | undefined,
  send: (client: number, index: number) => Promise<number>,
): Promise<LoaderResult> {
  const latencies = new Float64Array(maxRequests);
  const statuses: Record<string, number> = {};
  let started = 0;
  let ok = 0;
  let errors = 0;
  let firstError: string | undefined;
  const cpu = new CpuWindow(watch);
  cpu.start();
  const t0 = performance.now();
  const deadline = t0 + durationSec * 1000;
  const worker = async (client: number) => {
    while (started < maxRequests && performance.now() < deadline) {
      const index = started++;
      const t = performance.now();
      try {
        const status = await send(client, index);
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
  await Promise.all(Array.from({ length: concurrency }, (_, client) => worker(client)));
  const seconds = (performance.now() - t0) / 1000;
  cpu.stop();
  const sorted = latencies.subarray(0, ok).sort();
  return {
    requests: ok,
    errors,
    statuses,
    seconds,
    records: ok * recordsPerRequest,
    p50Ms: pct(sorted, 0.5),
    p99Ms: pct(sorted, 0.99),
    firstError,
    cpuSec: cpu.result,
  };
}

function oauth(token: string) {
  return { mechanism: 'oauthbearer' as const, oauthBearerProvider: async () => ({ value: token }) };
}

async function httpProduce(spec: HttpProduce): Promise<LoaderResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: spec.concurrency });
  const url = new URL(spec.url);
  const body = spec.bodyFile === undefined ? produceBody(spec) : readFileSync(spec.bodyFile, 'utf8');
  const headers =
    spec.tokens.length === 0
      ? [spec.headers]
      : spec.tokens.map((token) => ({ ...spec.headers, authorization: `Bearer ${token}` }));
  const result = await closedLoop(
    spec.concurrency,
    spec.durationSec,
    spec.maxRequests,
    spec.batch,
    spec.watch,
    async (_client, index) => {
      const res = await httpCall(agent, url, 'POST', headers[index % headers.length]!, body, 30000);
      return res.status;
    },
  );
  agent.destroy();
  return result;
}

async function kafkaProduce(spec: KafkaProduce): Promise<LoaderResult> {
  // One client and producer per principal, as src/kafka/session.ts builds a session's producer.
  const producers = spec.tokens.map((token) =>
    new kafkajs.Kafka({
      clientId: 'tollgate-bench-direct',
      brokers: spec.brokers,
      sasl: oauth(token),
      logLevel: kafkajs.logLevel.WARN,
    }).producer({
      idempotent: true,
      maxInFlightRequests: 1,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 },
      allowAutoTopicCreation: false,
    }),
  );
  await Promise.all(producers.map((p) => p.connect()));
  const messages = batchRecords(spec);
  try {
    return await closedLoop(
      spec.concurrency,
      spec.durationSec,
      spec.maxRequests,
      spec.batch,
      undefined,
      async (client) => {
        await producers[client % producers.length]!.send({ topic: spec.topic, acks: -1, messages });
        return 200;
      },
    );
  } finally {
    await Promise.all(producers.map((p) => p.disconnect()));
  }
}

interface ConsumerRun {
  readonly latencies: number[];
  readonly statuses: Record<string, number>;
  records: number;
  errors: number;
  firstError?: string;
  /** When the first fetch with records was sent, and when the last one answered (0: none). */
  t0: number;
  tEnd: number;
  /** Deletes the consumer instance (after the CPU window closed). */
  close: () => Promise<void>;
}

/** One REST consumer instance: create, subscribe, GET records until `target`. */
async function consumeAs(
  spec: HttpConsume,
  headers: Record<string, string>,
  group: string,
  target: number,
  cpu: CpuWindow,
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
  const close = async () => {
    await httpCall(agent, new URL(instance), 'DELETE', json, null, 30000).catch(() => {});
    agent.destroy();
  };
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
  const run: ConsumerRun = { latencies: [], statuses: {}, records: 0, errors: 0, t0: 0, tEnd: 0, close };
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
      if (got > 0 && run.t0 === 0) {
        run.t0 = t;
        // The CPU window opens once the first fetch with records is in (the first consumer's),
        // as the direct consumer's opens in its first eachBatch: neither counts that fetch.
        cpu.start();
      }
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
  return run;
}

async function httpConsume(spec: HttpConsume): Promise<LoaderResult> {
  const tokens = spec.tokens ?? [];
  const consumers =
    tokens.length === 0
      ? [{ headers: spec.headers, group: spec.group }]
      : tokens.map((token, i) => ({
          headers: { ...spec.headers, authorization: `Bearer ${token}` },
          group: `${spec.group}-${i}`,
        }));
  const target = Math.ceil(spec.records / consumers.length);
  const cpu = new CpuWindow(spec.watch);
  const runs = await Promise.all(consumers.map((c) => consumeAs(spec, c.headers, c.group, target, cpu)));
  cpu.stop();
  await Promise.all(runs.map((r) => r.close()));
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
    firstError: runs.find((r) => r.firstError !== undefined)?.firstError,
    cpuSec: cpu.result,
  };
}

async function kafkaConsume(spec: KafkaConsume): Promise<LoaderResult> {
  const kafka = new kafkajs.Kafka({
    clientId: 'tollgate-bench-direct',
    brokers: spec.brokers,
    sasl: oauth(spec.token),
    logLevel: kafkajs.logLevel.WARN,
  });
  const consumer = kafka.consumer({
    groupId: spec.group,
    maxBytes: spec.maxBytes,
    maxBytesPerPartition: spec.maxBytes,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [spec.topic], fromBeginning: true });
  let records = 0;
  let batches = 0;
  let t0 = 0;
  let tEnd = 0;
  const cpu = new CpuWindow();
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (t0 === 0) {
          t0 = performance.now();
          cpu.start();
        }
        records += batch.messages.length;
        batches++;
        if (records >= spec.records && tEnd === 0) {
          tEnd = performance.now();
          cpu.stop();
          resolve();
        }
      },
    });
  });
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, spec.timeoutSec * 1000))]);
  const seconds = t0 === 0 ? 0 : ((tEnd || performance.now()) - t0) / 1000;
  cpu.stop();
  await consumer.disconnect();
  return {
    requests: batches,
    errors: 0,
    statuses: {},
    seconds,
    records,
    p50Ms: Number.NaN,
    p99Ms: Number.NaN,
    cpuSec: cpu.result,
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
