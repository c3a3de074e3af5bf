import { randomUUID } from 'node:crypto';
import { ServiceError } from '../errors.ts';
import {
  type ConsumerFormat,
  ConsumerInstance,
  type ConsumerInstanceOptions,
  type TopicPartition,
  type TopicPartitionOffset,
} from '../kafka/consumer-instance.ts';
import type { FetchedRecord } from '../kafka/consumer-types.ts';
import type { DataFormat } from './record-format.ts';
import { decodedJson, plainRecordsBody, RecordsBody } from './records-body.ts';
import { assertTopicAllowed, type RequestContext } from './request-context.ts';
import { send, sendEmpty, sendJson } from './respond.ts';
import { decodeSchemaField, isSchemaFormat, type SchemaFormat } from './schema-formats.ts';

/**
 * Consumer instances (reference section 7.6). An instance lives in its creator's session, so
 * another principal cannot even find it: they get 40403 like for a name that never existed,
 * and the message names no instance.
 */

const instanceKey = (group: string, name: string) => `${group}\u0000${name}`;

function notFound(): ServiceError {
  return new ServiceError('CONSUMER_NOT_FOUND');
}

function consumerOf(ctx: RequestContext): ConsumerInstance {
  const { group, instance } = ctx.route.params;
  const found = ctx.session.consumers.get(instanceKey(group!, instance!));
  if (!(found instanceof ConsumerInstance)) throw notFound();
  found.lastUsedMs = Date.now();
  return found;
}

function integerField(value: unknown): number | null {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  return null;
}

function booleanField(value: unknown, fallback: boolean): boolean | null {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  return null;
}

const FORMATS = new Set(['binary', 'json', 'avro', 'jsonschema', 'protobuf']);

/** POST /consumers/{group} */
export async function createConsumer(ctx: RequestContext): Promise<void> {
  const body = ctx.json!;
  const group = ctx.route.params.group!.replace(/^\/+|\/+$/g, '');
  const name = body.name === undefined || body.name === null ? randomUUID() : body.name;
  if (typeof name !== 'string' || name === '' || name.includes('/')) {
    throw new ServiceError('CONSUMER_CONFIG_INVALID', 'name must be a non-empty string without "/"');
  }
  const format = body.format ?? 'binary';
  if (typeof format !== 'string' || !FORMATS.has(format)) {
    throw new ServiceError('CONSUMER_CONFIG_INVALID', `Invalid format type: ${String(format)}`);
  }
  // Schema formats need the registry only when records are decoded, as in Karapace.
  const reset = body['auto.offset.reset'] ?? 'earliest';
  if (typeof reset !== 'string' || !['earliest', 'latest'].includes(reset.toLowerCase())) {
    throw new ServiceError('CONSUMER_CONFIG_INVALID', 'auto.offset.reset must be earliest or latest');
  }
  const autoCommit = booleanField(body['auto.commit.enable'], true);
  if (autoCommit === null)
    throw new ServiceError('CONSUMER_CONFIG_INVALID', 'auto.commit.enable must be true or false');
  const fetchMin = body['fetch.min.bytes'] === undefined ? 1 : integerField(body['fetch.min.bytes']);
  if (fetchMin === null || fetchMin < -1)
    throw new ServiceError('CONSUMER_CONFIG_INVALID', 'fetch.min.bytes must be an integer >= -1');
  const timeoutRaw = body['consumer.request.timeout.ms'];
  const timeout =
    timeoutRaw === undefined ? ctx.config.rest.consumerRequestTimeoutMs : integerField(timeoutRaw);
  if (timeout === null || timeout < 0)
    throw new ServiceError('CONSUMER_CONFIG_INVALID', 'consumer.request.timeout.ms must be an integer >= 0');

  const key = instanceKey(group, name);
  if (ctx.session.consumers.has(key)) {
    throw new ServiceError('CONSUMER_EXISTS', `Consumer ${name} already exists in group ${group}`);
  }
  if (ctx.session.consumers.size >= ctx.config.sessions.maxConsumersPerPrincipal) {
    throw new ServiceError(
      'LIMIT_REACHED',
      `Consumer instance limit reached (${ctx.config.sessions.maxConsumersPerPrincipal} per principal): delete unused instances`,
    );
  }
  const options: ConsumerInstanceOptions = {
    group,
    name,
    format: format as ConsumerFormat,
    autoOffsetReset: reset.toLowerCase() as 'earliest' | 'latest',
    autoCommit,
    fetchMinBytes: Math.max(fetchMin, 1),
    requestTimeoutMs: timeout,
    bufferMaxBytes: ctx.config.rest.consumerBufferMaxBytes,
  };
  const instance = new ConsumerInstance(ctx.session, options, ctx.logger, ctx.metrics);
  ctx.sessions.addConsumer(ctx.session, key, instance);
  const base = ctx.config.rest.baseUri.replace(/\/+$/, '');
  const path = `consumers/${encodeURIComponent(group)}/instances/${encodeURIComponent(name)}`;
  sendJson(ctx.req, ctx.res, 200, { instance_id: name, base_uri: base === '' ? path : `${base}/${path}` });
}

/** DELETE /consumers/{group}/instances/{instance} */
export async function deleteConsumer(ctx: RequestContext): Promise<void> {
  const instance = consumerOf(ctx);
  ctx.sessions.removeConsumer(ctx.session, instanceKey(instance.options.group, instance.options.name));
  await instance.close('shutdown');
  sendEmpty(ctx.req, ctx.res, 204);
}

/** POST .../subscription */
export async function subscribe(ctx: RequestContext): Promise<void> {
  const instance = consumerOf(ctx);
  const { topics, topic_pattern: pattern } = ctx.json!;
  if ((topics === undefined) === (pattern === undefined)) {
    throw new ServiceError(
      'CONSUMER_STATE_INVALID',
      'Subscription to topics, partitions and pattern are mutually exclusive',
    );
  }
  if (topics !== undefined) {
    if (!Array.isArray(topics) || topics.some((t) => typeof t !== 'string')) {
      throw new ServiceError('REQUEST_UNPROCESSABLE', 'topics must be an array of strings');
    }
    for (const topic of topics as string[]) assertTopicAllowed(ctx, topic);
    await instance.subscribe({ topics: topics as string[] });
  } else {
    if (typeof pattern !== 'string')
      throw new ServiceError('REQUEST_UNPROCESSABLE', 'topic_pattern must be a string');
    let regex: RegExp;
    try {
      // Matched from the start of the topic name, as Java's Pattern.matcher().matches() would.
      regex = new RegExp(`^(?:${pattern})$`);
    } catch {
      throw new ServiceError('REQUEST_UNPROCESSABLE', 'topic_pattern is not a valid regular expression');
    }
    await instance.subscribe({ pattern: regex });
  }
  sendEmpty(ctx.req, ctx.res, 204);
}

export async function getSubscription(ctx: RequestContext): Promise<void> {
  sendJson(ctx.req, ctx.res, 200, { topics: consumerOf(ctx).subscription() });
}

export async function unsubscribe(ctx: RequestContext): Promise<void> {
  await consumerOf(ctx).unsubscribe();
  sendEmpty(ctx.req, ctx.res, 204);
}

function partitionList(ctx: RequestContext, field: string): TopicPartition[] {
  const list = ctx.json![field];
  if (!Array.isArray(list)) throw new ServiceError('CONSUMER_REQUEST_INVALID', `${field} is required`);
  return list.map((entry) => {
    const e = entry as Record<string, unknown>;
    if (
      typeof e !== 'object' ||
      e === null ||
      typeof e.topic !== 'string' ||
      integerField(e.partition) === null
    ) {
      throw new ServiceError('CONSUMER_REQUEST_INVALID', 'each entry needs topic and partition');
    }
    assertTopicAllowed(ctx, e.topic);
    return { topic: e.topic, partition: e.partition as number };
  });
}

function offsetList(ctx: RequestContext): TopicPartitionOffset[] {
  const list = ctx.json!.offsets;
  if (!Array.isArray(list)) throw new ServiceError('CONSUMER_REQUEST_INVALID', 'offsets is required');
  return list.map((entry) => {
    const e = entry as Record<string, unknown>;
    const offset = integerField(e?.offset);
    if (typeof e?.topic !== 'string' || integerField(e.partition) === null || offset === null || offset < 0) {
      throw new ServiceError(
        'CONSUMER_REQUEST_INVALID',
        'each entry needs topic, partition and a non-negative integer offset',
      );
    }
    assertTopicAllowed(ctx, e.topic);
    return { topic: e.topic, partition: e.partition as number, offset };
  });
}

export async function assign(ctx: RequestContext): Promise<void> {
  const instance = consumerOf(ctx);
  await instance.assign(partitionList(ctx, 'partitions'));
  sendEmpty(ctx.req, ctx.res, 204);
}

export async function getAssignments(ctx: RequestContext): Promise<void> {
  sendJson(ctx.req, ctx.res, 200, { partitions: consumerOf(ctx).assignment() });
}

export async function seek(ctx: RequestContext): Promise<void> {
  const instance = consumerOf(ctx);
  await instance.seek(offsetList(ctx));
  sendEmpty(ctx.req, ctx.res, 204);
}

export async function seekToBeginning(ctx: RequestContext): Promise<void> {
  const instance = consumerOf(ctx);
  await instance.seekToBeginning(partitionList(ctx, 'partitions'));
  sendEmpty(ctx.req, ctx.res, 204);
}

export async function seekToEnd(ctx: RequestContext): Promise<void> {
  const instance = consumerOf(ctx);
  await instance.seekToEnd(partitionList(ctx, 'partitions'));
  sendEmpty(ctx.req, ctx.res, 204);
}

export async function commitOffsets(ctx: RequestContext): Promise<void> {
  const instance = consumerOf(ctx);
  const body = ctx.json!;
  if (Object.keys(body).length === 0) await instance.commit();
  else await instance.commit(offsetList(ctx));
  sendEmpty(ctx.req, ctx.res, 204);
}

export async function getCommittedOffsets(ctx: RequestContext): Promise<void> {
  const instance = consumerOf(ctx);
  const offsets = await instance.committed(partitionList(ctx, 'partitions'));
  sendJson(ctx.req, ctx.res, 200, { offsets });
}

function queryInteger(ctx: RequestContext, name: string, fallback: number): number {
  const raw = ctx.query.get(name);
  if (raw === null) return fallback;
  if (!/^\d+$/.test(raw)) throw new ServiceError('FIELD_INVALID', `${name} must be a non-negative integer`);
  return Number(raw);
}

/** GET .../records */
export async function fetchRecords(ctx: RequestContext): Promise<void> {
  const instance = consumerOf(ctx);
  // The Accept header must name the instance's format exactly.
  if (ctx.accept.format !== instance.options.format) {
    throw new ServiceError(
      'FORMAT_MISMATCH',
      `The requested embedded data format does not match the deserializer for this consumer instance (${instance.options.format})`,
    );
  }
  const timeoutMs = queryInteger(ctx, 'timeout', instance.options.requestTimeoutMs);
  const maxBytes = queryInteger(ctx, 'max_bytes', ctx.config.rest.consumerRequestMaxBytes);
  const records = timeoutMs === 0 || maxBytes === 0 ? [] : await instance.fetch(timeoutMs, maxBytes);
  const format = instance.options.format;
  let bytes = 0;
  for (const r of records) bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0);
  // binary and json decode without a registry: synchronously, not two awaits per record.
  const body = isSchemaFormat(format)
    ? await schemaRecordsBody(ctx, format, records)
    : plainRecordsBody(records, format as DataFormat);
  ctx.metrics.recordsConsumed.inc(records.length);
  ctx.metrics.bytesConsumed.inc(bytes);
  send(ctx.req, ctx.res, 200, body);
}

async function schemaRecordsBody(
  ctx: RequestContext,
  format: SchemaFormat,
  records: readonly FetchedRecord[],
): Promise<Buffer> {
  const body = new RecordsBody(records);
  for (const r of records) {
    // A key that does not decode is returned as base64 (Karapace, except jsonschema); a value must decode.
    const key = decodedJson(await safeKey(ctx, format, r.key));
    body.add(r, key, decodedJson(await decodeSchemaField(ctx, format, r.value, 'value')));
  }
  return body.finish();
}

async function safeKey(ctx: RequestContext, format: SchemaFormat, key: Buffer | null): Promise<unknown> {
  try {
    return await decodeSchemaField(ctx, format, key, 'key');
  } catch (err) {
    if (format === 'jsonschema') throw err;
    if (err instanceof ServiceError && err.code === 'SCHEMA_REGISTRY_UNAVAILABLE') throw err;
    if (err instanceof ServiceError) return key?.toString('base64') ?? null;
    throw err;
  }
}
