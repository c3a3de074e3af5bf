import assert from 'node:assert/strict';
import { compileAcls } from './acl-compile.ts';
import { parseAclFile } from './acl-file.ts';
import { allowsOperation, authorize, isKnownUser } from './acl-match.ts';
import type { Operation, ResourceRequest, ResourceType } from './acl-types.ts';

// Each rule's index is noted: the tests pin which rule decided.
const FILE = `
superUsers: [admin]
serviceUsers: [alice, bob, carol, dave, erin, frank, grace, heidi, ivan, team-a, team-b, team-ab]
acls:
  - {username: alice, topic: "orders.*", permission: readwrite}                          # 0
  - {principal: "User:alice", resourceType: TOPIC, resourceName: orders.secret,
     operation: READ, permissionType: DENY}                                              # 1
  - {username: bob, topic: "logs.?", permission: read}                                   # 2
  - {username: carol, topic: metrics, permission: write}                                 # 3
  - {username: "team-*", topic: "shared.*", permission: read}                            # 4
  - {username: "team-?", topic: "team.*.in", permission: write}                          # 5
  - {username: dave, topic: "*", permission: admin}                                      # 6
  - {principal: "User:erin", resourceType: GROUP, patternType: PREFIXED, resourceName: erin-,
     operation: READ, permissionType: ALLOW}                                             # 7
  - {principal: "User:erin", resourceType: TOPIC, resourceName: "*",
     operation: WRITE, permissionType: ALLOW}                                            # 8
  - {principal: "User:erin", resourceType: TOPIC, resourceName: blocked,
     operation: ALL, permissionType: DENY}                                               # 9
  - {principal: "User:frank", resourceType: TOPIC, resourceName: cfg,
     operation: ALTER_CONFIGS, permissionType: ALLOW}                                    # 10
  - {principal: "User:frank", resourceType: TOPIC, resourceName: alt,
     operation: ALTER, permissionType: ALLOW}                                            # 11
  - {principal: "User:frank", resourceType: TOPIC, resourceName: del,
     operation: DELETE, permissionType: ALLOW}                                           # 12
  - {principal: "User:frank", resourceType: TOPIC, resourceName: r,
     operation: READ, permissionType: ALLOW}                                             # 13
  - {principal: "User:frank", resourceType: TOPIC, resourceName: r,
     operation: READ, permissionType: DENY}                                              # 14
  - {principal: "User:*", resourceType: TOPIC, resourceName: public,
     operation: DESCRIBE, permissionType: ALLOW}                                         # 15
  - {principal: "User:*", resourceType: TOPIC, patternType: PREFIXED, resourceName: frozen.,
     operation: WRITE, permissionType: DENY}                                             # 16
  - {principal: "User:grace", resourceType: CLUSTER, resourceName: kafka-cluster,
     operation: ALL, permissionType: ALLOW}                                              # 17
  - {principal: "User:grace", resourceType: TOPIC, resourceName: local,
     operation: READ, permissionType: ALLOW, host: "10.0.0.1"}                           # 18
  - {principal: "User:heidi", resourceType: TOPIC, resourceName: hot,
     operation: READ, permissionType: ALLOW}                                             # 19
  - {principal: "User:heidi", resourceType: TOPIC, resourceName: hot,
     operation: READ, permissionType: DENY, host: "10.0.0.9"}                            # 20
  - {principal: "User:grace", resourceType: TRANSACTIONAL_ID, patternType: PREFIXED,
     resourceName: tx-, operation: WRITE, permissionType: ALLOW}                         # 21
`;

function load(source: string) {
  const parsed = parseAclFile(source);
  if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
  return compileAcls(parsed.file);
}

const ACLS = load(FILE);

function topic(name: string, operation: Operation): ResourceRequest {
  return { resourceType: 'TOPIC', name, operation };
}

type Outcome = 'ALLOW' | 'USER_UNKNOWN' | 'ACL_DENIED';

/**
 * [name, user, requests ("TYPE name OPERATION", `;` between several), outcome, deciding rule, host?]
 * The deciding rule: for ALLOW the rule index that allowed the last request; for ACL_DENIED the
 * DENY rule index, or null when no ALLOW matched; '-' for USER_UNKNOWN and super users.
 */
type Row = readonly [string, string, string, Outcome, number | null | '-', string?];

const ROWS: readonly Row[] = [
  // Service users and super users.
  ['an unlisted user is unknown', 'mallory', 'TOPIC orders.eu READ', 'USER_UNKNOWN', '-'],
  ['an unlisted user is unknown even when nothing is required', 'mallory', '', 'USER_UNKNOWN', '-'],
  ['user names are case-sensitive', 'Alice', '', 'USER_UNKNOWN', '-'],
  ['a known user needs nothing more when nothing is required', 'ivan', '', 'ALLOW', '-'],
  ['a super user passes any check', 'admin', 'TOPIC x DELETE; CLUSTER kafka-cluster ALTER', 'ALLOW', '-'],
  ['a super user passes even a User:* DENY', 'admin', 'TOPIC frozen.x WRITE', 'ALLOW', '-'],
  ['a known user without rules is denied: no match', 'ivan', 'TOPIC public2 READ', 'ACL_DENIED', null],

  // Aiven style.
  ['Aiven readwrite allows reading a matching topic', 'alice', 'TOPIC orders.eu READ', 'ALLOW', 0],
  ['Aiven readwrite allows producing to a matching topic', 'alice', 'TOPIC orders.eu WRITE', 'ALLOW', 0],
  ['Aiven readwrite allows describing configs', 'alice', 'TOPIC orders.eu DESCRIBE_CONFIGS', 'ALLOW', 0],
  [
    'Aiven readwrite does not allow deleting the topic',
    'alice',
    'TOPIC orders.eu DELETE',
    'ACL_DENIED',
    null,
  ],
  ['Aiven readwrite does not reach other topics', 'alice', 'TOPIC payments READ', 'ACL_DENIED', null],
  ['Aiven topic glob needs its whole prefix', 'alice', 'TOPIC orders READ', 'ACL_DENIED', null],
  ['Aiven read allows any consumer group', 'bob', 'GROUP anything READ', 'ALLOW', 2],
  ['Aiven read allows describing the cluster', 'bob', 'CLUSTER kafka-cluster DESCRIBE', 'ALLOW', 2],
  ['Aiven read does not allow producing', 'bob', 'TOPIC logs.a WRITE', 'ACL_DENIED', null],
  ['Aiven ? matches exactly one character', 'bob', 'TOPIC logs.a READ', 'ALLOW', 2],
  ['Aiven ? does not match two characters', 'bob', 'TOPIC logs.ab READ', 'ACL_DENIED', null],
  ['Aiven write allows producing', 'carol', 'TOPIC metrics WRITE', 'ALLOW', 3],
  ['Aiven write allows idempotent produce', 'carol', 'CLUSTER kafka-cluster IDEMPOTENT_WRITE', 'ALLOW', 3],
  ['Aiven write does not allow consuming', 'carol', 'TOPIC metrics READ', 'ACL_DENIED', null],
  ['Aiven write grants no consumer group', 'carol', 'GROUP g READ', 'ACL_DENIED', null],
  ['Aiven username * glob reaches matching users', 'team-ab', 'TOPIC shared.x READ', 'ALLOW', 4],
  ['Aiven username ? glob reaches one-character suffixes', 'team-a', 'TOPIC team.a.in WRITE', 'ALLOW', 5],
  ['Aiven username ? glob skips longer names', 'team-ab', 'TOPIC team.a.in WRITE', 'ACL_DENIED', null],
  [
    'Aiven middle-star topic glob must match to the end',
    'team-a',
    'TOPIC team.a.in.x WRITE',
    'ACL_DENIED',
    null,
  ],
  ['Aiven admin allows creating a topic', 'dave', 'TOPIC new CREATE', 'ALLOW', 6],
  ['Aiven admin allows altering configs', 'dave', 'TOPIC new ALTER_CONFIGS', 'ALLOW', 6],
  ['Aiven admin allows deleting a group', 'dave', 'GROUP g DELETE', 'ALLOW', 6],
  ['Aiven admin does not grant CLUSTER CREATE', 'dave', 'CLUSTER kafka-cluster CREATE', 'ACL_DENIED', null],
  ['Aiven admin does not grant CLUSTER ALTER', 'dave', 'CLUSTER kafka-cluster ALTER', 'ACL_DENIED', null],

  // DENY beats ALLOW.
  ['a native DENY overrides an Aiven ALLOW', 'alice', 'TOPIC orders.secret READ', 'ACL_DENIED', 1],
  ['a DENY on READ leaves WRITE alone', 'alice', 'TOPIC orders.secret WRITE', 'ALLOW', 0],
  ['a DENY on READ does not deny the implied DESCRIBE', 'frank', 'TOPIC r DESCRIBE', 'ALLOW', 13],
  ['a DENY beats an ALLOW on the same name', 'frank', 'TOPIC r READ', 'ACL_DENIED', 14],
  ['a DENY ALL denies every operation', 'erin', 'TOPIC blocked DESCRIBE', 'ACL_DENIED', 9],
  ['a DENY ALL beats a LITERAL * ALLOW', 'erin', 'TOPIC blocked WRITE', 'ACL_DENIED', 9],
  ['a User:* PREFIXED DENY beats an admin ALLOW', 'dave', 'TOPIC frozen.a WRITE', 'ACL_DENIED', 16],
  ['a User:* PREFIXED DENY leaves other names alone', 'dave', 'TOPIC frozenx WRITE', 'ALLOW', 6],

  // Kafka-native matching.
  ['PREFIXED matches by prefix', 'erin', 'GROUP erin-app READ', 'ALLOW', 7],
  ['PREFIXED does not match other names', 'erin', 'GROUP app-erin- READ', 'ACL_DENIED', null],
  ['LITERAL * matches every name', 'erin', 'TOPIC any.topic WRITE', 'ALLOW', 8],
  ['a rule on one resource type does not grant another', 'erin', 'GROUP any.topic WRITE', 'ACL_DENIED', null],
  ['User:* reaches every known user', 'ivan', 'TOPIC public DESCRIBE', 'ALLOW', 15],
  [
    'ALL on the cluster allows any cluster operation',
    'grace',
    'CLUSTER kafka-cluster CLUSTER_ACTION',
    'ALLOW',
    17,
  ],
  ['transactional ids are matched like other resources', 'grace', 'TRANSACTIONAL_ID tx-1 WRITE', 'ALLOW', 21],

  // Implied operations.
  ['READ implies DESCRIBE', 'bob', 'TOPIC logs.a DESCRIBE', 'ALLOW', 2],
  ['ALTER implies DESCRIBE', 'frank', 'TOPIC alt DESCRIBE', 'ALLOW', 11],
  ['DELETE implies DESCRIBE', 'frank', 'TOPIC del DESCRIBE', 'ALLOW', 12],
  ['ALTER_CONFIGS implies DESCRIBE_CONFIGS', 'frank', 'TOPIC cfg DESCRIBE_CONFIGS', 'ALLOW', 10],
  ['ALTER_CONFIGS does not imply DESCRIBE', 'frank', 'TOPIC cfg DESCRIBE', 'ACL_DENIED', null],
  ['DESCRIBE implies nothing else', 'ivan', 'TOPIC public READ', 'ACL_DENIED', null],

  // Hosts.
  ['a host-bound ALLOW matches its host', 'grace', 'TOPIC local READ', 'ALLOW', 18, '10.0.0.1'],
  [
    'a host-bound ALLOW does not match another host',
    'grace',
    'TOPIC local READ',
    'ACL_DENIED',
    null,
    '10.0.0.2',
  ],
  ['a host-bound ALLOW does not match an unknown host', 'grace', 'TOPIC local READ', 'ACL_DENIED', null],
  ['a host-bound DENY matches its host', 'heidi', 'TOPIC hot READ', 'ACL_DENIED', 20, '10.0.0.9'],
  ['a host-bound DENY leaves other hosts alone', 'heidi', 'TOPIC hot READ', 'ALLOW', 19, '10.0.0.1'],
  ['a host-bound DENY applies when the host is unknown', 'heidi', 'TOPIC hot READ', 'ACL_DENIED', 20],

  // Several requests.
  ['every request must be allowed', 'alice', 'GROUP g READ; TOPIC orders.eu READ', 'ALLOW', 0],
  [
    'one denied request denies them all',
    'alice',
    'TOPIC orders.eu READ; TOPIC payments READ',
    'ACL_DENIED',
    null,
  ],
  [
    'the first failing request decides',
    'alice',
    'TOPIC orders.eu READ; TOPIC orders.secret READ; TOPIC payments READ',
    'ACL_DENIED',
    1,
  ],
];

function requests(spec: string): ResourceRequest[] {
  if (spec === '') return [];
  return spec.split(';').map((one) => {
    const [resourceType, name, operation] = one.trim().split(' ') as [ResourceType, string, Operation];
    return { resourceType, name, operation };
  });
}

describe('acl-match', () => {
  describe('authorize', () => {
    for (const [name, user, spec, outcome, rule, host] of ROWS) {
      it(name, () => {
        const decision = authorize(ACLS, user, requests(spec), host);
        if (decision.allow) {
          assert.equal(outcome, 'ALLOW');
          if (rule !== '-') assert.equal(decision.matched.at(-1)?.index, rule);
        } else {
          assert.equal(decision.code, outcome, decision.reason);
          if (decision.code === 'ACL_DENIED') assert.equal(decision.matched?.index ?? null, rule);
        }
      });
    }

    it('names the failing request, and the rule that denied it', () => {
      const decision = authorize(ACLS, 'alice', [topic('orders.eu', 'READ'), topic('orders.secret', 'READ')]);
      assert.ok(!decision.allow && decision.code === 'ACL_DENIED');
      assert.deepEqual(decision.denied, topic('orders.secret', 'READ'));
      assert.equal(decision.matched?.source, 'acls');
      assert.match(decision.matched?.description ?? '', /^acls\.1: /);
    });

    it('points a super user at their superUsers entry', () => {
      const decision = authorize(ACLS, 'admin', [topic('x', 'READ')]);
      assert.ok(decision.allow);
      assert.deepEqual(
        decision.matched.map((ref) => [ref.source, ref.index]),
        [['superUsers', 0]],
      );
    });

    it('gives an unknown user no denied request and no rule', () => {
      const decision = authorize(ACLS, 'mallory', [topic('x', 'READ')]);
      assert.ok(!decision.allow && decision.code === 'USER_UNKNOWN');
      assert.equal(decision.denied, null);
      assert.equal(decision.matched, null);
    });
  });

  describe('an empty file', () => {
    const empty = load('');
    it('knows nobody', () => {
      const decision = authorize(empty, 'alice', []);
      assert.ok(!decision.allow);
      assert.equal(decision.code, 'USER_UNKNOWN');
    });
  });

  describe('a file of service users without rules', () => {
    const bare = load('serviceUsers: [alice]\n');
    it('denies every operation for lack of a matching ALLOW', () => {
      const decision = authorize(bare, 'alice', [topic('t', 'DESCRIBE')]);
      assert.ok(!decision.allow);
      assert.equal(decision.code, 'ACL_DENIED');
    });
  });

  describe('isKnownUser', () => {
    const rows: Array<[string, string, boolean]> = [
      ['a service user', 'bob', true],
      ['a super user', 'admin', true],
      ['a stranger', 'mallory', false],
      ['the empty name', '', false],
      ['a name that only a glob would match', 'team-zz', false],
    ];
    for (const [name, user, known] of rows) {
      it(`answers ${known} for ${name}`, () => {
        assert.equal(isKnownUser(ACLS, user), known);
      });
    }
  });

  describe('allowsOperation', () => {
    for (const [name, user, spec, outcome, , host] of ROWS) {
      const [request, more] = requests(spec);
      if (request === undefined || more !== undefined) continue;
      it(`agrees with authorize: ${name}`, () => {
        assert.equal(allowsOperation(ACLS, user, request, host), outcome === 'ALLOW');
      });
    }
  });
});
