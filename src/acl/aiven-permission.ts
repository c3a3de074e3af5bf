import type { Operation, ResourceType } from './acl-types.ts';

/**
 * What each Aiven-style `permission` grants, as Kafka ALLOW rules. README.md in this folder
 * documents the same table, and a test keeps the two in step.
 */

export const AIVEN_PERMISSIONS = ['admin', 'read', 'write', 'readwrite'] as const;
export type AivenPermission = (typeof AIVEN_PERMISSIONS)[number];

/** Which names of a resource type a grant covers. */
export type GrantScope = 'matching topics' | 'all groups' | 'the cluster';

export interface AivenGrant {
  readonly resourceType: ResourceType;
  readonly scope: GrantScope;
  readonly operations: readonly Operation[];
}

const READ_TOPICS: AivenGrant = {
  resourceType: 'TOPIC',
  scope: 'matching topics',
  operations: ['READ', 'DESCRIBE', 'DESCRIBE_CONFIGS'],
};
// Consuming needs the group, and clients pick group names freely; Aiven grants them all.
// Tighten with Kafka-native DENY rules on GROUP where groups must stay apart.
const READ_GROUPS: AivenGrant = {
  resourceType: 'GROUP',
  scope: 'all groups',
  operations: ['READ', 'DESCRIBE'],
};
const WRITE_TOPICS: AivenGrant = {
  resourceType: 'TOPIC',
  scope: 'matching topics',
  operations: ['WRITE', 'DESCRIBE', 'DESCRIBE_CONFIGS'],
};

export const AIVEN_GRANTS: Readonly<Record<AivenPermission, readonly AivenGrant[]>> = Object.freeze({
  read: [
    READ_TOPICS,
    READ_GROUPS,
    { resourceType: 'CLUSTER', scope: 'the cluster', operations: ['DESCRIBE'] },
  ],
  write: [
    WRITE_TOPICS,
    { resourceType: 'CLUSTER', scope: 'the cluster', operations: ['DESCRIBE', 'IDEMPOTENT_WRITE'] },
  ],
  readwrite: [
    {
      resourceType: 'TOPIC',
      scope: 'matching topics',
      operations: ['READ', 'WRITE', 'DESCRIBE', 'DESCRIBE_CONFIGS'],
    },
    READ_GROUPS,
    { resourceType: 'CLUSTER', scope: 'the cluster', operations: ['DESCRIBE', 'IDEMPOTENT_WRITE'] },
  ],
  // No CLUSTER CREATE: in Kafka it creates *any* topic, which would let an admin of
  // `orders.*` create `payments.x`. TOPIC ALL already includes CREATE on matching names,
  // and Kafka (KIP-277) accepts topic-level CREATE for CreateTopics.
  admin: [
    { resourceType: 'TOPIC', scope: 'matching topics', operations: ['ALL'] },
    { resourceType: 'GROUP', scope: 'all groups', operations: ['ALL'] },
    { resourceType: 'CLUSTER', scope: 'the cluster', operations: ['DESCRIBE', 'IDEMPOTENT_WRITE'] },
  ],
});
