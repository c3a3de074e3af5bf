import { join } from 'node:path';
import type { DevIssuer } from '../../src/dev/issuer.ts';
import { type AclRule, type AclTable, writeTollgateAclFile } from './acl-fixture.ts';
import { createRequestPool, type RequestPool } from './check-requests.ts';

/**
 * Many distinct principals, bench only: one token per principal (subject `p00000`, `p00001`,
 * ...) minted by the benchmark's in-process issuer, which signs for any subject, and an ACL
 * table that lets each of them do what the benchmark's routes need (produce to and describe
 * `orders.*`, read its records as group `alice-orders`), so every Check is an allow reached
 * through that principal's own rules. Nothing here touches the stack's issuer or its clients.
 */

export interface PrincipalFixture {
  readonly principals: readonly string[];
  readonly table: AclTable;
  readonly aclFile: string;
  /** One CheckRequest per principal, cycling over the benchmark routes. */
  readonly pool: RequestPool;
  readonly mintSec: number;
}

export const principalName = (i: number) => `p${String(i).padStart(5, '0')}`;

/** The ACL table for `principals`: three rules each, no wildcard principal. */
export function principalAclTable(principals: readonly string[]): AclTable {
  const rules: AclRule[] = [];
  for (const name of principals) {
    const principal = `User:${name}`;
    const allow = { principal, permissionType: 'ALLOW' as const };
    rules.push(
      {
        ...allow,
        resourceType: 'TOPIC',
        patternType: 'PREFIXED',
        resourceName: 'orders.',
        operation: 'READ',
      },
      {
        ...allow,
        resourceType: 'TOPIC',
        patternType: 'PREFIXED',
        resourceName: 'orders.',
        operation: 'WRITE',
      },
      { ...allow, resourceType: 'GROUP', patternType: 'PREFIXED', resourceName: 'alice-', operation: 'READ' },
    );
  }
  return { superUsers: ['admin'], serviceUsers: [...principals], rules };
}

export async function createPrincipalFixture(
  issuer: DevIssuer,
  count: number,
  dir: string,
): Promise<PrincipalFixture> {
  const principals = Array.from({ length: count }, (_, i) => principalName(i));
  const started = performance.now();
  const tokens: string[] = [];
  for (const principal of principals) tokens.push(await issuer.mint(principal));
  const mintSec = (performance.now() - started) / 1000;
  const table = principalAclTable(principals);
  const aclFile = join(dir, 'principals-acl.yaml');
  writeTollgateAclFile(table, aclFile);
  return {
    principals,
    table,
    aclFile,
    pool: createRequestPool(join(dir, 'check-principals'), tokens),
    mintSec,
  };
}
