import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AIVEN_GRANTS, AIVEN_PERMISSIONS } from './aiven-permission.ts';

describe('aiven-permission', () => {
  it('grants exactly what the README table documents', () => {
    const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Aiven permissions'));
    const documented = section
      .split('\n')
      .filter((line) => /^\|\s*(admin|read|write|readwrite)\s*\|/.test(line))
      .map((line) =>
        line
          .split('|')
          .map((cell) => cell.trim())
          .slice(1, -1)
          .join(' | '),
      );
    const coded = AIVEN_PERMISSIONS.flatMap((permission) =>
      AIVEN_GRANTS[permission].map((grant) =>
        [permission, grant.resourceType, grant.scope, grant.operations.join(', ')].join(' | '),
      ),
    );
    assert.deepEqual([...documented].sort(), [...coded].sort());
  });

  it('never grants CLUSTER CREATE, which would reach topics outside the pattern', () => {
    for (const permission of AIVEN_PERMISSIONS) {
      for (const grant of AIVEN_GRANTS[permission]) {
        if (grant.resourceType === 'CLUSTER') {
          assert.ok(!grant.operations.includes('CREATE') && !grant.operations.includes('ALL'), permission);
        }
      }
    }
  });
});
