import { ServiceError } from '../errors.ts';
import {
  assertPartitionExists,
  type OutgoingRecord,
  partitionCount,
  produceRecords,
} from '../kafka/produce.ts';
import {
  brokerIds,
  describeTopic,
  isDescribeConfigsDenied,
  listTopics,
  partitionOffsets,
  topicConfigs,
} from '../kafka/topics.ts';
import { type DataFormat, decodeBase64, encodeField } from './record-format.ts';
import { canDescribeTopic, type RequestContext } from './request-context.ts';
import { send, sendJson } from './respond.ts';
import { encodeSchemaField, isSchemaFormat, type ResolvedSchema, resolveSchema } from './schema-formats.ts';

/** v2 topic, partition, broker and produce routes (reference sections 7.2–7.5). */

function topicOf(ctx: RequestContext): string {
  return ctx.route.params.topic!;
}

/** Unknown topic on partition and produce routes: 404/40401 ("Topic <name> not found"). */
function topicNotFound(topic: string): ServiceError {
  return new ServiceError('TOPIC_NOT_FOUND', `Topic ${topic} not found`);
}

function partitionParam(ctx: RequestContext): number {
  if (ctx.route.badPartition || ctx.route.params.partition === undefined) {
    throw new ServiceError('ROUTE_UNKNOWN');
  }
  return ctx.route.params.partition;
}

async function describeOr40401(ctx: RequestContext, topic: string) {
  try {
    return await describeTopic(ctx.session, topic);
  } catch (err) {
    if (err instanceof ServiceError && err.code === 'TOPIC_NOT_FOUND') throw topicNotFound(topic);
    throw err;
  }
}

export async function getBrokers(ctx: RequestContext): Promise<void> {
  sendJson(ctx.req, ctx.res, 200, { brokers: await brokerIds(ctx.session) });
}

export async function getTopics(ctx: RequestContext): Promise<void> {
  // The broker already hides topics the principal may not describe; the gateway's ACLs may be
  // narrower, so filter by them too.
  const topics = (await listTopics(ctx.session)).filter((t) => canDescribeTopic(ctx, t));
  sendJson(ctx.req, ctx.res, 200, topics);
}

export async function getTopic(ctx: RequestContext): Promise<void> {
  const topic = topicOf(ctx);
  let description: Awaited<ReturnType<typeof describeTopic>>;
  try {
    description = await describeTopic(ctx.session, topic);
  } catch (err) {
    if (err instanceof ServiceError && err.code === 'TOPIC_NOT_FOUND') {
      throw new ServiceError('TOPIC_PARTITION_UNKNOWN', `Topic ${topic} not found`);
    }
    throw err;
  }
  const configs = await visibleConfigs(() => topicConfigs(ctx.session, topic));
  sendJson(ctx.req, ctx.res, 200, { name: topic, configs, partitions: description.partitions });
}

type ConfigEntries = Awaited<ReturnType<typeof topicConfigs>>;

/**
 * A topic's non-sensitive configs for GET /topics/{topic}. Describing configs needs
 * DESCRIBE_CONFIGS, which readers often lack: that one refusal shows the topic without configs.
 * Any other failure (Kafka unavailable, an unknown error) fails the request.
 */
export async function visibleConfigs(load: () => Promise<ConfigEntries>): Promise<Record<string, string>> {
  const configs: Record<string, string> = {};
  let entries: ConfigEntries;
  try {
    entries = await load();
  } catch (err) {
    if (isDescribeConfigsDenied(err)) return configs;
    throw err;
  }
  for (const entry of entries) {
    if (entry.value !== null && !entry.isSensitive) configs[entry.name] = entry.value;
  }
  return configs;
}

export async function getPartitions(ctx: RequestContext): Promise<void> {
  const description = await describeOr40401(ctx, topicOf(ctx));
  sendJson(ctx.req, ctx.res, 200, description.partitions);
}

export async function getPartition(ctx: RequestContext): Promise<void> {
  const topic = topicOf(ctx);
  const partition = partitionParam(ctx);
  const description = await describeOr40401(ctx, topic);
  const found = description.partitions.find((p) => p.partition === partition);
  if (!found)
    throw new ServiceError('PARTITION_NOT_FOUND', `Partition ${partition} of topic ${topic} not found`);
  sendJson(ctx.req, ctx.res, 200, found);
}

export async function getPartitionOffsets(ctx: RequestContext): Promise<void> {
  const topic = topicOf(ctx);
  const partition = partitionParam(ctx);
  const description = await describeOr40401(ctx, topic);
  if (!description.partitions.some((p) => p.partition === partition)) {
    throw new ServiceError('PARTITION_NOT_FOUND', `Partition ${partition} of topic ${topic} not found`);
  }
  const offsets = await partitionOffsets(ctx.session, topic, partition);
  sendJson(ctx.req, ctx.res, 200, { beginning_offset: offsets.beginning, end_offset: offsets.end });
}

const PRODUCE_KEYS: ReadonlySet<string> = new Set([
  'key_schema',
  'key_schema_id',
  'value_schema',
  'value_schema_id',
  'records',
]);
const RECORD_KEYS: ReadonlySet<string> = new Set(['key', 'value', 'partition', 'headers']);

function isIntegerLike(value: unknown): boolean {
  if (typeof value === 'number') return Number.isInteger(value);
  return typeof value === 'string' && /^-?\d+$/.test(value);
}

function parseHeaders(raw: unknown): Record<string, Buffer | null> | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw new ServiceError('REQUEST_UNPROCESSABLE', 'headers must be an array');
  const headers: Record<string, Buffer | null> = {};
  for (const h of raw) {
    if (typeof h !== 'object' || h === null || typeof (h as { key?: unknown }).key !== 'string') {
      throw new ServiceError('REQUEST_UNPROCESSABLE', 'each header needs a string key');
    }
    const { key, value } = h as { key: string; value?: unknown };
    if (value === null || value === undefined) {
      headers[key] = null;
      continue;
    }
    const bytes = typeof value === 'string' ? decodeBase64(value) : null;
    if (bytes === null)
      throw new ServiceError('REQUEST_UNPROCESSABLE', `header ${key}: value is not valid base64`);
    headers[key] = bytes;
  }
  return headers;
}

/** POST /topics/{topic} and POST /topics/{topic}/partitions/{p}: validation in the reference's order. */
export async function produce(ctx: RequestContext): Promise<void> {
  const topic = topicOf(ctx);
  const body = ctx.json!;
  const routePartition = ctx.route.id.includes('/partitions/') ? partitionParam(ctx) : null;

  // 1. topic (and partition) exist
  let count: number;
  try {
    count = await partitionCount(ctx.session, topic, ctx.config.rest.metadataMaxAgeMs, Date.now());
  } catch (err) {
    if (err instanceof ServiceError && err.code === 'TOPIC_NOT_FOUND') throw topicNotFound(topic);
    throw err;
  }
  if (routePartition !== null) {
    try {
      assertPartitionExists(topic, routePartition, count);
    } catch {
      throw new ServiceError(
        'PARTITION_NOT_FOUND',
        `Partition ${routePartition} of topic ${topic} not found`,
      );
    }
  }
  // 2. schema ids integer-like
  for (const key of ['key_schema_id', 'value_schema_id']) {
    if (body[key] !== undefined && body[key] !== null && !isIntegerLike(body[key])) {
      throw new ServiceError('FIELD_INVALID', `${key} must be an integer`);
    }
  }
  // 3. records present, non-empty, no unknown top-level key
  const records = body.records;
  if (records === undefined || Object.keys(body).some((k) => !PRODUCE_KEYS.has(k))) {
    throw new ServiceError('REQUEST_UNPROCESSABLE', 'Invalid request format');
  }
  // 4. records is an array of objects
  if (!Array.isArray(records)) throw new ServiceError('REQUEST_INVALID', 'records must be an array');
  if (records.length === 0) throw new ServiceError('REQUEST_UNPROCESSABLE', 'Invalid request format');
  for (const record of records) {
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new ServiceError('REQUEST_INVALID', 'each record must be an object');
    }
    const r = record as Record<string, unknown>;
    if (r.partition !== undefined && r.partition !== null && !isIntegerLike(r.partition)) {
      // Issue 9: a caller's mistake is a 4xx (the reference's 500 here is Karapace's accident).
      throw new ServiceError('REQUEST_UNPROCESSABLE', 'record partition must be an integer');
    }
    if (Object.keys(r).some((k) => !RECORD_KEYS.has(k)))
      throw new ServiceError('REQUEST_UNPROCESSABLE', 'Invalid request format');
  }
  // 5. schema formats: a schema for every side that has data (before asking any registry)
  let keySchema: ResolvedSchema | null = null;
  let valueSchema: ResolvedSchema | null = null;
  const schemaFormat = isSchemaFormat(ctx.requestFormat) ? ctx.requestFormat : null;
  if (schemaFormat) {
    const has = (side: 'key' | 'value') =>
      records.some(
        (r) =>
          (r as Record<string, unknown>)[side] !== undefined && (r as Record<string, unknown>)[side] !== null,
      );
    const given = (side: 'key' | 'value') =>
      (body[`${side}_schema`] ?? null) !== null || (body[`${side}_schema_id`] ?? null) !== null;
    if (has('key') && !given('key')) throw new ServiceError('KEY_SCHEMA_MISSING');
    if (has('value') && !given('value')) throw new ServiceError('VALUE_SCHEMA_MISSING');
    // 6. schema resolution
    if (given('key')) keySchema = await resolveSchema(ctx, schemaFormat, topic, 'key', body);
    if (given('value')) valueSchema = await resolveSchema(ctx, schemaFormat, topic, 'value', body);
  }
  // 7. encoding
  const outgoing: OutgoingRecord[] = records.map((record) => {
    const r = record as Record<string, unknown>;
    const partition =
      r.partition !== undefined && r.partition !== null ? Number(r.partition) : routePartition;
    const encode = (side: 'key' | 'value', schema: ResolvedSchema | null) =>
      schemaFormat
        ? encodeSchemaField(schema!, r[side])
        : encodeField(ctx.requestFormat as DataFormat, r[side], side);
    return {
      key: r.key === undefined || r.key === null ? null : encode('key', keySchema),
      value: r.value === undefined || r.value === null ? null : encode('value', valueSchema),
      partition,
      headers: parseHeaders(r.headers),
    };
  });

  const results = await produceRecords(
    ctx.session,
    topic,
    outgoing,
    count,
    ctx.config.kafka.requestTimeoutMs,
  );
  let failed = false;
  let produced = 0;
  let bytes = 0;
  const offsets = results.map((result, i): ProduceOffset => {
    if (result.ok) {
      produced++;
      bytes += (outgoing[i]!.key?.length ?? 0) + (outgoing[i]!.value?.length ?? 0);
      return { partition: result.partition, offset: result.offset, error_code: null, error: null };
    }
    failed = true;
    ctx.metrics.kafkaErrors.labels(result.code.startsWith('KAFKA_') ? result.code : 'KAFKA_ERROR').inc();
    // Karapace's per-record error_code: 2 when sending again may succeed, else 1.
    return { partition: null, offset: null, error_code: result.retriable ? 2 : 1, error: result.error };
  });
  ctx.metrics.recordsProduced.inc(produced);
  ctx.metrics.bytesProduced.inc(bytes);
  const answer = produceAnswerJson(keySchema?.id ?? null, valueSchema?.id ?? null, offsets);
  if (produced === 0 && results.length > 0 && results.every((r) => !r.ok && r.retriable)) {
    // Nothing written, and all of it retriable (no broker answered, or a failover is under
    // way): a 503 with Retry-After says "try again shortly" to every HTTP client and proxy;
    // the body still has the contract's per-record errors (error_code 2). Issue 13.
    send(ctx.req, ctx.res, 503, answer, undefined, { 'retry-after': '2' });
    return;
  }
  send(ctx.req, ctx.res, failed ? 422 : 200, answer);
}

export interface ProduceOffset {
  readonly partition: number | null;
  readonly offset: number | null;
  readonly error_code: number | null;
  readonly error: string | null;
}

/**
 * The produce answer as the contract writes it (compact, keys sorted at every level), written
 * out directly: it is the one answer of every produce request, with an entry per record, and
 * sortedJson's replacer visits and copies every one of those objects. A test holds it equal to
 * sortedJson of the same answer.
 */
export function produceAnswerJson(
  keySchemaId: number | null,
  valueSchemaId: number | null,
  offsets: readonly ProduceOffset[],
): string {
  let out = `{"key_schema_id":${JSON.stringify(keySchemaId)},"offsets":[`;
  for (let i = 0; i < offsets.length; i++) {
    const o = offsets[i]!;
    if (i > 0) out += ',';
    out += `{"error":${JSON.stringify(o.error)},"error_code":${JSON.stringify(o.error_code)},"offset":${JSON.stringify(o.offset)},"partition":${JSON.stringify(o.partition)}}`;
  }
  return `${out}],"value_schema_id":${JSON.stringify(valueSchemaId)}}`;
}
