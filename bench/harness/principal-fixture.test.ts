import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileAcls } from '../../src/acl/acl-compile.ts';
import { parseAclFile } from '../../src/acl/acl-file.ts';
import { authorize } from '../../src/acl/acl-match.ts';
import { mapRoute } from '../../src/routes/route-map.ts';
import { writeTollgateAclFile } from './acl-fixture.ts';
import { BENCH_ROUTES } from './check-requests.ts';
import { principalAclTable, principalName } from './principal-fixture.ts';

describe('the many-principals fixture', () => {
  const principals = Array.from({ length: 50 }, (_, i) => principalName(i));
  const dir = mkdtempSync(join(tmpdir(), 'bench-principals-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  function compiled() {
    const file = join(dir, 'acl.yaml');
    writeTollgateAclFile(principalAclTable(principals), file);
    const parsed = parseAclFile(readFileSync(file, 'utf8'));
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    return compileAcls(parsed.file);
  }

  it('writes an ACL file Tollgate accepts, allowing every principal every benchmark route', () => {
    const acls = compiled();
    for (const principal of [principals[0]!, principals[49]!]) {
      for (const route of BENCH_ROUTES) {
        const mapped = mapRoute(route.method, route.path);
        assert.ok(mapped.known, route.path);
        assert.equal(authorize(acls, principal, mapped.requires).allow, true, `${principal} ${route.path}`);
      }
    }
  });

  it('gives no principal rights beyond its own rules (no wildcard)', () => {
    const acls = compiled();
    const other = mapRoute('POST', '/topics/payments.eu');
    assert.ok(other.known);
    assert.equal(authorize(acls, principals[7]!, other.requires).allow, false);
    const describe = mapRoute('GET', '/topics/orders.eu');
    assert.ok(describe.known);
    assert.equal(authorize(acls, 'p99999', describe.requires).allow, false);
  });

  it('names principals with a fixed width so 10,000 stay distinct and sorted', () => {
    assert.equal(principalName(0), 'p00000');
    assert.equal(principalName(9999), 'p09999');
  });
});
