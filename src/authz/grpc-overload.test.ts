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

async function startServer(limits: {
  maxConcurrentChecks: number;
  maxConcurrentStreams?: number;
}): Promise<Running> {
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
    ...limits,
    onShed: (reason) => shed.push(reason),
  });
  return { server, verifier, shed };
}

const packageDefinition = protoLoader.loadSync('envoy/service/auth/v3/external_auth.proto', LOADER_OPTIONS);
// biome-ignore lint/suspicious/noExplicitAny: grpc-js package definitions are untyped trees.
const authPkg = grpc.loadPackageDefinition(packageDefinition) as any;
const AuthorizationClient = authPkg.envoy.service.auth.v3.Authorization as typeof grpc.Client;
const checkMethod = (packageDefinition['envoy.service.auth.v3.Authorization'] as grpc.ServiceDefinition)
  .Check!;
const serializeCheck = checkMethod.requestSerialize;

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
    stream.end(checkFrame());
  });
}

/** One Check as gRPC-over-HTTP/2 bytes: the 5-byte length prefix, then the message. */
function checkFrame(): Buffer {
  const message = serializeCheck(CHECK_REQUEST);
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return frame;
}

/** A raw HTTP/2 connection to the server, once the server's SETTINGS have arrived. */
async function connectRaw(port: number): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  await new Promise<void>((resolve, reject) => {
    session.once('remoteSettings', () => resolve());
    session.once('error', reject);
  });
  return session;
}

/** Sends one Check on `session`; resolves to its grpc-status and, when 0, the decision code. */
function rawCheck(session: http2.ClientHttp2Session): Promise<CheckAnswer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ':method': 'POST',
      ':path': CHECK_PATH,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    let status: string | undefined;
    const chunks: Buffer[] = [];
    const take = (headers: http2.IncomingHttpHeaders) => {
      const value = headers['grpc-status'];
      if (typeof value === 'string') status = value;
    };
    stream.on('response', take);
    stream.on('trailers', take);
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('close', () => {
      if (status === undefined) return reject(new Error('no grpc-status in the answer'));
      const rpcCode = Number(status);
      if (rpcCode !== grpc.status.OK) return resolve({ rpcCode });
      const body = Buffer.concat(chunks);
      const response = checkMethod.responseDeserialize(body.subarray(5)) as { status?: { code?: number } };
      resolve({ rpcCode, decision: response.status?.code ?? 0 });
    });
    stream.end(checkFrame());
  });
}

/** Resolves when the server has acknowledged a PING: it has read every frame sent before it. */
function pingRoundTrip(session: http2.ClientHttp2Session): Promise<void> {
  return new Promise((resolve, reject) => {
    session.ping((err) => (err ? reject(err) : resolve()));
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
    running = await startServer({ maxConcurrentChecks: 16 });
    const status = await checkWithSpentDeadline(running.server.port);
    assert.equal(status, grpc.status.DEADLINE_EXCEEDED);
    assert.equal(running.verifier.calls, 0, 'the token must not have been verified');
    assert.deepEqual(running.shed, ['deadline']);
  });

  it('sheds Checks above maxConcurrentChecks with UNAVAILABLE instead of queueing them', async () => {
    running = await startServer({ maxConcurrentChecks: 2 });
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
    running = await startServer({ maxConcurrentChecks: 0 });
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

  // Issue #14: back-pressure before the work. Refusing a Check that already arrived costs
  // almost what serving it does (the transport is most of a Check), so past the stream limit
  // the client must hold further Checks itself, and the server must never see them.
  it('announces authz.maxConcurrentStreams as SETTINGS_MAX_CONCURRENT_STREAMS', async () => {
    running = await startServer({ maxConcurrentChecks: 0, maxConcurrentStreams: 3 });
    const session = await connectRaw(running.server.port);
    try {
      assert.equal(session.remoteSettings.maxConcurrentStreams, 3);
    } finally {
      session.close();
    }
  });

  it('past the stream limit, further Checks wait on the client and are answered once streams free', async () => {
    running = await startServer({ maxConcurrentChecks: 0, maxConcurrentStreams: 2 });
    const { verifier } = running;
    const session = await connectRaw(running.server.port);
    try {
      const answers = Array.from({ length: 5 }, () => rawCheck(session));
      await until('two Checks waiting on the verifier', () => verifier.calls === 2);
      // The server has read everything the client sent before these PINGs: had the client sent
      // the other three Checks, they would have reached the verifier (see the next test).
      await pingRoundTrip(session);
      await pingRoundTrip(session);
      assert.equal(verifier.calls, 2, 'the server must never hold more Checks than the stream limit');
      assert.deepEqual(running.shed, [], 'waiting Checks are held by the client, not shed by the server');

      verifier.open();
      for (const answer of await Promise.all(answers)) {
        assert.deepEqual(answer, { rpcCode: grpc.status.OK, decision: 0 });
      }
      assert.equal(verifier.calls, 5);
    } finally {
      session.close();
    }
  });

  it('without a stream limit, every Check sent reaches the server at once (the control for the test above)', async () => {
    running = await startServer({ maxConcurrentChecks: 0 });
    const { verifier } = running;
    const session = await connectRaw(running.server.port);
    try {
      const answers = Array.from({ length: 5 }, () => rawCheck(session));
      await until('five Checks waiting on the verifier', () => verifier.calls === 5);
      verifier.open();
      for (const answer of await Promise.all(answers)) {
        assert.deepEqual(answer, { rpcCode: grpc.status.OK, decision: 0 });
      }
    } finally {
      session.close();
    }
  });
});
