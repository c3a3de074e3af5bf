import assert from 'node:assert/strict';
import { canonicalJson, hasControlByte, writeCanonicalJson } from './canonical-json.ts';
import { sortKeysDeep } from './respond.ts';

/** What the records answer wrote for a json value before canonical-json.ts: parse, sort, stringify. */
function parsedAndStringified(text: Buffer): string | null {
  try {
    return JSON.stringify(sortKeysDeep(JSON.parse(text.toString('utf8'))));
  } catch {
    return null;
  }
}

/** Asserts the promise: either the very text parse-and-stringify gives, or null. */
function assertSameOrDeclined(text: Buffer, name: string): Buffer | null {
  const out = canonicalJson(text);
  if (out !== null) assert.equal(out.toString('utf8'), parsedAndStringified(text), name);
  return out;
}

const utf8 = (text: string) => Buffer.from(text, 'utf8');

describe('canonicalJson', () => {
  const written: Array<[string, string, string]> = [
    ['sorts object keys', '{"seq":0,"region":"eu","payload":"x"}', '{"payload":"x","region":"eu","seq":0}'],
    [
      'sorts nested objects, keeps array order',
      '{"b":[{"z":1,"y":2}],"a":{}}',
      '{"a":{},"b":[{"y":2,"z":1}]}',
    ],
    ['drops whitespace between tokens', ' {\n\t"b" : 1 ,\r\n "a" : [ 1 , 2 ] } ', '{"a":[1,2],"b":1}'],
    ['keeps whitespace inside strings', '{"a":"x y\\tz"}', '{"a":"x y\\tz"}'],
    ['keeps the short escapes', '"\\"\\\\\\b\\f\\n\\r\\t"', '"\\"\\\\\\b\\f\\n\\r\\t"'],
    ['copies non-ASCII text as it is', '{"a":"✓ 日本 😀 \u2028"}', '{"a":"✓ 日本 😀 \u2028"}'],
    [
      'takes numbers already in shortest form',
      '[0,-1,12.5,0.1,1e+21,1.5e-7,123456789012345]',
      '[0,-1,12.5,0.1,1e+21,1.5e-7,123456789012345]',
    ],
    ['takes the literals and scalars', '[true,false,null,"",{}]', '[true,false,null,"",{}]'],
    [
      'orders keys by code unit, shorter first',
      '{"ab":1,"a":2,"B":3,"_":4,"":5}',
      '{"":5,"B":3,"_":4,"a":2,"ab":1}',
    ],
  ];
  for (const [name, input, expected] of written) {
    it(`${name}`, () => {
      const out = assertSameOrDeclined(utf8(input), name);
      assert.equal(out?.toString('utf8'), expected);
    });
  }

  // Each of these would read back differently, or not at all: the caller must parse.
  const declined: Array<[string, string]> = [
    ['a \\u escape', '"\\u0041"'],
    ['an escaped slash', '"a\\/b"'],
    ['a trailing zero', '1.50'],
    ['an exponent JavaScript writes out', '1e3'],
    ['negative zero', '-0'],
    ['an integer beyond double precision', '9007199254740993'],
    ['a non-ASCII key', '{"ü":1}'],
    ['an escaped key', '{"a\\n":1}'],
    ['all-digit keys (objects list them first)', '{"10":1,"9":2}'],
    ['a __proto__ key', '{"__proto__":{"x":1}}'],
    ['duplicate keys', '{"a":1,"b":2,"a":3}'],
    ['invalid JSON', '{"a":1,}'],
    ['trailing garbage', '{"a":1} x'],
    ['a raw control character in a string', '"a\u0001b"'],
    ['a raw newline in a string', '"a\nb"'],
    ['an unterminated string', '"abc'],
    ['a leading zero', '01'],
    ['a byte-order mark', '\ufeff{}'],
    ['nothing', ''],
    ['nesting deeper than the limit', `${'['.repeat(65)}${']'.repeat(65)}`],
  ];
  for (const [name, input] of declined) {
    it(`declines ${name}`, () => {
      assert.equal(canonicalJson(utf8(input)), null);
    });
  }

  it('declines bytes that are not UTF-8', () => {
    assert.equal(canonicalJson(Buffer.from([0x22, 0xff, 0x22])), null);
    assert.equal(canonicalJson(Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22])), null);
  });

  it('matches parse-and-stringify on random JSON, written in random key order and spacing', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
    const strings = [
      '',
      'a',
      'eu',
      'x y',
      'é',
      '日本',
      '😀',
      'q"uote',
      'back\\slash',
      'tab\t',
      'nl\n',
      '\u0007',
      '/',
    ];
    const keys = ['a', 'b', 'ab', 'B', '_', 'seq', 'payload', '', 'z9', '1', '__proto__', 'ü', 'k\n'];
    const numbers = [0, -1, 7, 12.5, -0.25, 1e21, 1.5e-7, 2 ** 53 + 2, 123456789];
    const value = (depth: number): unknown => {
      const kind = depth > 3 ? Math.floor(random() * 4) : Math.floor(random() * 6);
      if (kind === 0) return pick(strings);
      if (kind === 1) return pick(numbers);
      if (kind === 2) return pick([true, false, null]);
      if (kind === 3) return pick(strings).repeat(Math.floor(random() * 40));
      if (kind === 4) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
      const members = Array.from({ length: Math.floor(random() * 6) }, () => [pick(keys), value(depth + 1)]);
      return Object.fromEntries(members);
    };
    const space = () => pick(['', '', '', ' ', '\n  ']);
    const write = (v: unknown): string => {
      if (Array.isArray(v)) return `[${space()}${v.map(write).join(`,${space()}`)}${space()}]`;
      if (v !== null && typeof v === 'object') {
        const entries = Object.entries(v).sort(() => random() - 0.5);
        return `{${entries.map(([k, x]) => `${space()}${JSON.stringify(k)}${space()}:${space()}${write(x)}`).join(',')}${space()}}`;
      }
      return JSON.stringify(v);
    };
    let taken = 0;
    for (let k = 0; k < 3000; k++) {
      const text = utf8(write(value(0)));
      if (assertSameOrDeclined(text, text.toString()) !== null) taken++;
    }
    // Most random values have something the copy declines; a good share must still be copied.
    assert.ok(taken > 600, `only ${taken} of 3000 written from their bytes`);
  });

  it('writes at an offset into a larger buffer and reports where it ended', () => {
    const out = Buffer.alloc(64, 0x2e);
    const end = writeCanonicalJson(utf8('{ "b":1, "a":2 }'), out, 5);
    assert.equal(out.toString('latin1', 0, end + 1), '.....{"a":2,"b":1}.');
  });
});

describe('hasControlByte', () => {
  it('finds a byte below 0x20 at any position and of any value, and nothing else', () => {
    for (let length = 0; length < 12; length++) {
      for (let at = 0; at < length; at++) {
        for (const byte of [0x00, 0x09, 0x0a, 0x1f, 0x20, 0x7f, 0x80, 0x9f, 0xa0, 0xff]) {
          const bytes = Buffer.alloc(length, 0x61);
          bytes[at] = byte;
          assert.equal(hasControlByte(bytes), byte < 0x20, `byte ${byte} at ${at} of ${length}`);
        }
      }
    }
  });

  it('reads a Buffer that starts inside its ArrayBuffer (as kafkajs slices records)', () => {
    const pool = Buffer.from('xxx\u0001abcdefgh', 'latin1');
    assert.equal(hasControlByte(pool.subarray(4)), false);
    assert.equal(hasControlByte(pool.subarray(3)), true);
    assert.equal(hasControlByte(pool.subarray(1, 4)), true);
  });
});
