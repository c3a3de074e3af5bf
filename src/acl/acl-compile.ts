import { type AclEntry, type AclFile, USER_PRINCIPAL_PREFIX } from './acl-file.ts';
import { CLUSTER_NAME, OPERATIONS, type Operation, type ResourceType, type RuleRef } from './acl-types.ts';
import { AIVEN_GRANTS, type GrantScope } from './aiven-permission.ts';
import { compileGlob, literalPattern, matchesName, type NamePattern, prefixPattern } from './name-pattern.ts';

/**
 * Turns a validated ACL file into lookup structures, once per load: per service user, per
 * resource type, the rules that can apply to them, split by how they match names. A request then
 * reads only its own user's rules for its own resource type, and no pattern is compiled twice.
 */

/** One operation per bit, in OPERATIONS order, so a rule's operations test with one `&`. */
export const OPERATION_BIT: Readonly<Record<Operation, number>> = Object.freeze(
  Object.fromEntries(OPERATIONS.map((operation, i) => [operation, 1 << i])) as Record<Operation, number>,
);

const EVERY_OPERATION = (1 << OPERATIONS.length) - 1;

// Kafka StandardAuthorizer: an ALLOW for these also allows DESCRIBE (resp. DESCRIBE_CONFIGS).
// DENY rules get no such widening: denying READ does not deny DESCRIBE.
const IMPLIES_DESCRIBE: ReadonlySet<Operation> = new Set(['READ', 'WRITE', 'DELETE', 'ALTER']);

export interface CompiledRule {
  readonly ref: RuleRef;
  readonly deny: boolean;
  /** Bits (OPERATION_BIT) of the requested operations this rule decides, implications applied. */
  readonly operations: number;
  /** The one client address it applies to; null for `*`. */
  readonly host: string | null;
  readonly pattern: NamePattern;
}

/** The rules of one user for one resource type, by the way they match a name. */
export interface ResourceRules {
  readonly exact: ReadonlyMap<string, readonly CompiledRule[]>;
  readonly any: readonly CompiledRule[];
  readonly prefixed: readonly CompiledRule[];
  readonly patterned: readonly CompiledRule[];
}

export interface UserAcls {
  /** Set for super users, who pass every check without looking at rules. */
  readonly superUser: RuleRef | null;
  readonly resources: ReadonlyMap<ResourceType, ResourceRules>;
}

export interface CompiledAcls {
  /** Every known user: service users and super users. Anyone else is USER_UNKNOWN. */
  readonly users: ReadonlyMap<string, UserAcls>;
  /** Entries in the file's `acls` list. */
  readonly ruleCount: number;
}

interface RulesBuilder {
  exact: Map<string, CompiledRule[]>;
  any: CompiledRule[];
  prefixed: CompiledRule[];
  patterned: CompiledRule[];
}

function allowBits(operation: Operation): number {
  if (operation === 'ALL') return EVERY_OPERATION;
  let bits = OPERATION_BIT[operation];
  if (IMPLIES_DESCRIBE.has(operation)) bits |= OPERATION_BIT.DESCRIBE;
  if (operation === 'ALTER_CONFIGS') bits |= OPERATION_BIT.DESCRIBE_CONFIGS;
  return bits;
}

function denyBits(operation: Operation): number {
  return operation === 'ALL' ? EVERY_OPERATION : OPERATION_BIT[operation];
}

function scopePattern(scope: GrantScope, topicGlob: string): NamePattern {
  if (scope === 'matching topics') return compileGlob(topicGlob);
  if (scope === 'all groups') return literalPattern('*');
  return literalPattern(CLUSTER_NAME);
}

function describeEntry(entry: AclEntry, index: number): string {
  if (entry.style === 'aiven') {
    return `acls.${index}: username "${entry.username}" ${entry.permission} on topic "${entry.topic}" (Aiven style)`;
  }
  const host = entry.host === '*' ? '' : ` from host ${entry.host}`;
  return (
    `acls.${index}: ${entry.permissionType} ${entry.principal} ${entry.operation} on ` +
    `${entry.resourceType} ${entry.patternType} "${entry.resourceName}"${host}`
  );
}

/** The users a rule is written for, as a pattern over service user names. */
function userPattern(entry: AclEntry): NamePattern {
  if (entry.style === 'aiven') return compileGlob(entry.username);
  return literalPattern(entry.principal.slice(USER_PRINCIPAL_PREFIX.length));
}

function compileEntry(entry: AclEntry, index: number): Array<[ResourceType, CompiledRule]> {
  const ref: RuleRef = { source: 'acls', index, description: describeEntry(entry, index) };
  if (entry.style === 'aiven') {
    return AIVEN_GRANTS[entry.permission].map((grant) => [
      grant.resourceType,
      {
        ref,
        deny: false,
        operations: grant.operations.reduce((bits, operation) => bits | allowBits(operation), 0),
        host: null,
        pattern: scopePattern(grant.scope, entry.topic),
      },
    ]);
  }
  const deny = entry.permissionType === 'DENY';
  const rule: CompiledRule = {
    ref,
    deny,
    operations: deny ? denyBits(entry.operation) : allowBits(entry.operation),
    host: entry.host === '*' ? null : entry.host,
    pattern:
      entry.patternType === 'PREFIXED'
        ? prefixPattern(entry.resourceName)
        : literalPattern(entry.resourceName),
  };
  return [[entry.resourceType, rule]];
}

function addRule(builder: RulesBuilder, rule: CompiledRule): void {
  const pattern = rule.pattern;
  if (pattern.kind === 'exact') {
    const list = builder.exact.get(pattern.name);
    if (list) list.push(rule);
    else builder.exact.set(pattern.name, [rule]);
  } else if (pattern.kind === 'any') builder.any.push(rule);
  else if (pattern.kind === 'prefix') builder.prefixed.push(rule);
  else builder.patterned.push(rule);
}

/** Compiles a validated ACL file; rules for users the file does not know are dropped (they never apply). */
export function compileAcls(file: AclFile): CompiledAcls {
  const superRefs = new Map<string, RuleRef>();
  file.superUsers.forEach((name, index) => {
    if (!superRefs.has(name)) {
      superRefs.set(name, {
        source: 'superUsers',
        index,
        description: `superUsers.${index}: "${name}" passes every check`,
      });
    }
  });
  // Super users never reach the rules, so only service users get rule tables.
  const ruleUsers = [...new Set(file.serviceUsers)].filter((name) => !superRefs.has(name));
  const tables = new Map<string, Map<ResourceType, RulesBuilder>>(ruleUsers.map((name) => [name, new Map()]));

  file.acls.forEach((entry, index) => {
    const pattern = userPattern(entry);
    const users = pattern.kind === 'exact' ? [pattern.name] : ruleUsers;
    const compiled = compileEntry(entry, index);
    for (const user of users) {
      const table = tables.get(user);
      if (table === undefined || !matchesName(pattern, user)) continue;
      for (const [resourceType, rule] of compiled) {
        let builder = table.get(resourceType);
        if (builder === undefined) {
          builder = { exact: new Map(), any: [], prefixed: [], patterned: [] };
          table.set(resourceType, builder);
        }
        addRule(builder, rule);
      }
    }
  });

  const users = new Map<string, UserAcls>();
  for (const [name, ref] of superRefs) users.set(name, { superUser: ref, resources: new Map() });
  for (const [name, table] of tables) users.set(name, { superUser: null, resources: table });
  return { users, ruleCount: file.acls.length };
}
