import assert from 'node:assert/strict';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { type EnvoyCheckRequest, encodeEnvoyCheckRequest } from '../../test/support/envoy-check-request.ts';
import { compileAcls } from '../acl/acl-compile.ts';
import { parseAclFile } from '../acl/acl-file.ts';
import { createChecker } from '../check/check.ts';
import type { TokenVerifier, VerifiedToken, VerifyResult } from '../jwt/verifier.ts';
import { CLIENT_ADDRESS_HEADER } from '../routes/raw-headers.ts';
import { type GrpcServerHandle, LOADER_OPTIONS, startGrpcServer } from './grpc-server.ts';

/**
 * The Check RPC end to end over grpc-js, as Envoy calls it: requests encoded by protobufjs, read
 * by Tollgate's own decoder; answers from the pre-encoded allows and the denial encoder,
 * decoded by protobufjs. Issue #14 replaced proto-loader on this path; the verdicts must not move.
 */

const PRINCIPAL_HEADER = 'x-tollgate-principal';
const TOKEN = 'aGRy.cGF5bG9hZA.c2ln';
const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check';

const parsed = parseAclFile(`
serviceUsers: [alice]
acls:
  - {principal: "User:alice", resourceType: TOPIC, patternType: PREFIXED, resourceName: "orders.",
     operation: WRITE, permissionType: ALLOW}
`);
if (!parsed.ok) throw new Error(parsed.problems.join('; '));
const ACLS = compileAcls(parsed.file);

/** Verifies TOKEN as alice once, then answers it from its cache (the synchronous path). */
function createVerifier(): TokenVerifier & { calls: number } {
  let cached: VerifiedToken | undefined;
  const verifier = {
    calls: 0,
    async verify(token: string): Promise<VerifyResult> {
      verifier.calls++;
      if (token !== TOKEN) return { ok: false, code: 'JWT_INVALID', reason: 'test' };
      const verified: VerifiedToken = {
        ok: true,
        issuer: 'https://idp.test',
        principal: 'alice',
        expiresAtMs: 4_000_000_000_000,
        claims: { sub: 'alice' },
        tokenHash: 'hash-of-alice',
        cached: false,
        certificateBinding: 'off',
      };
      cached = { ...verified, cached: true };
      return verified;
    },
    verifyCached: (token: string) => (token === TOKEN ? cached : undefined),
    ready: () => true,
    start: () => {},
    stop: () => {},
    refreshKeys: async () => true,
  };
  return verifier;
}

const definition = protoLoader.loadSync('envoy/service/auth/v3/external_auth.proto', LOADER_OPTIONS);
const checkMethod = (definition['envoy.service.auth.v3.Authorization'] as protoLoader.ServiceDefinition)
  .Check!;

interface Answer {
  readonly rpcCode: number;
  readonly response?: {
    status?: { code?: number };
    ok_response?: { headers?: { header: { key: string; value: string }; append_action?: string }[] };
    denied_response?: { status?: { code?: string } };
  };
}

function call(client: grpc.Client, bytes: Buffer): Promise<Answer> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      CHECK_PATH,
      (b: Buffer) => b,
      (b: Buffer) => checkMethod.responseDeserialize(b) as Answer['response'],
      bytes,
      (err, response) => resolve(err ? { rpcCode: err.code } : { rpcCode: grpc.status.OK, response }),
    );
  });
}

function request(http: NonNullable<NonNullable<EnvoyCheckRequest['attributes']>['request']>['http']) {
  return encodeEnvoyCheckRequest({
    attributes: {
      source: { address: { socket_address: { address: '10.0.0.7', port_value: 4711 } } },
      request: { http },
      context_extensions: { api: 'kafka-rest-v2' },
    },
  });
}

describe('the Check RPC on the wire', () => {
  let server: GrpcServerHandle;
  let client: grpc.Client;
  let verifier: ReturnType<typeof createVerifier>;

  beforeEach(async () => {
    verifier = createVerifier();
    const checker = createChecker(
      {
        mode: 'enforce',
        authorization: true,
        jwt: {
          clockSkewSec: 30,
          maxTokenBytes: 4096,
          cacheMaxEntries: 100,
          jwksTimeoutMs: 1000,
          jwksCooldownSec: 30,
          jwksRefreshSec: 600,
        },
      },
      { verifier, acls: () => ACLS },
    );
    server = await startGrpcServer('127.0.0.1:0', checker, PRINCIPAL_HEADER, () => true);
    client = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
  });

  afterEach(async () => {
    client.close();
    await server.stop(1000);
  });

  it('allows with the principal and client address, first verified and then from the caches', async () => {
    const bytes = request({
      method: 'POST',
      path: '/topics/orders.eu',
      headers: { ':path': '/topics/orders.eu', authorization: `Bearer ${TOKEN}` },
    });
    for (let i = 0; i < 3; i++) {
      const answer = await call(client, bytes);
      assert.equal(answer.rpcCode, grpc.status.OK);
      assert.equal(answer.response?.status?.code ?? 0, 0);
      assert.deepEqual(
        answer.response?.ok_response?.headers?.map((h) => [h.header.key, h.header.value, h.append_action]),
        [
          [PRINCIPAL_HEADER, 'alice', 'OVERWRITE_IF_EXISTS_OR_ADD'],
          [CLIENT_ADDRESS_HEADER, '10.0.0.7', 'OVERWRITE_IF_EXISTS_OR_ADD'],
        ],
      );
    }
    assert.equal(verifier.calls, 1);
  });

  it('denies after an allow of the same principal when the operation is not allowed', async () => {
    const allowed = request({
      method: 'POST',
      path: '/topics/orders.eu',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const refused = request({
      method: 'POST',
      path: '/topics/payments',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal((await call(client, allowed)).response?.status?.code ?? 0, 0);
    const answer = await call(client, refused);
    assert.equal(answer.rpcCode, grpc.status.OK);
    assert.equal(answer.response?.status?.code, grpc.status.PERMISSION_DENIED);
    assert.equal(answer.response?.ok_response, undefined);
  });

  it('refuses two Authorization entries of header_map (encode_raw_headers)', async () => {
    const raw = Buffer.from(`Bearer ${TOKEN}`, 'latin1');
    const answer = await call(
      client,
      request({
        method: 'POST',
        path: '/topics/orders.eu',
        header_map: {
          headers: [
            { key: 'authorization', raw_value: raw },
            { key: 'authorization', raw_value: raw },
          ],
        },
      }),
    );
    assert.equal(answer.response?.status?.code, grpc.status.UNAUTHENTICATED);
    assert.equal(verifier.calls, 0);
  });

  it('answers a request it cannot decode with an RPC error, never an allow', async () => {
    const answer = await call(client, Buffer.from([0x0a, 0x7f, 0x01]));
    assert.notEqual(answer.rpcCode, grpc.status.OK);
    assert.equal(verifier.calls, 0);
  });
});
