import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { sleep, stackValue } from '../integration/stack-env.ts';

/**
 * The production profile as the tests see it (STACK_PROFILE=production, .stack/env): an HTTPS
 * client for Envoy with the stack CA and optional client certificates, the admin's view of the
 * three brokers over SASL_SSL, and the stack script's part controls for restarts and crashes.
 */

export const ROOT = join(import.meta.dirname, '..', '..');
const { Kafka, logLevel } = kafkajs;

export function tlsFile(name: string): string {
  return join(stackValue('TLS_DIR'), name);
}

export interface HttpsResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test convenience: bodies are asserted field by field.
  readonly json: any;
}

/** A REST client through Envoy's TLS listener; `clientCert` names a pair in the stack's TLS dir (client-alice). */
export function createClient(clientCert?: string) {
  const agent = new Agent({
    ca: readFileSync(tlsFile('ca.pem')),
    ...(clientCert
      ? { cert: readFileSync(tlsFile(`${clientCert}.pem`)), key: readFileSync(tlsFile(`${clientCert}.key`)) }
      : {}),
    keepAlive: true,
    maxSockets: 4,
  });
  const base = stackValue('TOLLGATE_URL');
  return {
    call(
      method: string,
      path: string,
      opts: {
        token?: string;
        body?: unknown;
        contentType?: string;
        accept?: string;
        timeoutMs?: number;
        headers?: Record<string, string>;
      } = {},
    ): Promise<HttpsResponse> {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      if (opts.accept) headers.accept = opts.accept;
      const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
      if (body !== undefined) {
        headers['content-type'] = opts.contentType ?? 'application/vnd.kafka.json.v2+json';
        headers['content-length'] = String(Buffer.byteLength(body));
      }
      return new Promise((resolve, reject) => {
        const req = request(
          `${base}${path}`,
          { method, headers, agent, timeout: opts.timeoutMs ?? 90_000 },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let json: unknown = null;
              try {
                json = text === '' ? null : JSON.parse(text);
              } catch {
                json = null;
              }
              resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
            });
            res.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in time`)));
        req.on('error', reject);
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}

export type Client = ReturnType<typeof createClient>;

/** The admin's kafkajs client over the SASL_SSL PLAIN admin listener of all three nodes. */
export function adminKafka() {
  return new Kafka({
    clientId: 'production-test-admin',
    brokers: stackValue('KAFKA_ADMIN_BOOTSTRAP').split(','),
    ssl: { ca: [readFileSync(tlsFile('ca.pem'), 'utf8')] },
    sasl: { mechanism: 'plain', username: 'admin', password: stackValue('KAFKA_ADMIN_PASSWORD') },
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 3000 },
  });
}

/** Creates a topic with three replicas on the three nodes. */
export async function createReplicatedTopic(topic: string, partitions: number): Promise<void> {
  const admin = adminKafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 3 }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Waits until every partition of `topics` has all three replicas in sync, so that taking the
 * next node away leaves min.insync.replicas (2) standing. Fails after `withinMs`.
 */
export async function waitForFullIsr(topics: readonly string[], withinMs = 120_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    const admin = adminKafka().admin();
    try {
      await admin.connect();
      const { topics: described } = await admin.fetchTopicMetadata({ topics: [...topics] });
      const lagging = described.flatMap((t) =>
        t.partitions.filter((p) => p.isr.length < 3).map((p) => `${t.name}/${p.partitionId} isr=${p.isr}`),
      );
      if (lagging.length === 0) return;
      last = lagging.slice(0, 4).join(', ');
    } catch (err) {
      last = (err as Error).message;
    } finally {
      await admin.disconnect().catch(() => {});
    }
    await sleep(1000);
  }
  throw new Error(`replicas not back in sync after ${withinMs} ms: ${last}`);
}

/** Runs deploy/stack/stack.sh with the profile and ports of the environment (e.g. `restart-part kafka2`). */
export function stackScript(...args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(ROOT, 'deploy/stack/stack.sh'), args, {
      cwd: ROOT,
      env: { ...process.env, STACK_PROFILE: 'production', STACK_DIR: stackValue('STACK_DIR') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`stack.sh ${args.join(' ')} exited ${code}:\n${output}`)),
    );
  });
}

/** The pid of a stack part (its process group leader), from the stack's pid files. */
export function partPid(part: string): number {
  return Number(readFileSync(join(stackValue('STACK_DIR'), 'pids', `${part}.pid`), 'utf8').trim());
}

/** One sample of a Prometheus counter from Tollgate's metrics, 0 when absent. */
export async function metricValue(
  name: string,
  labels: string,
  metricsUrl = stackValue('METRICS_URL'),
): Promise<number> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}
