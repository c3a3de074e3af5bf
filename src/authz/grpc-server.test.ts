import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { checkOutcome as outcome } from '../../test/support/check-outcome.ts';
import { type EnvoyCheckRequest, encodeEnvoyCheckRequest } from '../../test/support/envoy-check-request.ts';
import { type CompiledAcls, compileAcls } from '../acl/acl-compile.ts';
import { parseAclFile } from '../acl/acl-file.ts';
import { type CheckOutcome, createChecker } from '../check/check.ts';
import { CHECK_HANDOFF_HEADER } from '../check/check-handoff.ts';
import { CODE_INFO, type ErrorCode } from '../errors.ts';
import { extractBearer } from '../jwt/bearer.ts';
import type { TokenVerifier } from '../jwt/verifier.ts';
import { CLIENT_ADDRESS_HEADER } from '../routes/raw-headers.ts';
import { decodeCheckRequest } from './check-request-decoder.ts';
import { toCheckResponse } from './check-response.ts';
import { toCheckRequest as fromAttributes } from './grpc-server.ts';

const PRINCIPAL_HEADER = 'x-tollgate-principal';
const TOKEN = 'aGRy.cGF5bG9hZA.c2ln';

const raw = (text: string) => Buffer.from(text, 'latin1');

type Shape = EnvoyCheckRequest;

/** As the server reads a request: protobufjs-encoded as Envoy would send it, then our decoder. */
function toCheckRequest(shape: Shape) {
  return fromAttributes(decodeCheckRequest(encodeEnvoyCheckRequest(shape)));
}

function envoyRequest(
  http: NonNullable<NonNullable<NonNullable<Shape['attributes']>['request']>['http']>,
): Shape {
  return {
    attributes: {
      source: { address: { socket_address: { address: '10.0.0.7' } } },
      request: { http },
    },
  };
}

interface InputRow {
  readonly name: string;
  readonly request: Shape;
  readonly method: string;
  readonly path: string;
  readonly authorization: string | readonly string[] | undefined;
  readonly requestId: string | undefined;
  /** What extractBearer makes of the Authorization value(s). */
  readonly bearer: ErrorCode | 'ok';
}

const INPUT_ROWS: readonly InputRow[] = [
  {
    name: 'reads method, raw target and Authorization from the headers map',
    request: envoyRequest({
      id: '42',
      method: 'POST',
      path: '/topics/orders.eu?async=true',
      headers: { ':authority': 'gw', authorization: `Bearer ${TOKEN}`, 'x-request-id': 'rid-1' },
    }),
    method: 'POST',
    path: '/topics/orders.eu?async=true',
    authorization: `Bearer ${TOKEN}`,
    requestId: '42',
    bearer: 'ok',
  },
  {
    name: 'takes the request id from x-request-id when the request has no id',
    request: envoyRequest({ method: 'GET', path: '/brokers', headers: { 'x-request-id': 'rid-1' } }),
    method: 'GET',
    path: '/brokers',
    authorization: undefined,
    requestId: 'rid-1',
    bearer: 'TOKEN_MISSING',
  },
  {
    name: 'keeps two Authorization headers joined by Envoy as one malformed value',
    request: envoyRequest({
      method: 'GET',
      path: '/brokers',
      headers: { authorization: `Bearer ${TOKEN},Bearer ${TOKEN}` },
    }),
    method: 'GET',
    path: '/brokers',
    authorization: `Bearer ${TOKEN},Bearer ${TOKEN}`,
    requestId: undefined,
    bearer: 'TOKEN_MALFORMED',
  },
  {
    name: 'reads the header_map list with raw_value bytes',
    request: envoyRequest({
      method: 'GET',
      path: '/topics/a%2Fb',
      header_map: {
        headers: [
          { key: ':path', raw_value: raw('/topics/a%2Fb') },
          { key: 'Authorization', raw_value: raw(`Bearer ${TOKEN}`) },
          { key: 'x-request-id', raw_value: raw('rid-raw') },
        ],
      },
    }),
    method: 'GET',
    path: '/topics/a%2Fb',
    authorization: [`Bearer ${TOKEN}`],
    requestId: 'rid-raw',
    bearer: 'ok',
  },
  {
    name: 'reads the header_map list with plain values',
    request: envoyRequest({
      method: 'GET',
      path: '/brokers',
      header_map: { headers: [{ key: 'authorization', value: `Bearer ${TOKEN}` }] },
    }),
    method: 'GET',
    path: '/brokers',
    authorization: [`Bearer ${TOKEN}`],
    requestId: undefined,
    bearer: 'ok',
  },
  {
    name: 'keeps two Authorization entries of header_map apart, so they are refused',
    request: envoyRequest({
      method: 'GET',
      path: '/brokers',
      header_map: {
        headers: [
          { key: 'authorization', raw_value: raw(`Bearer ${TOKEN}`) },
          { key: 'AUTHORIZATION', raw_value: raw(`Bearer ${TOKEN}`) },
        ],
      },
    }),
    method: 'GET',
    path: '/brokers',
    authorization: [`Bearer ${TOKEN}`, `Bearer ${TOKEN}`],
    requestId: undefined,
    bearer: 'TOKEN_MALFORMED',
  },
  {
    name: 'reads a header_map list without Authorization as no token',
    request: envoyRequest({
      method: 'GET',
      path: '/brokers',
      header_map: { headers: [{ key: 'accept', raw_value: raw('*/*') }] },
    }),
    method: 'GET',
    path: '/brokers',
    authorization: undefined,
    requestId: undefined,
    bearer: 'TOKEN_MISSING',
  },
  {
    name: 'reads an empty request as no method, no path and no token',
    request: {},
    method: '',
    path: '',
    authorization: undefined,
    requestId: undefined,
    bearer: 'TOKEN_MISSING',
  },
];

describe('toCheckRequest', () => {
  for (const row of INPUT_ROWS) {
    it(row.name, () => {
      const { request: input, requestId } = toCheckRequest(row.request);
      assert.equal(input.method, row.method);
      assert.equal(input.path, row.path);
      assert.deepEqual(input.authorization, row.authorization);
      assert.equal(requestId, row.requestId);
      const bearer = extractBearer(input.authorization, 8192);
      assert.equal(bearer.ok ? 'ok' : bearer.code, row.bearer);
    });
  }

  it("passes the thumbprint of Envoy's URL-encoded peer certificate on (RFC 8705)", () => {
    const der = Buffer.from('certificate bytes');
    const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`;
    const request = envoyRequest({ method: 'GET', path: '/', headers: {} });
    request.attributes!.source!.certificate = encodeURIComponent(pem);
    assert.equal(
      toCheckRequest(request).request.clientCertThumbprint,
      createHash('sha256').update(der).digest('base64url'),
    );
    request.attributes!.source!.certificate = '%E0%A4%A';
    assert.equal(toCheckRequest(request).request.clientCertThumbprint, undefined);
  });

  it('passes the client address on for host-bound ACL rules', () => {
    const { request: input } = toCheckRequest(envoyRequest({ method: 'GET', path: '/', headers: {} }));
    assert.equal(input.host, '10.0.0.7');
  });

  it('lets the checker refuse two Authorization entries from header_map', async () => {
    const verifier: TokenVerifier = {
      verify: async () => {
        throw new Error('must not be asked');
      },
      ready: () => true,
      start: () => {},
      stop: () => {},
      refreshKeys: async () => true,
    };
    const parsed = parseAclFile('serviceUsers: [alice]');
    assert.ok(parsed.ok);
    const acls: CompiledAcls = compileAcls(parsed.file);
    const checker = createChecker(
      {
        mode: 'enforce',
        authorization: true,
        jwt: {
          clockSkewSec: 30,
          maxTokenBytes: 8192,
          cacheMaxEntries: 10,
          jwksTimeoutMs: 1000,
          jwksCooldownSec: 30,
          jwksRefreshSec: 600,
        },
      },
      { verifier, acls: () => acls },
    );
    const twice = INPUT_ROWS.find((row) => row.name.startsWith('keeps two Authorization entries'))!;
    const outcome = await checker.check(toCheckRequest(twice.request).request, {
      transport: 'grpc',
      requestId: undefined,
    });
    assert.equal(outcome.code, 'TOKEN_MALFORMED');
    assert.equal(CODE_INFO[outcome.code!].http, 401);
  });
});

interface HeaderOption {
  header: { key: string; value: string };
  append_action?: string;
}

interface Response {
  status: { code: number; message?: string };
  ok_response?: { headers?: HeaderOption[]; headers_to_remove?: string[] };
  denied_response?: { status: { code: number }; headers: HeaderOption[]; body: string };
}

function responseFor(o: CheckOutcome): Response {
  return toCheckResponse(o, PRINCIPAL_HEADER, '10.0.0.7') as unknown as Response;
}

describe('toCheckResponse', () => {
  it('allows with the principal and client address headers set by OVERWRITE_IF_EXISTS_OR_ADD, Authorization untouched', () => {
    const response = responseFor(outcome({ verdict: 'allow', principal: 'alice' }));
    assert.equal(response.status.code, 0);
    assert.equal(response.denied_response, undefined);
    assert.deepEqual(response.ok_response, {
      headers: [
        { header: { key: PRINCIPAL_HEADER, value: 'alice' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
        {
          header: { key: CLIENT_ADDRESS_HEADER, value: '10.0.0.7' },
          append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
        },
      ],
    });
  });

  it('allows an audit-mode pass with the principal too', () => {
    const response = responseFor(
      outcome({ verdict: 'deny', enforced: false, code: 'ACL_DENIED', principal: 'mallory' }),
    );
    assert.equal(response.status.code, 0);
    assert.equal(response.ok_response?.headers?.[0]?.header.value, 'mallory');
    assert.equal(response.ok_response?.headers?.[0]?.append_action, 'OVERWRITE_IF_EXISTS_OR_ADD');
  });

  it('allows a public route by removing any principal header instead of setting one', () => {
    const response = responseFor(outcome({ verdict: 'allow', principal: null }));
    assert.equal(response.status.code, 0);
    assert.deepEqual(response.ok_response, {
      headers_to_remove: [PRINCIPAL_HEADER, CLIENT_ADDRESS_HEADER, CHECK_HANDOFF_HEADER],
    });
  });

  it('carries the hand-off id (tollgate serve) by OVERWRITE_IF_EXISTS_OR_ADD, so a client copy never survives', () => {
    const o = outcome({ verdict: 'allow', principal: 'alice' });
    const response = toCheckResponse(o, PRINCIPAL_HEADER, '10.0.0.7', 'the-id') as unknown as Response;
    assert.deepEqual(response.ok_response?.headers?.[2], {
      header: { key: CHECK_HANDOFF_HEADER, value: 'the-id' },
      append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
    });
    const without = responseFor(o).ok_response?.headers?.map((h) => h.header.key);
    assert.ok(!without?.includes(CHECK_HANDOFF_HEADER), 'no id without a hand-off');
  });

  // google.rpc.Code: 16 UNAUTHENTICATED, 7 PERMISSION_DENIED, 14 UNAVAILABLE. Any non-zero code
  // is a denial for Envoy; denied_response carries the HTTP status the client gets.
  const DENY_ROWS: ReadonlyArray<readonly [ErrorCode, number, number]> = [
    ['TOKEN_MISSING', 16, 401],
    ['JWT_EXPIRED', 16, 401],
    ['JWT_KEY_UNKNOWN', 16, 401],
    ['JWT_SCOPE_MISSING', 7, 403],
    ['USER_UNKNOWN', 7, 403],
    ['ACL_DENIED', 7, 403],
    ['ROUTE_UNKNOWN', 7, 404],
    ['JWKS_UNAVAILABLE', 14, 503],
    ['INTERNAL', 14, 500],
  ];
  for (const [code, rpcCode, httpStatus] of DENY_ROWS) {
    it(`denies ${code} with gRPC code ${rpcCode} and HTTP ${httpStatus}`, () => {
      const response = responseFor(outcome({ code }));
      assert.equal(response.status.code, rpcCode);
      assert.equal(response.status.message, code);
      assert.equal(response.ok_response, undefined);
      const denied = response.denied_response!;
      assert.equal(denied.status.code, httpStatus);
      const parsed = JSON.parse(denied.body) as { error_code: unknown; message: unknown };
      assert.equal(typeof parsed.error_code, 'number');
      assert.equal(typeof parsed.message, 'string');
      for (const option of denied.headers) assert.equal(option.append_action, 'OVERWRITE_IF_EXISTS_OR_ADD');
      const keys = denied.headers.map((option) => option.header.key);
      assert.ok(keys.includes('content-type'));
      assert.equal(keys.includes('www-authenticate'), httpStatus === 401 || code === 'JWT_SCOPE_MISSING');
      assert.ok(!keys.includes(PRINCIPAL_HEADER));
    });
  }

  it('denies a 405 with the 405 status', () => {
    const response = responseFor(outcome({ code: 'METHOD_NOT_ALLOWED' }));
    assert.equal(response.status.code, 7);
    assert.equal(response.denied_response?.status.code, 405);
  });

  it('never allows a denied outcome, whatever else it carries', () => {
    const response = responseFor(
      outcome({ verdict: 'deny', enforced: true, principal: 'alice', code: null }),
    );
    assert.notEqual(response.status.code, 0);
    assert.equal(response.ok_response, undefined);
  });
});
