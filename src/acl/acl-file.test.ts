import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAclFile, readAclFile } from './acl-file.ts';

const GOOD = `
superUsers: [admin]
serviceUsers: [alice, bob, mallory]
acls:
  - username: "alice"
    topic: "orders.*"
    permission: readwrite
  - principal: "User:bob"
    resourceType: GROUP
    patternType: PREFIXED
    resourceName: "bob-"
    operation: READ
    permissionType: ALLOW
    host: "*"
  - principal: "User:*"
    resourceType: TOPIC
    resourceName: "public"
    operation: DESCRIBE
    permissionType: ALLOW
`;

/** The field each problem names (the text before ': '), which is what tests pin. */
function problemPaths(source: string): string[] {
  const result = parseAclFile(source);
  assert.equal(result.ok, false, 'expected the file to be rejected');
  return result.ok ? [] : result.problems.map((problem) => problem.slice(0, problem.indexOf(': ')));
}

const entry = (fields: string) =>
  `serviceUsers: [alice, bob]\nacls:\n  - ${fields.trim().split('\n').join('\n    ')}\n`;
const native = (overrides: Record<string, string> = {}) =>
  entry(
    Object.entries({
      principal: 'User:bob',
      resourceType: 'TOPIC',
      resourceName: 'orders',
      operation: 'READ',
      permissionType: 'ALLOW',
      ...overrides,
    })
      .filter(([, value]) => value !== '')
      .map(([key, value]) => `${key}: ${value}`)
      .join('\n'),
  );

describe('acl-file', () => {
  describe('parseAclFile accepts', () => {
    it('a file with both styles, filling defaults', () => {
      const result = parseAclFile(GOOD);
      assert.ok(result.ok);
      assert.deepEqual(result.file.superUsers, ['admin']);
      assert.deepEqual(result.file.serviceUsers, ['alice', 'bob', 'mallory']);
      assert.deepEqual(result.file.acls[0], {
        style: 'aiven',
        username: 'alice',
        topic: 'orders.*',
        permission: 'readwrite',
      });
      assert.equal(result.file.acls[1]?.style, 'native');
      assert.deepEqual(result.file.acls[2], {
        style: 'native',
        principal: 'User:*',
        resourceType: 'TOPIC',
        patternType: 'LITERAL',
        resourceName: 'public',
        operation: 'DESCRIBE',
        permissionType: 'ALLOW',
        host: '*',
      });
    });

    const valid: Array<[string, string]> = [
      ['an empty file', ''],
      ['a file of only comments', '# nothing yet\n'],
      ['empty lists written as bare keys', 'superUsers:\nserviceUsers:\nacls:\n'],
      [
        'an Aiven username glob that matches nobody yet',
        'serviceUsers: [a]\nacls:\n  - {username: "team-*", topic: "*", permission: read}\n',
      ],
      ['a host given as an IPv4 address', native({ host: '"10.0.0.7"' })],
      ['a host given as an IPv6 address', native({ host: '"::1"' })],
      [
        'a CLUSTER rule on kafka-cluster',
        native({ resourceType: 'CLUSTER', resourceName: 'kafka-cluster', operation: 'DESCRIBE' }),
      ],
      [
        'a rule for a super user',
        'superUsers: [root]\nacls:\n  - {username: root, topic: x, permission: read}\n',
      ],
    ];
    for (const [name, source] of valid) {
      it(name, () => {
        const result = parseAclFile(source);
        assert.ok(result.ok, result.ok ? '' : result.problems.join('\n'));
      });
    }
  });

  describe('parseAclFile rejects, naming each problem', () => {
    it('says what was expected and what it got', () => {
      const result = parseAclFile(entry('username: alice\ntopic: x\npermission: rw'));
      assert.deepEqual(result, {
        ok: false,
        problems: ['acls.0.permission: expected admin|read|write|readwrite, got "rw"'],
      });
    });

    const invalid: Array<[string, string, string[]]> = [
      ['YAML that does not parse', 'acls: [\n', ['(file)']],
      ['a YAML list at the top', '- a\n', ['(file)']],
      ['a scalar at the top', 'hello\n', ['(file)']],
      ['a duplicate key', 'acls: []\nacls: []\n', ['(file)']],
      ['an unknown top-level key', 'serviceUser: [a]\n', ['(file)']],
      ['serviceUsers that is not a list', 'serviceUsers: alice\n', ['serviceUsers']],
      ['a service user that is not a string', 'serviceUsers: [alice, 42]\n', ['serviceUsers.1']],
      ['an empty service user', 'serviceUsers: [""]\n', ['serviceUsers.0']],
      ['a super user written as a principal', 'superUsers: ["User:admin"]\n', ['superUsers.0']],
      ['acls that is not a list', 'acls: {}\n', ['acls']],
      ['an entry that is not a mapping', 'acls: [x]\n', ['acls.0']],
      ['an entry of neither style', entry('topic: x'), ['acls.0']],
      ['an entry mixing both styles', entry('username: alice\nprincipal: "User:bob"'), ['acls.0']],
      ['an Aiven entry missing its topic', entry('username: alice\npermission: read'), ['acls.0.topic']],
      [
        'an Aiven entry with an empty topic',
        entry('username: alice\ntopic: ""\npermission: read'),
        ['acls.0.topic'],
      ],
      [
        'an Aiven entry with an unknown key',
        entry('username: alice\ntopic: x\npermission: read\nhost: "*"'),
        ['acls.0'],
      ],
      [
        'an Aiven entry for a user nobody listed',
        entry('username: carol\ntopic: x\npermission: read'),
        ['acls.0.username'],
      ],
      ['a principal without User:', native({ principal: 'bob' }), ['acls.0.principal']],
      ['a principal nobody listed', native({ principal: 'User:bbo' }), ['acls.0.principal']],
      ['an unknown resource type', native({ resourceType: 'TOPICS' }), ['acls.0.resourceType']],
      ['a lower-case operation', native({ operation: 'read' }), ['acls.0.operation']],
      ['an unknown pattern type', native({ patternType: 'MATCH' }), ['acls.0.patternType']],
      ['a missing permission type', native({ permissionType: '' }), ['acls.0.permissionType']],
      ['a host name instead of an address', native({ host: 'db.example.com' }), ['acls.0.host']],
      [
        'a CLUSTER rule on another name',
        native({ resourceType: 'CLUSTER', resourceName: 'prod' }),
        ['acls.0.resourceName'],
      ],
      ['an empty resource name', native({ resourceName: '""' }), ['acls.0.resourceName']],
      [
        'several problems at once, in order',
        `serviceUsers: [alice, 7]
acls:
  - {username: alice, topic: x, permission: rw}
  - {username: alice, topic: y, permission: read}
  - {principal: "User:alice", resourceType: TOPIC, resourceName: z, operation: WRIT, permissionType: MAYBE}
`,
        ['serviceUsers.1', 'acls.0.permission', 'acls.2.operation', 'acls.2.permissionType'],
      ],
    ];
    for (const [name, source, paths] of invalid) {
      it(name, () => {
        assert.deepEqual(problemPaths(source), paths);
      });
    }
  });

  describe('readAclFile', () => {
    it('reads and parses a file from disk', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tollgate-acl-'));
      try {
        const path = join(dir, 'acl.yaml');
        writeFileSync(path, GOOD);
        const result = await readAclFile(path);
        assert.ok(result.ok);
        assert.equal(result.file.acls.length, 3);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('turns a missing file into a problem naming the path', async () => {
      const result = await readAclFile('/nonexistent/tollgate/acl.yaml');
      assert.deepEqual(result, {
        ok: false,
        problems: ['/nonexistent/tollgate/acl.yaml: cannot read (ENOENT)'],
      });
    });
  });
});
