import { readEnvFile, secretVariable } from '../../src/dev/dev-clients.ts';
import { requestToken, type TokenRequest } from '../../src/kafka/client-credentials.ts';

/** The running local stack, as `make stack-up` described it in .stack/env. */

const ENV_PATH = process.env.STACK_ENV ?? '.stack/env';

let cached: Map<string, string> | null = null;

export function stackEnv(): Map<string, string> {
  if (!cached) {
    try {
      cached = readEnvFile(ENV_PATH);
    } catch {
      throw new Error(`${ENV_PATH} not found: integration tests run on the stack (make test-integration)`);
    }
  }
  return cached;
}

export function stackValue(key: string): string {
  const value = stackEnv().get(key);
  if (!value) throw new Error(`${ENV_PATH}: ${key} missing`);
  return value;
}

export async function tokenFor(
  client: string,
  opts: Omit<TokenRequest, 'tokenUrl' | 'clientId' | 'clientSecret'> = {},
): Promise<string> {
  const res = await requestToken({
    tokenUrl: stackValue('TOKEN_URL'),
    clientId: client,
    clientSecret: stackValue(secretVariable(client)),
    ...opts,
  });
  return res.accessToken;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A connected kafkajs admin client of the super user, over OAUTHBEARER; the caller disconnects it. */
export async function connectAdmin() {
  const { default: kafkajs } = await import('kafkajs');
  const token = await tokenFor('admin');
  const admin = new kafkajs.Kafka({
    clientId: 'test-admin',
    brokers: [stackValue('KAFKA_BOOTSTRAP')],
    sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: token }) },
    logLevel: kafkajs.logLevel.NOTHING,
  }).admin();
  await admin.connect();
  return admin;
}

/** Creates a fresh topic through the super user (tests own their data). Names under orders. fit the demo ACLs. */
export async function createTopic(name: string, partitions: number): Promise<void> {
  const admin = await connectAdmin();
  try {
    await admin.createTopics({
      topics: [{ topic: name, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}
