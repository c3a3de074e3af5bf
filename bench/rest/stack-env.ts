import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { readEnvFile } from '../../src/dev/dev-clients.ts';
import { REPO_ROOT } from '../harness/tollgate-authz.ts';

/**
 * The stack parts 4 and 5 measure against (harness/bench-stack.ts starts one per run with
 * deploy/stack/stack.sh): its broker, whose OAUTHBEARER listener trusts only the stack's
 * issuer, and that issuer's token endpoint, read from the stack's env file. The benchmark
 * starts its own Tollgate, Envoy and bridge beside it.
 */

export interface StackEnv {
  readonly issuerUrl: string;
  readonly tokenUrl: string;
  /** OAUTHBEARER listener: where Tollgate's sessions (and the direct kafkajs client) connect. */
  readonly kafkaBootstrap: string;
  /** SASL PLAIN listener for the `admin` super user. */
  readonly kafkaAdminBootstrap: string;
  readonly adminPassword: string;
  readonly aliceSecret: string;
  readonly aclFile: string;
}

export function readStackEnv(file = join(REPO_ROOT, '.stack', 'env')): StackEnv {
  let env: Map<string, string>;
  try {
    env = readEnvFile(file);
  } catch {
    throw new Error(`${file}: not found`);
  }
  const need = (key: string) => {
    const value = env.get(key);
    if (!value) throw new Error(`${file}: ${key} is missing`);
    return value;
  };
  return {
    issuerUrl: need('ISSUER_URL'),
    tokenUrl: need('TOKEN_URL'),
    kafkaBootstrap: need('KAFKA_BOOTSTRAP'),
    kafkaAdminBootstrap: need('KAFKA_ADMIN_BOOTSTRAP'),
    adminPassword: need('KAFKA_ADMIN_PASSWORD'),
    aliceSecret: need('DEV_CLIENT_SECRET_ALICE'),
    aclFile: join(need('STACK_DIR'), 'acl.yaml'),
  };
}

/** A token for the stack's `alice` client, with extra claims (`claim=key=value`, a dev extension). */
export async function fetchAliceToken(
  stack: StackEnv,
  claims: Readonly<Record<string, string>> = {},
): Promise<{ token: string; expiresInSec: number }> {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  for (const [key, value] of Object.entries(claims)) form.append('claim', `${key}=${value}`);
  const res = await fetch(stack.tokenUrl, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`alice:${stack.aliceSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: form,
    signal: AbortSignal.timeout(10000),
  });
  const body = (await res.json()) as { access_token?: string; expires_in?: number };
  if (res.status !== 200 || !body.access_token) throw new Error(`token endpoint answered ${res.status}`);
  return { token: body.access_token, expiresInSec: body.expires_in ?? 0 };
}

/** Creates topics (if missing) as the broker's `admin` super user over SASL PLAIN. */
export async function createTopics(
  stack: StackEnv,
  topics: readonly { topic: string; partitions: number }[],
): Promise<void> {
  const kafka = new kafkajs.Kafka({
    clientId: 'tollgate-bench-admin',
    brokers: [stack.kafkaAdminBootstrap],
    sasl: { mechanism: 'plain', username: 'admin', password: stack.adminPassword },
    logLevel: kafkajs.logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    // kafkajs's waitForLeaders gives up on the UNKNOWN_TOPIC_OR_PARTITION a busy broker answers
    // for a moment after creating a topic; wait for the leaders here instead, bounded.
    await admin.createTopics({
      topics: topics.map((t) => ({ topic: t.topic, numPartitions: t.partitions, replicationFactor: 1 })),
      waitForLeaders: false,
    });
    const names = topics.map((t) => t.topic);
    const deadline = Date.now() + 60000;
    for (;;) {
      const ready = await admin
        .fetchTopicMetadata({ topics: names })
        .then((m) =>
          m.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)),
        )
        .catch(() => false);
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`topics ${names.join(', ')}: no leaders after 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    await admin.disconnect();
  }
}

/** Deletes the benchmark's topics again (best effort: a leftover topic costs only disk). */
export async function deleteTopics(stack: StackEnv, topics: readonly string[]): Promise<void> {
  const kafka = new kafkajs.Kafka({
    clientId: 'tollgate-bench-admin',
    brokers: [stack.kafkaAdminBootstrap],
    sasl: { mechanism: 'plain', username: 'admin', password: stack.adminPassword },
    logLevel: kafkajs.logLevel.NOTHING,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.deleteTopics({ topics: [...topics], timeout: 10000 });
  } catch {
    // Leave it: the next run uses new names.
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

export function kafkajsVersion(): string {
  const file = join(REPO_ROOT, 'node_modules', 'kafkajs', 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}
