import assert from 'node:assert/strict';
import { createPrincipalReader, readPrincipal } from './principal-mapping.ts';

const CLAIMS: Record<string, unknown> = {
  sub: 'svc-orders',
  client_id: 'orders-app',
  empty: '',
  number: 42,
  list: ['a'],
  object: { a: 'b' },
  nothing: null,
  realm_access: { username: 'alice', roles: ['x'], nested: { deeper: 'bob' }, blank: '' },
  'https://example.com/user': 'carol',
  'a.b': 'literal wins',
  a: { b: 'walked' },
};

describe('principal-mapping', () => {
  const cases: Array<[string, string, string | null]> = [
    ['the default sub claim', 'sub', 'svc-orders'],
    ['another top-level claim', 'client_id', 'orders-app'],
    ['a dotted path into a nested object', 'realm_access.username', 'alice'],
    ['a deeper dotted path', 'realm_access.nested.deeper', 'bob'],
    ['a claim whose own name holds dots (namespaced claims)', 'https://example.com/user', 'carol'],
    ['a literal dotted claim before walking the dots', 'a.b', 'literal wins'],
    ['a missing claim', 'email', null],
    ['an empty string', 'empty', null],
    ['an empty nested string', 'realm_access.blank', null],
    ['a number', 'number', null],
    ['an array', 'list', null],
    ['an object', 'object', null],
    ['null', 'nothing', null],
    ['a path through an array', 'realm_access.roles.0', null],
    ['a path through a string', 'sub.length', null],
    ['a path past the end', 'realm_access.username.more', null],
    ['an inherited property on the claims', 'constructor', null],
    ['an inherited property on a nested object', 'realm_access.constructor.name', null],
    ['the prototype accessor', '__proto__', null],
  ];
  for (const [name, path, expected] of cases) {
    it(`reads ${name}`, () => {
      assert.equal(createPrincipalReader(path)(CLAIMS), expected);
      assert.equal(readPrincipal(CLAIMS, path), expected);
    });
  }

  it('reuses one reader across claim sets', () => {
    const read = createPrincipalReader('realm_access.username');
    assert.equal(read({ realm_access: { username: 'x' } }), 'x');
    assert.equal(read({ realm_access: 'flat' }), null);
    assert.equal(read({}), null);
  });

  const badPaths = ['', '.sub', 'sub.', 'realm_access..username'];
  for (const path of badPaths) {
    it(`refuses the path ${JSON.stringify(path)} when the reader is built`, () => {
      assert.throws(() => createPrincipalReader(path));
    });
  }
});
