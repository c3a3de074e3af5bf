import assert from 'node:assert/strict';
import protoLoader from '@grpc/proto-loader';
import { checkOutcome } from '../../test/support/check-outcome.ts';
import type { CheckOutcome } from '../check/check.ts';
import {
  type CheckResponseSerializer,
  createCheckResponseEncoder,
  toCheckResponse,
} from './check-response.ts';
import { LOADER_OPTIONS } from './grpc-server.ts';

const PRINCIPAL_HEADER = 'x-tollgate-principal';

const definition = protoLoader.loadSync('envoy/service/auth/v3/external_auth.proto', LOADER_OPTIONS);
const check = (definition['envoy.service.auth.v3.Authorization'] as protoLoader.ServiceDefinition).Check!;
const serialize = check.responseSerialize as unknown as CheckResponseSerializer;

const ROWS: readonly [string, CheckOutcome, string | undefined][] = [
  ['an allow with a client address', checkOutcome({ verdict: 'allow', principal: 'alice' }), '10.0.0.7'],
  ['an allow without a client address', checkOutcome({ verdict: 'allow', principal: 'alice' }), undefined],
  ['an allow with an empty client address', checkOutcome({ verdict: 'allow', principal: 'alice' }), ''],
  ['an allow of another principal', checkOutcome({ verdict: 'allow', principal: 'bob' }), '10.0.0.7'],
  ['an allow from another address', checkOutcome({ verdict: 'allow', principal: 'alice' }), '10.0.0.8'],
  ['a public route', checkOutcome({ verdict: 'allow', principal: null }), '10.0.0.7'],
  [
    'an audit-mode pass',
    checkOutcome({ verdict: 'deny', enforced: false, code: 'ACL_DENIED', principal: 'alice' }),
    '10.0.0.7',
  ],
  [
    'an enforced denial',
    checkOutcome({ code: 'ACL_DENIED', principal: 'alice', detail: 'WRITE on t' }),
    '10.0.0.7',
  ],
  ['a denial without a code', checkOutcome({}), undefined],
];

describe('createCheckResponseEncoder', () => {
  it('sends the bytes of toCheckResponse for every kind of outcome, first time and from its cache', () => {
    const encode = createCheckResponseEncoder(serialize, PRINCIPAL_HEADER);
    for (let round = 0; round < 2; round++) {
      for (const [name, outcome, host] of ROWS) {
        const expected = serialize(toCheckResponse(outcome, PRINCIPAL_HEADER, host));
        assert.deepEqual(encode(outcome, host), expected, `${name}, round ${round + 1}`);
      }
    }
  });

  it('encodes an allow once per principal and client address', () => {
    let calls = 0;
    const encode = createCheckResponseEncoder((r) => {
      calls++;
      return serialize(r);
    }, PRINCIPAL_HEADER);
    const alice = checkOutcome({ verdict: 'allow', principal: 'alice' });
    const first = encode(alice, '10.0.0.7');
    assert.equal(encode(alice, '10.0.0.7'), first);
    assert.equal(calls, 1);
    assert.notDeepEqual(encode(alice, '10.0.0.8'), first);
    assert.equal(calls, 2);
  });

  it('never answers a denial with a cached allow of the same principal', () => {
    const encode = createCheckResponseEncoder(serialize, PRINCIPAL_HEADER);
    encode(checkOutcome({ verdict: 'allow', principal: 'alice' }), '10.0.0.7');
    const denied = encode(checkOutcome({ code: 'ACL_DENIED', principal: 'alice' }), '10.0.0.7');
    const decoded = check.responseDeserialize(denied) as { status: { code?: number } };
    assert.equal(decoded.status.code, 7);
  });

  it('adds a hand-off id to an allow, first time and after the same allow was cached', () => {
    const encode = createCheckResponseEncoder(serialize, PRINCIPAL_HEADER);
    const decode = (bytes: Buffer) => check.responseDeserialize(bytes);
    for (let round = 0; round < 2; round++) {
      for (const [name, outcome, host] of ROWS) {
        const id = `id-${round}-${name}`;
        const expected = decode(serialize(toCheckResponse(outcome, PRINCIPAL_HEADER, host, id)));
        assert.deepEqual(decode(encode(outcome, host, id)), expected, `${name}, round ${round + 1}`);
      }
    }
    // Only an allow of a principal carries it; the cached allow is left as it was.
    const alice = checkOutcome({ verdict: 'allow', principal: 'alice' });
    const headers = (bytes: Buffer) =>
      (
        decode(bytes) as { ok_response: { headers: { header: { key: string; value: string } }[] } }
      ).ok_response.headers.map((h) => `${h.header.key}=${h.header.value}`);
    assert.deepEqual(headers(encode(alice, '10.0.0.7', 'one')), [
      `${PRINCIPAL_HEADER}=alice`,
      'x-tollgate-client-address=10.0.0.7',
      'x-tollgate-check=one',
    ]);
    assert.deepEqual(headers(encode(alice, '10.0.0.7')), [
      `${PRINCIPAL_HEADER}=alice`,
      'x-tollgate-client-address=10.0.0.7',
    ]);
  });

  it('removes a client-sent hand-off header on a public route', () => {
    const encode = createCheckResponseEncoder(serialize, PRINCIPAL_HEADER);
    const decoded = check.responseDeserialize(
      encode(checkOutcome({ verdict: 'allow', principal: null }), '10.0.0.7'),
    ) as {
      ok_response: { headers_to_remove: string[] };
    };
    assert.ok(decoded.ok_response.headers_to_remove.includes('x-tollgate-check'));
  });

  it('stays correct past its bound', () => {
    const encode = createCheckResponseEncoder(serialize, PRINCIPAL_HEADER, 2);
    for (let i = 0; i < 5; i++) {
      const outcome = checkOutcome({ verdict: 'allow', principal: `user${i}` });
      const expected = serialize(toCheckResponse(outcome, PRINCIPAL_HEADER, '10.0.0.7'));
      assert.deepEqual(encode(outcome, '10.0.0.7'), expected);
      assert.deepEqual(encode(outcome, '10.0.0.7'), expected);
    }
  });
});
