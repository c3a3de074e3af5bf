import { readFileSync } from 'node:fs';
import type { ITopicConfig } from 'kafkajs';
import kafkajs from 'kafkajs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { OPERATIONS } from '../acl/acl-types.ts';

/** Applies deploy/stack/seed.yaml (topics and Kafka ACLs) through the admin listener. Idempotent. */

const seedSchema = z
  .object({
    topics: z
      .array(z.object({ name: z.string().min(1), partitions: z.number().int().min(1) }).strict())
      .default([]),
    acls: z
      .array(
        z
          .object({
            principal: z.string().regex(/^User:.+$/),
            resourceType: z.enum(['TOPIC', 'GROUP', 'CLUSTER', 'TRANSACTIONAL_ID']),
            patternType: z.enum(['LITERAL', 'PREFIXED']).default('LITERAL'),
            resourceName: z.string().min(1),
            operation: z.enum(OPERATIONS),
            permissionType: z.enum(['ALLOW', 'DENY']).default('ALLOW'),
            host: z.string().default('*'),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

// kafkajs is CommonJS: its enums are reachable only through the default export under ESM.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes } =
  kafkajs;

export type SeedFile = z.output<typeof seedSchema>;

export function readSeedFile(path: string): SeedFile {
  const parsed = seedSchema.safeParse(parseYaml(readFileSync(path, 'utf8')));
  if (!parsed.success) {
    throw new Error(
      `${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

export interface AdminLogin {
  readonly brokers: string[];
  readonly username: string;
  readonly password: string;
  /** The CA of a TLS admin listener (SASL_SSL); plaintext SASL when absent. */
  readonly caFile?: string;
  readonly replicationFactor?: number;
}

export async function applySeed(
  seed: SeedFile,
  login: AdminLogin,
  log: (line: string) => void,
): Promise<void> {
  const kafka = new Kafka({
    clientId: 'tollgate-seed',
    brokers: login.brokers,
    sasl: { mechanism: 'plain', username: login.username, password: login.password },
    ssl: login.caFile ? { ca: [readFileSync(login.caFile, 'utf8')] } : false,
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 200 },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const topics: ITopicConfig[] = seed.topics
      .filter((t) => !existing.has(t.name))
      .map((t) => ({
        topic: t.name,
        numPartitions: t.partitions,
        replicationFactor: login.replicationFactor ?? 1,
      }));
    if (topics.length > 0) {
      await admin.createTopics({ topics, waitForLeaders: true });
      log(`created topics: ${topics.map((t) => t.topic).join(', ')}`);
    }
    if (seed.acls.length > 0) {
      // CreateAcls is idempotent in Kafka: an identical binding is not duplicated.
      await admin.createAcls({
        acl: seed.acls.map((a) => ({
          principal: a.principal,
          host: a.host,
          resourceType: AclResourceTypes[a.resourceType],
          resourceName: a.resourceName,
          resourcePatternType: ResourcePatternTypes[a.patternType],
          operation: AclOperationTypes[a.operation],
          permissionType: AclPermissionTypes[a.permissionType],
        })),
      });
      log(`applied ${seed.acls.length} ACL bindings`);
    }
  } finally {
    await admin.disconnect();
  }
}
