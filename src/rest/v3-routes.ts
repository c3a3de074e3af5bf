import { ServiceError } from '../errors.ts';
import { isLegalTopicName } from '../kafka/topic-name.ts';
import {
  alterTopicConfig,
  clusterId,
  createTopic,
  deleteTopic,
  describeTopic,
  listTopics,
  topicConfigs,
} from '../kafka/topics.ts';
import { assertMayCreateTopic, canDescribeTopic, type RequestContext } from './request-context.ts';
import { sendEmpty, sendJson } from './respond.ts';

/**
 * Confluent REST v3 topic admin: clusters, topics (list, describe, create, delete), topic
 * configs (read) and partitions. One cluster: the one the brokers belong to.
 */

const V3_TYPE = 'application/json';

async function checkCluster(ctx: RequestContext): Promise<string> {
  const id = await clusterId(ctx.session);
  if (ctx.route.params.cluster !== undefined && ctx.route.params.cluster !== id) {
    throw new ServiceError('RESOURCE_NOT_FOUND', `Cluster ${ctx.route.params.cluster} not found`);
  }
  return id;
}

function base(ctx: RequestContext): string {
  return ctx.config.rest.baseUri.replace(/\/+$/, '');
}

async function topicResource(ctx: RequestContext, cluster: string, name: string) {
  const d = await describeTopic(ctx.session, name);
  return {
    kind: 'KafkaTopic',
    metadata: { self: `${base(ctx)}/v3/clusters/${cluster}/topics/${name}` },
    cluster_id: cluster,
    topic_name: name,
    is_internal: name.startsWith('__'),
    replication_factor: d.partitions[0]?.replicas.length ?? 0,
    partitions_count: d.partitions.length,
  };
}

function v3NotFound(err: unknown, topic: string): never {
  if (err instanceof ServiceError && err.code === 'TOPIC_NOT_FOUND') {
    throw new ServiceError('RESOURCE_NOT_FOUND', `This server does not host this topic-partition: ${topic}`);
  }
  throw err;
}

export async function listClusters(ctx: RequestContext): Promise<void> {
  const id = await clusterId(ctx.session);
  sendJson(
    ctx.req,
    ctx.res,
    200,
    {
      kind: 'KafkaClusterList',
      metadata: { self: `${base(ctx)}/v3/clusters` },
      data: [{ kind: 'KafkaCluster', cluster_id: id }],
    },
    V3_TYPE,
  );
}

export async function getCluster(ctx: RequestContext): Promise<void> {
  const id = await checkCluster(ctx);
  sendJson(ctx.req, ctx.res, 200, { kind: 'KafkaCluster', cluster_id: id }, V3_TYPE);
}

export async function listTopicsV3(ctx: RequestContext): Promise<void> {
  const cluster = await checkCluster(ctx);
  const names = (await listTopics(ctx.session)).filter((t) => canDescribeTopic(ctx, t));
  const data = [];
  for (const name of names) {
    try {
      data.push(await topicResource(ctx, cluster, name));
    } catch (err) {
      // A topic deleted between list and describe simply drops out.
      if (!(err instanceof ServiceError && err.code === 'TOPIC_NOT_FOUND')) throw err;
    }
  }
  sendJson(ctx.req, ctx.res, 200, { kind: 'KafkaTopicList', data }, V3_TYPE);
}

export async function getTopicV3(ctx: RequestContext): Promise<void> {
  const cluster = await checkCluster(ctx);
  const topic = ctx.route.params.topic!;
  try {
    sendJson(ctx.req, ctx.res, 200, await topicResource(ctx, cluster, topic), V3_TYPE);
  } catch (err) {
    v3NotFound(err, topic);
  }
}

function integerIn(value: unknown, field: string, min: number, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ServiceError('REQUEST_INVALID', `${field} must be an integer >= ${min}`);
  }
  return value;
}

export async function createTopicV3(ctx: RequestContext): Promise<void> {
  const cluster = await checkCluster(ctx);
  const body = ctx.json!;
  const name = body.topic_name;
  if (typeof name !== 'string' || !isLegalTopicName(name)) {
    throw new ServiceError('REQUEST_INVALID', 'topic_name must be 1-249 characters of [a-zA-Z0-9._-]');
  }
  assertMayCreateTopic(ctx, name);
  const configsRaw = body.configs ?? [];
  if (!Array.isArray(configsRaw))
    throw new ServiceError('REQUEST_INVALID', 'configs must be an array of {name, value}');
  const configs = configsRaw.map((c) => {
    const entry = c as Record<string, unknown>;
    if (typeof entry?.name !== 'string' || (typeof entry.value !== 'string' && entry.value !== null)) {
      throw new ServiceError('REQUEST_INVALID', 'configs must be an array of {name, value} strings');
    }
    return { name: entry.name, value: entry.value as string };
  });
  const created = await createTopic(ctx.session, {
    name,
    partitions: integerIn(body.partitions_count, 'partitions_count', 1, 1),
    replicationFactor: integerIn(body.replication_factor, 'replication_factor', 1, 1),
    configs,
  });
  if (!created) throw new ServiceError('TOPIC_EXISTS', `Topic '${name}' already exists.`);
  sendJson(ctx.req, ctx.res, 201, await topicResource(ctx, cluster, name), V3_TYPE);
}

export async function deleteTopicV3(ctx: RequestContext): Promise<void> {
  await checkCluster(ctx);
  const topic = ctx.route.params.topic!;
  try {
    await deleteTopic(ctx.session, topic);
  } catch (err) {
    v3NotFound(err, topic);
  }
  sendEmpty(ctx.req, ctx.res, 204);
}

export async function listTopicConfigs(ctx: RequestContext): Promise<void> {
  const cluster = await checkCluster(ctx);
  const topic = ctx.route.params.topic!;
  let entries: Awaited<ReturnType<typeof topicConfigs>>;
  try {
    entries = await topicConfigs(ctx.session, topic);
  } catch (err) {
    v3NotFound(err, topic);
  }
  const wanted = ctx.route.params.config;
  const data = entries
    .filter((e) => wanted === undefined || e.name === wanted)
    .map((e) => ({
      kind: 'KafkaTopicConfig',
      cluster_id: cluster,
      topic_name: topic,
      name: e.name,
      value: e.isSensitive ? null : e.value,
      is_default: e.isDefault,
      is_read_only: e.isReadOnly,
      is_sensitive: e.isSensitive,
      source: e.source,
    }));
  if (wanted !== undefined) {
    if (data.length === 0) throw new ServiceError('RESOURCE_NOT_FOUND', `Config ${wanted} not found`);
    sendJson(ctx.req, ctx.res, 200, data[0], V3_TYPE);
    return;
  }
  sendJson(ctx.req, ctx.res, 200, { kind: 'KafkaTopicConfigList', data }, V3_TYPE);
}

export async function listPartitionsV3(ctx: RequestContext): Promise<void> {
  const cluster = await checkCluster(ctx);
  const topic = ctx.route.params.topic!;
  try {
    const d = await describeTopic(ctx.session, topic);
    const data = d.partitions.map((p) => ({
      kind: 'KafkaPartition',
      cluster_id: cluster,
      topic_name: topic,
      partition_id: p.partition,
      leader_id: p.leader,
    }));
    sendJson(ctx.req, ctx.res, 200, { kind: 'KafkaPartitionList', data }, V3_TYPE);
  } catch (err) {
    v3NotFound(err, topic);
  }
}

/** PUT .../configs/{name} with {"value": "..."}; DELETE resets it to the default. */
export async function alterTopicConfigV3(ctx: RequestContext): Promise<void> {
  await checkCluster(ctx);
  const topic = ctx.route.params.topic!;
  const name = ctx.route.params.config!;
  let value: string | null = null;
  if (ctx.req.method === 'PUT') {
    const v = ctx.json?.value;
    if (typeof v !== 'string') throw new ServiceError('REQUEST_INVALID', 'value must be a string');
    value = v;
  }
  try {
    await alterTopicConfig(ctx.session, topic, name, value);
  } catch (err) {
    v3NotFound(err, topic);
  }
  sendEmpty(ctx.req, ctx.res, 204);
}
