import assert from 'node:assert/strict';
import {
  compileClaimPath,
  hasRequiredScopes,
  isAccessToken,
  isIssuedInFuture,
  readPrincipal,
} from './claim-rules.ts';

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

// Issue 11: one rule for Keycloak, Entra ID, Okta, Auth0 and Google (docs/identity-providers.md).
describe('isAccessToken', () => {
  const cases: Array<
    [name: string, header: Record<string, unknown>, claims: Record<string, unknown>, expected: boolean]
  > = [
    ['Keycloak access token', { typ: 'JWT' }, { typ: 'Bearer', azp: 'alice' }, true],
    ['Keycloak access token with the RFC 9068 header type', { typ: 'at+jwt' }, { typ: 'Bearer' }, true],
    ['Keycloak ID token', { typ: 'JWT' }, { typ: 'ID', azp: 'alice', at_hash: 'x' }, false],
    ['Keycloak refresh token', { typ: 'JWT' }, { typ: 'Refresh' }, false],
    ['Entra ID access token', { typ: 'JWT' }, { ver: '2.0', azp: 'app', roles: ['Kafka.Write'] }, true],
    ['Entra ID ID token with a nonce', { typ: 'JWT' }, { ver: '2.0', nonce: 'n' }, false],
    ['Okta access token (no typ)', {}, { cid: 'client', scp: ['kafka'] }, true],
    ['Okta ID token with at_hash', {}, { at_hash: 'x', amr: ['pwd'] }, false],
    ['Auth0 access token', { typ: 'at+jwt' }, { gty: 'client-credentials', azp: 'client' }, true],
    ['an RFC 9068 media type', { typ: 'application/at+jwt' }, {}, true],
    ['a logout token', { typ: 'logout+jwt' }, {}, false],
    ['an explicit ID token header type', { typ: 'id_token+jwt' }, {}, false],
    ['a non-string header typ', { typ: 1 }, {}, false],
    ['a non-string payload typ', {}, { typ: ['Bearer'] }, false],
  ];
  for (const [name, header, claims, expected] of cases) {
    it(`${expected ? 'accepts' : 'refuses'} a ${name}`, () =>
      assert.equal(isAccessToken(header, claims), expected));
  }
});
