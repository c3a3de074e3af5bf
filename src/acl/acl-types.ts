/**
 * Kafka's authorization model, in Kafka's own words (org.apache.kafka.common.acl and
 * org.apache.kafka.common.resource), so an ACL written for the broker reads the same here.
 */

export const RESOURCE_TYPES = ['TOPIC', 'GROUP', 'CLUSTER', 'TRANSACTIONAL_ID'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

export const OPERATIONS = [
  'ALL',
  'READ',
  'WRITE',
  'CREATE',
  'DELETE',
  'ALTER',
  'DESCRIBE',
  'CLUSTER_ACTION',
  'DESCRIBE_CONFIGS',
  'ALTER_CONFIGS',
  'IDEMPOTENT_WRITE',
] as const;
export type Operation = (typeof OPERATIONS)[number];

export const PATTERN_TYPES = ['LITERAL', 'PREFIXED'] as const;
export type PatternType = (typeof PATTERN_TYPES)[number];

export const PERMISSION_TYPES = ['ALLOW', 'DENY'] as const;
export type PermissionType = (typeof PERMISSION_TYPES)[number];

/** The one name a CLUSTER resource has, as in Kafka (`Resource.CLUSTER_NAME`). */
export const CLUSTER_NAME = 'kafka-cluster';

/** One thing a request needs: an operation on a named resource. */
export interface ResourceRequest {
  readonly resourceType: ResourceType;
  readonly name: string;
  readonly operation: Operation;
}

/**
 * Points at the entry of the ACL file that decided, so `tollgate explain` and deny logs can
 * say which line to look at: `acls.3` or `superUsers.0`.
 */
export interface RuleRef {
  readonly source: 'acls' | 'superUsers';
  /** Position in that list of the file, from 0. */
  readonly index: number;
  /** One line, e.g. `acls.3: DENY User:bob WRITE on TOPIC LITERAL "orders"`. */
  readonly description: string;
}
