import { readFileSync } from 'node:fs';
import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;

/** Proves the broker answers metadata to a client authenticated with SASL/OAUTHBEARER. */
export async function probeKafkaOAuth(
  brokers: string[],
  token: string,
  caFile?: string,
): Promise<{ brokers: number; topics: number }> {
  const kafka = new Kafka({
    clientId: 'tollgate-probe',
    brokers,
    ssl: caFile ? { ca: [readFileSync(caFile, 'utf8')] } : false,
    sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: token }) },
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 2000,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    const topics = await admin.listTopics();
    return { brokers: cluster.brokers.length, topics: topics.length };
  } finally {
    await admin.disconnect();
  }
}
