import assert from 'node:assert/strict';
import { compileClaimPath, hasRequiredScopes, isIssuedInFuture, readPrincipal } from './claim-rules.ts';

describe('readPrincipal', () => {
  const cases: Array<
    [name: string, path: string, claims: Record<string, unknown>, principal: string | undefined]
  > = [
    ['reads a top-level string claim', 'sub', { sub: 'alice' }, 'alice'],
    ['walks a dotted path', 'realm_access.username', { realm_access: { username: 'bob' } }, 'bob'],
    ['walks a deep dotted path', 'a.b.c', { a: { b: { c: 'carol' } } }, 'carol'],
    [
      'prefers a top-level claim whose name contains dots',
      'https://example.com/user',
      { 'https://example.com/user': 'dave' },
      'dave',
    ],
    ['refuses a missing claim', 'sub', { client_id: 'x' }, undefined],
    ['refuses an empty string', 'sub', { sub: '' }, undefined],
    ['refuses a number', 'sub', { sub: 42 }, undefined],
    ['refuses an array', 'sub', { sub: ['alice'] }, undefined],
    ['refuses an object', 'sub', { sub: { name: 'alice' } }, undefined],
    ['refuses null', 'sub', { sub: null }, undefined],
    ['refuses a path through a string', 'realm_access.username', { realm_access: 'bob' }, undefined],
    ['refuses a path through an array', 'groups.0', { groups: ['admins'] }, undefined],
    ['refuses a missing nested claim', 'realm_access.username', { realm_access: {} }, undefined],
    ['never resolves through the prototype', 'constructor.name', { sub: 'x' }, undefined],
    ['never resolves __proto__', '__proto__.x', JSON.parse('{"sub":"x"}'), undefined],
  ];
  for (const [name, path, claims, principal] of cases) {
    it(name, () => {
      assert.equal(readPrincipal(claims, compileClaimPath(path)), principal);
    });
  }
});

describe('hasRequiredScopes', () => {
  const cases: Array<[name: string, claims: Record<string, unknown>, required: string[], expected: boolean]> =
    [
      ['passes when nothing is required', {}, [], true],
      ['reads a space-separated scope claim', { scope: 'openid kafka:rest profile' }, ['kafka:rest'], true],
      ['reads an scp array', { scp: ['kafka:rest', 'x'] }, ['kafka:rest'], true],
      ['reads an Azure-style scp string', { scp: 'kafka:rest x' }, ['kafka:rest'], true],
      ['merges scope and scp', { scope: 'a', scp: ['b'] }, ['a', 'b'], true],
      ['needs every required scope', { scope: 'a' }, ['a', 'b'], false],
      ['refuses a missing scope claim', { sub: 'x' }, ['a'], false],
      ['does not match substrings', { scope: 'kafka:rest-admin' }, ['kafka:rest'], false],
      ['ignores non-string scp members', { scp: [1, null] }, ['1'], false],
      ['ignores a numeric scope claim', { scope: 1 }, ['1'], false],
    ];
  for (const [name, claims, required, expected] of cases) {
    it(name, () => {
      assert.equal(hasRequiredScopes(claims, required), expected);
    });
  }
});

describe('isIssuedInFuture', () => {
  it('allows iat within the clock skew', () => {
    assert.equal(isIssuedInFuture({ iat: 1030 }, 1000, 30), false);
  });

  it('flags iat beyond the clock skew', () => {
    assert.equal(isIssuedInFuture({ iat: 1031 }, 1000, 30), true);
  });

  it('leaves a missing iat alone', () => {
    assert.equal(isIssuedInFuture({}, 1000, 30), false);
  });
});
