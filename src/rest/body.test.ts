import assert from 'node:assert/strict';
import { CODE_INFO, ServiceError } from '../errors.ts';
import { MAX_JSON_DEPTH, nestsDeeperThan, parseJsonObject } from './body.ts';

const nested = (depth: number) => `{"v":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;

describe('request body text', () => {
  it('reads ASCII and UTF-8 bodies alike, and refuses bytes that are not UTF-8', () => {
    assert.deepEqual(parseJsonObject(Buffer.from('{"value":"YWJj"}')), { value: 'YWJj' });
    assert.deepEqual(parseJsonObject(Buffer.from('{"value":{"name":"Zoë ✓ 🚀"}}')), {
      value: { name: 'Zoë ✓ 🚀' },
    });
    const latin1 = Buffer.from('{"value":"Zo\xeb"}', 'latin1');
    assert.throws(
      () => parseJsonObject(latin1),
      (e: ServiceError) => e.code === 'REQUEST_INVALID' && /UTF-8/.test(e.message),
    );
  });
});

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

  it('ends a string at a quote after an even run of backslashes, and counts what follows', () => {
    // "a\\\\" is the string a\\ (two escaped backslashes): the quote after them closes it.
    const closed = `{"v":"a\\\\\\\\","w":${'['.repeat(3)}${']'.repeat(3)}}`;
    assert.equal(JSON.parse(closed).v, 'a\\\\');
    assert.equal(nestsDeeperThan(Buffer.from(closed), 3), true);
    assert.equal(nestsDeeperThan(Buffer.from(closed), 4), false);
    // An odd run escapes the quote: the brackets after it are still inside the string.
    const open = `{"v":"a\\\\\\\\\\"${'['.repeat(10)}"}`;
    assert.equal(nestsDeeperThan(Buffer.from(open), 2), false);
  });

  it('agrees with a byte-by-byte walk on varied bodies', () => {
    const walk = (text: string, max: number) => {
      let depth = 0;
      let inString = false;
      for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (inString) {
          if (c === '\\') i++;
          else if (c === '"') inString = false;
        } else if (c === '"') inString = true;
        else if (c === '{' || c === '[') {
          if (++depth > max) return true;
        } else if (c === '}' || c === ']') depth--;
      }
      return false;
    };
    const pieces = ['{', '[', ']', '}', '"', '\\', 'x', ',', ':'];
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed;
    };
    for (let n = 0; n < 2000; n++) {
      let text = '';
      for (let k = next() % 40; k > 0; k--) text += pieces[next() % pieces.length];
      for (const max of [0, 1, 2, 3]) {
        assert.equal(
          nestsDeeperThan(Buffer.from(text), max),
          walk(text, max),
          `${JSON.stringify(text)} max ${max}`,
        );
      }
    }
  });
});
