import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import {
  CLUSTER_NAME,
  OPERATIONS,
  type Operation,
  PATTERN_TYPES,
  type PatternType,
  PERMISSION_TYPES,
  type PermissionType,
  RESOURCE_TYPES,
  type ResourceType,
} from './acl-types.ts';
import { AIVEN_PERMISSIONS, type AivenPermission } from './aiven-permission.ts';
import { isGlob } from './name-pattern.ts';

/**
 * The ACL file: service users, super users and rules in two styles (README.md in this folder).
 * Parsing reports every problem at once, each naming its entry, and never throws.
 */

/** `username` and `topic` are globs (`*`, `?`); always ALLOW. */
export interface AivenAclEntry {
  readonly style: 'aiven';
  readonly username: string;
  readonly topic: string;
  readonly permission: AivenPermission;
}

/** As `kafka-acls.sh` would write it; `principal` is `User:<name>` or `User:*`. */
export interface NativeAclEntry {
  readonly style: 'native';
  readonly principal: string;
  readonly resourceType: ResourceType;
  readonly patternType: PatternType;
  readonly resourceName: string;
  readonly operation: Operation;
  readonly permissionType: PermissionType;
  /** `*` or one client IP address, compared as text the way Kafka compares it. */
  readonly host: string;
}

export type AclEntry = AivenAclEntry | NativeAclEntry;

export interface AclFile {
  readonly superUsers: readonly string[];
  readonly serviceUsers: readonly string[];
  readonly acls: readonly AclEntry[];
}

export type AclFileResult = { ok: true; file: AclFile } | { ok: false; problems: string[] };

export const USER_PRINCIPAL_PREFIX = 'User:';

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && value !== null) return 'a mapping';
  if (typeof value === 'string' && value.length > 60) return `${JSON.stringify(value.slice(0, 60))}…`;
  return JSON.stringify(value) ?? String(value);
}

function expected(what: string) {
  return (issue: { input?: unknown }) => `expected ${what}, got ${show(issue.input)}`;
}

function text(what: string) {
  return z.string({ error: expected(what) }).min(1, { error: expected(what) });
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: expected(values.join('|')) });
}

const userName = text('a service user name').refine((name) => !name.startsWith(USER_PRINCIPAL_PREFIX), {
  error: expected('the name without the User: prefix'),
});

const userList = z.array(userName, { error: expected('a list of service user names') }).nullish();

const fileSchema = z.strictObject({
  superUsers: userList,
  serviceUsers: userList,
  acls: z.array(z.unknown(), { error: expected('a list of ACL entries') }).nullish(),
});

const aivenSchema = z.strictObject({
  username: text('a username pattern'),
  topic: text('a topic pattern'),
  permission: oneOf(AIVEN_PERMISSIONS),
});

// Kafka matches the host against the client's IP address as text; names are never resolved.
const HOST = /^(\*|\d{1,3}(\.\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*)$/;

const nativeSchema = z.strictObject({
  principal: z
    .string({ error: expected('User:<name> or User:*') })
    .regex(/^User:./s, { error: expected('User:<name> or User:*') }),
  resourceType: oneOf(RESOURCE_TYPES),
  patternType: oneOf(PATTERN_TYPES).default('LITERAL'),
  resourceName: text('a resource name'),
  operation: oneOf(OPERATIONS),
  permissionType: oneOf(PERMISSION_TYPES),
  host: z
    .string({ error: expected('"*" or an IP address') })
    .regex(HOST, { error: expected('"*" or an IP address') })
    .default('*'),
});

function formatIssues(prefix: string, error: z.ZodError, shape: readonly string[]): string[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter((part) => part !== '').join('.') || '(file)';
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((key) => JSON.stringify(key)).join(', ');
      return `${path}: unknown key ${keys} (expected ${shape.join(', ')})`;
    }
    return `${path}: ${issue.message}`;
  });
}

function parseEntry(raw: unknown, at: string, problems: string[]): AclEntry | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push(
      `${at}: expected a mapping with username/topic/permission or principal/resourceType/…, got ${show(raw)}`,
    );
    return null;
  }
  const aiven = Object.hasOwn(raw, 'username');
  const native = Object.hasOwn(raw, 'principal');
  if (aiven && native) {
    problems.push(
      `${at}: expected either username (Aiven style) or principal (Kafka-native style), got both`,
    );
    return null;
  }
  if (aiven) {
    const result = aivenSchema.safeParse(raw);
    if (result.success) return { style: 'aiven', ...result.data };
    problems.push(...formatIssues(at, result.error, Object.keys(aivenSchema.shape)));
    return null;
  }
  if (native) {
    const result = nativeSchema.safeParse(raw);
    if (result.success) return { style: 'native', ...result.data };
    problems.push(...formatIssues(at, result.error, Object.keys(nativeSchema.shape)));
    return null;
  }
  problems.push(`${at}: expected username (Aiven style) or principal (Kafka-native style), got neither`);
  return null;
}

/**
 * Rules that name a user the file does not know can never apply; a typo in a DENY would then
 * silently fail to deny, so they are problems, not warnings.
 */
function checkEntry(entry: AclEntry, at: string, known: ReadonlySet<string>, problems: string[]): void {
  if (entry.style === 'aiven') {
    if (!isGlob(entry.username) && !known.has(entry.username)) {
      problems.push(`${at}.username: ${show(entry.username)} is not listed in serviceUsers or superUsers`);
    }
    return;
  }
  const name = entry.principal.slice(USER_PRINCIPAL_PREFIX.length);
  if (name !== '*' && !known.has(name)) {
    problems.push(`${at}.principal: ${show(name)} is not listed in serviceUsers or superUsers`);
  }
  if (entry.resourceType === 'CLUSTER' && entry.resourceName !== CLUSTER_NAME) {
    problems.push(
      `${at}.resourceName: expected ${CLUSTER_NAME} for a CLUSTER resource, got ${show(entry.resourceName)}`,
    );
  }
}

/** yaml's messages end their first line with `:` before a source excerpt. */
function firstLine(message: string): string {
  return (message.split('\n')[0] ?? '').replace(/:$/, '');
}

function parseYaml(source: string, problems: string[]): unknown {
  const doc = parseDocument(source);
  for (const error of doc.errors) problems.push(`(file): not valid YAML: ${firstLine(error.message)}`);
  if (doc.errors.length > 0) return undefined;
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    problems.push(`(file): not valid YAML: ${firstLine((err as Error).message)}`);
    return undefined;
  }
}

/** Parses and validates the YAML text of an ACL file; `ok: false` lists every problem found. */
export function parseAclFile(source: string): AclFileResult {
  const problems: string[] = [];
  let raw = parseYaml(source, problems);
  if (problems.length > 0) return { ok: false, problems };
  // An empty file is valid: nobody is known, so every request is denied.
  raw ??= {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return {
      ok: false,
      problems: [`(file): expected a mapping with superUsers, serviceUsers and acls, got ${show(raw)}`],
    };
  }
  const top = fileSchema.safeParse(raw);
  if (!top.success) problems.push(...formatIssues('', top.error, Object.keys(fileSchema.shape)));
  const superUsers = top.data?.superUsers ?? [];
  const serviceUsers = top.data?.serviceUsers ?? [];
  // With a broken user list, "unknown user" findings would only be noise.
  const known = top.success ? new Set([...superUsers, ...serviceUsers]) : null;
  const items = (raw as { acls?: unknown }).acls;
  const acls: AclEntry[] = [];
  (Array.isArray(items) ? items : []).forEach((item: unknown, i) => {
    const at = `acls.${i}`;
    const entry = parseEntry(item, at, problems);
    if (entry === null) return;
    if (known !== null) checkEntry(entry, at, known, problems);
    acls.push(entry);
  });
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, file: { superUsers, serviceUsers, acls } };
}

/** Reads and parses the ACL file at `path`; a read failure is a problem like any other. */
export async function readAclFile(path: string): Promise<AclFileResult> {
  let source: string;
  try {
    source = await readFile(path, 'utf8');
  } catch (err) {
    return {
      ok: false,
      problems: [`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`],
    };
  }
  return parseAclFile(source);
}
