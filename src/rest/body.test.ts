import assert from 'node:assert/strict';
import { CODE_INFO, ServiceError } from '../errors.ts';
import { MAX_JSON_DEPTH, nestsDeeperThan, parseJsonObject } from './body.ts';

const nested = (depth: number) => `{"v":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;

describe('request body depth limit', () => {
  it('accepts a body nested exactly to the limit', () => {
    assert.equal(nestsDeeperThan(Buffer.from(nested(MAX_JSON_DEPTH)), MAX_JSON_DEPTH), false);
    assert.doesNotThrow(() => parseJsonObject(Buffer.from(nested(MAX_JSON_DEPTH))));
  });

  it('refuses a value nested 5,000 deep with 400, not a stack overflow', () => {
    // Issue 9: a 10 KB body of this shape was a 500.
    const err = (() => {
      try {
        parseJsonObject(Buffer.from(nested(5000)));
      } catch (e) {
        return e;
      }
      return null;
    })();
    assert.ok(err instanceof ServiceError);
    assert.equal(err.code, 'REQUEST_INVALID');
    assert.equal(CODE_INFO[err.code].http, 400);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    const text = `{"v":"${'['.repeat(200)}\\"${'{'.repeat(200)}"}`;
    assert.equal(nestsDeeperThan(Buffer.from(text), 2), false);
  });
});
