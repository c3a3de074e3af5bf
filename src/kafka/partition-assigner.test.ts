import assert from 'node:assert/strict';
import { decodeRequest, encodeRequest, type MemberRequest, planAssignment } from './partition-assigner.ts';

const partitions = new Map([
  ['a', [0, 1, 2]],
  ['b', [0, 1]],
]);

const plain = (plan: ReturnType<typeof planAssignment>) =>
  Object.fromEntries([...plan].map(([member, assignment]) => [member, { ...assignment }]));

describe('partition-assigner', () => {
  describe('planAssignment', () => {
    const cases: Array<[string, MemberRequest[], Record<string, Record<string, number[]>>]> = [
      [
        'gives a manual member exactly the partitions it asked for',
        [{ memberId: 'm1', topics: ['a'], manual: [{ topic: 'a', partition: 2 }] }],
        { m1: { a: [2] } },
      ],
      [
        'gives two manual members the same partition when both ask for it',
        [
          { memberId: 'm1', topics: ['a'], manual: [{ topic: 'a', partition: 0 }] },
          { memberId: 'm2', topics: ['a'], manual: [{ topic: 'a', partition: 0 }] },
        ],
        { m1: { a: [0] }, m2: { a: [0] } },
      ],
      [
        'shares all partitions round robin among subscribers alone',
        [
          { memberId: 's2', topics: ['a', 'b'], manual: null },
          { memberId: 's1', topics: ['a', 'b'], manual: null },
        ],
        { s1: { a: [0, 2], b: [1] }, s2: { a: [1], b: [0] } },
      ],
      [
        'gives subscribers only the partitions no manual member holds',
        [
          { memberId: 'm', topics: ['a'], manual: [{ topic: 'a', partition: 1 }] },
          { memberId: 's', topics: ['a'], manual: null },
        ],
        { m: { a: [1] }, s: { a: [0, 2] } },
      ],
      [
        'gives a subscriber only topics it subscribed to',
        [
          { memberId: 's1', topics: ['a'], manual: null },
          { memberId: 's2', topics: ['b'], manual: null },
        ],
        { s1: { a: [0, 1, 2] }, s2: { b: [0, 1] } },
      ],
      [
        'leaves a member with nothing when nothing is left',
        [
          {
            memberId: 'm',
            topics: ['b'],
            manual: [
              { topic: 'b', partition: 0 },
              { topic: 'b', partition: 1 },
            ],
          },
          { memberId: 's', topics: ['b'], manual: null },
        ],
        { m: { b: [0, 1] }, s: {} },
      ],
      [
        'sorts and de-duplicates manual partitions',
        [
          {
            memberId: 'm',
            topics: ['a'],
            manual: [
              { topic: 'a', partition: 2 },
              { topic: 'a', partition: 0 },
              { topic: 'a', partition: 2 },
            ],
          },
        ],
        { m: { a: [0, 2] } },
      ],
    ];
    for (const [name, members, expected] of cases) {
      it(name, () => {
        assert.deepEqual(plain(planAssignment(members, partitions)), expected);
      });
    }
  });

  describe('member userData', () => {
    it('round-trips a manual request', () => {
      const manual = [
        { topic: 'orders.eu', partition: 0 },
        { topic: 'orders.us', partition: 2 },
      ];
      assert.deepEqual(decodeRequest(encodeRequest(manual)), manual);
    });

    it('reads a subscriber as no manual request', () => {
      assert.equal(decodeRequest(encodeRequest(null)), null);
    });

    it('reads empty, foreign or broken userData as a subscriber', () => {
      assert.equal(decodeRequest(Buffer.alloc(0)), null);
      assert.equal(decodeRequest(null), null);
      assert.equal(decodeRequest(Buffer.from([0, 1, 2])), null);
      assert.equal(decodeRequest(Buffer.from('{"manual":"x"}')), null);
    });

    it('skips malformed entries of a manual request', () => {
      assert.deepEqual(decodeRequest(Buffer.from('{"manual":[["a",1],["b","x"],[3,1]]}')), [
        { topic: 'a', partition: 1 },
      ]);
    });
  });
});
