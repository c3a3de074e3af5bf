import assert from 'node:assert/strict';
import { isLegalTopicName } from './topic-name.ts';

describe('isLegalTopicName', () => {
  const cases: Array<[string, string, boolean]> = [
    ['a dotted name', 'orders.eu', true],
    ['every legal character', 'aZ09._-', true],
    ['249 characters', 'x'.repeat(249), true],
    ['250 characters', 'x'.repeat(250), false],
    ['empty', '', false],
    ['a single dot', '.', false],
    ['two dots', '..', false],
    ['three dots', '...', true],
    ['non-ASCII letters', 'orders.é☃', false],
    ['a slash', 'a/b', false],
    ['a NUL', 'a\u0000b', false],
    ['a space', 'a b', false],
    ['a trailing newline', 'orders\n', false],
  ];
  for (const [name, topic, legal] of cases) {
    it(`${legal ? 'accepts' : 'refuses'} ${name}`, () => assert.equal(isLegalTopicName(topic), legal));
  }
});
