import assert from 'node:assert/strict';
import { compileGlob, literalPattern, matchesName, type NamePattern, prefixPattern } from './name-pattern.ts';

describe('name-pattern', () => {
  describe('compileGlob', () => {
    const shapes: Array<[string, string, NamePattern['kind']]> = [
      ['a name without wildcards is exact', 'orders', 'exact'],
      ['a lone star is every name', '*', 'any'],
      ['one trailing star is a prefix', 'orders.*', 'prefix'],
      ['a star in the middle needs a RegExp', 'orders.*.eu', 'regexp'],
      ['a question mark needs a RegExp', 'orders.?', 'regexp'],
      ['a question mark before a trailing star needs a RegExp', 'o?ders*', 'regexp'],
    ];
    for (const [name, glob, kind] of shapes) {
      it(`compiles once to a fast shape: ${name}`, () => {
        assert.equal(compileGlob(glob).kind, kind);
      });
    }
  });

  const cases: Array<[string, NamePattern, string, boolean]> = [
    ['exact name matches itself', compileGlob('orders'), 'orders', true],
    ['exact name does not match a longer name', compileGlob('orders'), 'orders.eu', false],
    ['star matches everything', compileGlob('*'), 'anything.at.all', true],
    ['star matches the empty name', compileGlob('*'), '', true],
    ['trailing star matches the prefix itself', compileGlob('orders.*'), 'orders.', true],
    ['trailing star matches dots', compileGlob('orders.*'), 'orders.eu.west', true],
    ['trailing star needs the whole prefix', compileGlob('orders.*'), 'orders', false],
    ['a dot in a glob is literal', compileGlob('orders.?u'), 'ordersXeu', false],
    ['question mark is exactly one character', compileGlob('orders.?u'), 'orders.eu', true],
    ['question mark is not zero characters', compileGlob('orders.?u'), 'orders.u', false],
    ['question mark is not two characters', compileGlob('orders.?u'), 'orders.eeu', false],
    ['question mark is one code point', compileGlob('t?'), 't😀', true],
    ['middle star spans anything', compileGlob('orders.*.eu'), 'orders.a.b.eu', true],
    ['middle star still anchors the end', compileGlob('orders.*.eu'), 'orders.a.eu.x', false],
    ['glob is anchored at the start', compileGlob('?rders'), 'xorders', false],
    ['RegExp syntax in a glob is literal', compileGlob('a+(b)|[c]{1}$^?'), 'a+(b)|[c]{1}$^x', true],
    ['RegExp syntax does not act', compileGlob('a+?'), 'aaa1', false],
    ['a hyphen is literal', compileGlob('team-?'), 'team-a', true],
    ['LITERAL * is every name', literalPattern('*'), 'x', true],
    ['LITERAL is exact', literalPattern('orders'), 'orders2', false],
    ['LITERAL does not treat ? as a wildcard', literalPattern('a?'), 'ab', false],
    ['PREFIXED matches by prefix', prefixPattern('bob-'), 'bob-consumers', true],
    ['PREFIXED matches the prefix itself', prefixPattern('bob-'), 'bob-', true],
    ['PREFIXED does not match other names', prefixPattern('bob-'), 'alice-bob-', false],
    ['PREFIXED * is a literal star prefix', prefixPattern('*'), 'orders', false],
  ];
  for (const [name, pattern, candidate, expected] of cases) {
    it(`matchesName: ${name}`, () => {
      assert.equal(matchesName(pattern, candidate), expected);
    });
  }
});
