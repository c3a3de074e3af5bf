import assert from 'node:assert/strict';
import http2 from 'node:http2';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { compileAcls } from '../acl/acl-compile.ts';
import { parseAclFile } from '../acl/acl-file.ts';
import { createChecker } from '../check/check.ts';
import type { TokenVerifier, VerifyResult } from '../jwt/verifier.ts';
import type { ShedReason } from '../metrics/metrics.ts';
import { type GrpcServerHandle, LOADER_OPTIONS, startGrpcServer } from './grpc-server.ts';

// Issue #14: overload is refused fast and explicitly, before any work. Functional, not timed:
// every assertion is about what happened (answers, verifier calls), never about how long.

const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check';
const TOKEN = `aGRy.${Buffer.from('alice').toString('base64url')}.c2ln`;

const parsed = parseAclFile(`
serviceUsers: [alice]
acls:
  - {principal: "User:alice", resourceType: TOPIC, patternType: PREFIXED, resourceName: "orders.",
     operation: WRITE, permissionType: ALLOW}
`);
if (!parsed.ok) throw new Error(parsed.problems.join('; '));
const ACLS = compileAcls(parsed.file);

const CHECK_REQUEST = {
  attributes: {
    request: {
      http: {
        method: 'POST',
        path: '/topics/orders.eu',
        headers: { authorization: `Bearer ${TOKEN}` },
      },
    },
  },
};

/** A verifier that counts its calls and answers only when `open()` is called. */
function createGatedVerifier(): TokenVerifier & { calls: number; open(): void } {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const verifier = {
    calls: 0,
    open: () => release(),
    async verify(): Promise<VerifyResult> {
      verifier.calls++;
      await gate;
      return {
        ok: true,
        issuer: 'https://idp.test',
        principal: 'alice',
        expiresAtMs: 4_000_000_000_000,
        claims: { sub: 'alice' },
        tokenHash: 'hash-of-alice',
        cached: false,
        certificateBinding: 'off',
      };
    },
    ready: () => true,
    start: () => {},
    stop: () => {},
    refreshKeys: async () => true,
  };
  return verifier;
}

interface Running {
  readonly server: GrpcServerHandle;
  readonly verifier: ReturnType<typeof createGatedVerifier>;
  readonly shed: ShedReason[];
}

async function startServer(maxConcurrentChecks: number): Promise<Running> {
  const verifier = createGatedVerifier();
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
  const shed: ShedReason[] = [];
  const server = await startGrpcServer('127.0.0.1:0', checker, 'x-tollgate-principal', () => true, {
    maxConcurrentChecks,
    onShed: (reason) => shed.push(reason),
  });
  return { server, verifier, shed };
}

const packageDefinition = protoLoader.loadSync('envoy/service/auth/v3/external_auth.proto', LOADER_OPTIONS);
// biome-ignore lint/suspicious/noExplicitAny: grpc-js package definitions are untyped trees.
const authPkg = grpc.loadPackageDefinition(packageDefinition) as any;
const AuthorizationClient = authPkg.envoy.service.auth.v3.Authorization as typeof grpc.Client;
const serializeCheck = (packageDefinition['envoy.service.auth.v3.Authorization'] as grpc.ServiceDefinition)
  .Check!.requestSerialize;

interface CheckAnswer {
  readonly rpcCode: number;
  /** CheckResponse.status.code on an RPC that succeeded. */
  readonly decision?: number;
}

function check(client: grpc.Client): Promise<CheckAnswer> {
  return new Promise((resolve) => {
    // biome-ignore lint/suspicious/noExplicitAny: as above.
    (client as any).Check(
      CHECK_REQUEST,
      { deadline: Date.now() + 60000 },
      (err: grpc.ServiceError | null, res: { status?: { code?: number } }) =>
        resolve(err ? { rpcCode: err.code } : { rpcCode: grpc.status.OK, decision: res.status?.code ?? 0 }),
    );
  });
}

async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 20000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Sends one Check over raw HTTP/2 with `grpc-timeout: 1n`: a deadline that has passed by the
 * time the handler runs (grpc-js rounds it to 0 ms), as for a request that waited past its
 * deadline in a busy process. Resolves to the call's grpc-status.
 */
function checkWithSpentDeadline(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const stream = session.request({
      ':method': 'POST',
      ':path': CHECK_PATH,
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': '1n',
    });
    let status: string | undefined;
    const take = (headers: http2.IncomingHttpHeaders) => {
      const value = headers['grpc-status'];
      if (typeof value === 'string') status = value;
    };
    stream.on('response', take);
    stream.on('trailers', take);
    stream.on('data', () => {});
    stream.on('error', reject);
    stream.on('close', () => {
      session.close();
      if (status === undefined) reject(new Error('no grpc-status in the answer'));
      else resolve(Number(status));
    });
    const message = serializeCheck(CHECK_REQUEST);
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    stream.end(frame);
  });
}

describe('ext_authz gRPC server under overload', () => {
  let running: Running | null = null;
  const clients: grpc.Client[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    running?.verifier.open();
    await running?.server.stop(1000);
    running = null;
  });

  it('refuses a Check whose deadline has passed with DEADLINE_EXCEEDED, without verifying its token', async () => {
    running = await startServer(16);
    const status = await checkWithSpentDeadline(running.server.port);
    assert.equal(status, grpc.status.DEADLINE_EXCEEDED);
    assert.equal(running.verifier.calls, 0, 'the token must not have been verified');
    assert.deepEqual(running.shed, ['deadline']);
  });

  it('sheds Checks above maxConcurrentChecks with UNAVAILABLE instead of queueing them', async () => {
    running = await startServer(2);
    const client = new AuthorizationClient(
      `127.0.0.1:${running.server.port}`,
      grpc.credentials.createInsecure(),
    );
    clients.push(client);
    const first = check(client);
    const second = check(client);
    const { verifier } = running;
    await until('two Checks waiting on the verifier', () => verifier.calls === 2);

    const third = await check(client);
    assert.equal(third.rpcCode, grpc.status.UNAVAILABLE);
    assert.equal(verifier.calls, 2, 'the shed Check must not have been verified');
    assert.deepEqual(running.shed, ['concurrency']);

    verifier.open();
    assert.deepEqual(await first, { rpcCode: grpc.status.OK, decision: 0 });
    assert.deepEqual(await second, { rpcCode: grpc.status.OK, decision: 0 });
    // The slots were given back: the next Check is worked on and allowed.
    assert.deepEqual(await check(client), { rpcCode: grpc.status.OK, decision: 0 });
  });

  it('works on every Check when the limit is 0 (no limit)', async () => {
    running = await startServer(0);
    running.verifier.open();
    const client = new AuthorizationClient(
      `127.0.0.1:${running.server.port}`,
      grpc.credentials.createInsecure(),
    );
    clients.push(client);
    const answers = await Promise.all(Array.from({ length: 20 }, () => check(client)));
    for (const answer of answers) assert.deepEqual(answer, { rpcCode: grpc.status.OK, decision: 0 });
    assert.deepEqual(running.shed, []);
  });
});
