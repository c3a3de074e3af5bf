import assert from 'node:assert/strict';
import { type CompiledAcls, compileAcls, OPERATION_BIT, type ResourceRules } from './acl-compile.ts';
import type { AclFile } from './acl-file.ts';
import type { ResourceType } from './acl-types.ts';

const FILE: AclFile = {
  superUsers: ['admin'],
  serviceUsers: ['alice', 'bob', 'admin'],
  acls: [
    { style: 'aiven', username: 'alice', topic: 'orders.*', permission: 'read' },
    { style: 'aiven', username: 'a*', topic: 'a?c', permission: 'write' },
    {
      style: 'native',
      principal: 'User:*',
      resourceType: 'TOPIC',
      patternType: 'LITERAL',
      resourceName: 'public',
      operation: 'DESCRIBE',
      permissionType: 'ALLOW',
      host: '*',
    },
    {
      style: 'native',
      principal: 'User:bob',
      resourceType: 'GROUP',
      patternType: 'PREFIXED',
      resourceName: 'bob-',
      operation: 'READ',
      permissionType: 'DENY',
      host: '10.0.0.1',
    },
    // Validation refuses this; compiling must still not let it reach anyone.
    {
      style: 'native',
      principal: 'User:ghost',
      resourceType: 'TOPIC',
      patternType: 'LITERAL',
      resourceName: '*',
      operation: 'ALL',
      permissionType: 'ALLOW',
      host: '*',
    },
  ],
};

function rules(acls: CompiledAcls, user: string, type: ResourceType): ResourceRules | undefined {
  return acls.users.get(user)?.resources.get(type);
}

function indexes(list: ReadonlyArray<{ ref: { index: number } }> | undefined): number[] {
  return (list ?? []).map((rule) => rule.ref.index);
}

describe('acl-compile', () => {
  const acls = compileAcls(FILE);

  it('keys users by name, super users included, each once', () => {
    assert.deepEqual([...acls.users.keys()].sort(), ['admin', 'alice', 'bob']);
    assert.equal(acls.ruleCount, 5);
  });

  it('gives super users their entry and no rule tables', () => {
    const admin = acls.users.get('admin')!;
    assert.equal(admin.superUser?.index, 0);
    assert.equal(admin.resources.size, 0);
  });

  it("files a rule only under the users it names, so a request never scans another user's rules", () => {
    assert.deepEqual(indexes(rules(acls, 'bob', 'TOPIC')?.exact.get('public')), [2]);
    assert.deepEqual(indexes(rules(acls, 'bob', 'TOPIC')?.prefixed), []);
    assert.deepEqual(indexes(rules(acls, 'alice', 'TOPIC')?.prefixed), [0]);
    assert.equal(rules(acls, 'alice', 'GROUP')?.prefixed.length, 0);
  });

  it('puts each name pattern in its fast lookup', () => {
    const alice = rules(acls, 'alice', 'TOPIC')!;
    assert.deepEqual(indexes(alice.exact.get('public')), [2]);
    assert.deepEqual(indexes(alice.prefixed), [0]);
    assert.deepEqual(indexes(alice.patterned), [1]);
    assert.deepEqual(indexes(rules(acls, 'alice', 'GROUP')?.any), [0]);
    assert.deepEqual(indexes(rules(acls, 'alice', 'CLUSTER')?.exact.get('kafka-cluster')), [0, 1]);
  });

  it('widens ALLOW operations by implication and keeps DENY operations exact', () => {
    const read = rules(acls, 'alice', 'TOPIC')!.prefixed[0]!;
    assert.equal(
      read.operations,
      OPERATION_BIT.READ | OPERATION_BIT.DESCRIBE | OPERATION_BIT.DESCRIBE_CONFIGS,
    );
    const deny = rules(acls, 'bob', 'GROUP')!.prefixed[0]!;
    assert.equal(deny.deny, true);
    assert.equal(deny.operations, OPERATION_BIT.READ);
    assert.equal(deny.host, '10.0.0.1');
  });

  it('drops rules for users the file does not list', () => {
    assert.equal(acls.users.has('ghost'), false);
    for (const user of acls.users.values()) {
      assert.equal(user.resources.get('TOPIC')?.any.length ?? 0, 0);
    }
  });

  it('describes each rule on one line for explain', () => {
    const aiven = rules(acls, 'alice', 'TOPIC')!.prefixed[0]!.ref.description;
    const native = rules(acls, 'bob', 'GROUP')!.prefixed[0]!.ref.description;
    assert.equal(aiven, 'acls.0: username "alice" read on topic "orders.*" (Aiven style)');
    assert.equal(native, 'acls.3: DENY User:bob READ on GROUP PREFIXED "bob-" from host 10.0.0.1');
  });
});
