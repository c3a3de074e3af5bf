import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import {
  createServer,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  request,
  type Server,
} from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKeyPair, SignJWT } from 'jose';
import { DevIssuer } from '../../src/dev/issuer.ts';
import { replaceFile } from '../support/files.ts';
import { freePorts } from '../support/ports.ts';
import { StopWaiting, waitFor } from '../support/wait.ts';

/**
 * `tollgate authz` behind the real Envoy (deploy/envoy/envoy.yaml) with a real issuer, and a
 * recording upstream in place of the REST process. Self-contained: every process it needs is
 * started here on ports the OS hands out, and stopped in `after`.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENVOY = join(ROOT, '.tools', 'bin', 'envoy');
const TOLLGATE = join(ROOT, 'bin', 'tollgate.js');
const PRINCIPAL = 'x-tollgate-principal';
const CLIENT_ADDRESS = 'x-tollgate-client-address';
const AUDIENCE = 'kafka';

const ACL_BASE = `
superUsers: [admin]
serviceUsers: [alice, mallory]
acls:
  - {principal: "User:alice", resourceType: TOPIC, patternType: PREFIXED, resourceName: "orders.",
     operation: WRITE, permissionType: ALLOW}
  - {principal: "User:*", resourceType: CLUSTER, resourceName: kafka-cluster,
     operation: DESCRIBE, permissionType: ALLOW}
  - {principal: "User:mallory", resourceType: TOPIC, resourceName: lab,
     operation: WRITE, permissionType: ALLOW, host: 127.0.0.2}
`;
const ACL_MALLORY_WRITES = `${ACL_BASE}
  - {principal: "User:mallory", resourceType: TOPIC, patternType: PREFIXED, resourceName: "orders.",
     operation: WRITE, permissionType: ALLOW}
`;

/** Request headers; a list sends the header once per value (Node's typings allow that only for some). */
type Headers = Readonly<Record<string, string | readonly string[]>>;

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
}

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

interface Child {
  readonly proc: ChildProcess;
  readonly output: string[];
  readonly exited: Promise<number | null>;
}

function spawnLogged(command: string, args: readonly string[]): Child {
  const proc = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  proc.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  proc.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => {
    proc.once('exit', (code) => resolve(code));
    proc.once('error', () => resolve(null));
  });
  return { proc, output, exited };
}

async function run(
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [TOLLGATE, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  proc.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => proc.once('close', (c) => resolve(c)));
  return { code, stdout, stderr };
}

/** `localAddress`: the loopback address to send from (Linux routes all of 127/8 to lo). */
function send(
  port: number,
  method: string,
  path: string,
  headers: Headers = {},
  localAddress?: string,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const options = {
      host: '127.0.0.1',
      port,
      localAddress,
      method,
      path,
      headers: headers as OutgoingHttpHeaders,
      agent: false,
    };
    const req = request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function stopChild(child: Child | undefined, graceMs = 10000): Promise<number | null> {
  if (!child || child.proc.exitCode !== null || child.proc.signalCode !== null)
    return child?.proc.exitCode ?? null;
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), graceMs);
  try {
    return await child.exited;
  } finally {
    clearTimeout(timer);
  }
}

function errorBody(reply: Reply): { error_code: number; message: string } {
  assert.match(String(reply.headers['content-type']), /^application\/json/);
  const body = JSON.parse(reply.body) as { error_code: number; message: string };
  assert.deepEqual(Object.keys(body).sort(), ['error_code', 'message']);
  assert.equal(typeof body.message, 'string');
  return body;
}

describe('authz through real Envoy (integration)', function () {
  this.timeout(60000);

  let dir: string;
  let issuer: DevIssuer | undefined;
  let stranger: DevIssuer | undefined;
  let upstream: Server | undefined;
  let authz: Child | undefined;
  let envoy: Child | undefined;
  let configFile: string;
  let aclFile: string;
  let envoyPort: number;
  let adminPort: number;
  let authzHttpPort: number;
  let metricsPort: number;
  const seen: Seen[] = [];
  /** Every token sent, to prove none of them reaches a log. */
  const tokens = new Set<string>();
  // If mocha dies without running `after`, do not leave Envoy or tollgate behind.
  const killOnExit = () => {
    for (const child of [envoy, authz]) if (child && child.proc.exitCode === null) child.proc.kill('SIGKILL');
  };

  async function mint(clientId: string, options: Parameters<DevIssuer['mint']>[1] = {}): Promise<string> {
    const token = await issuer!.mint(clientId, options);
    tokens.add(token);
    return token;
  }

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  /** Sends through Envoy; returns the reply and what the upstream saw of it (null: nothing). */
  async function through(method: string, path: string, headers: Headers = {}, localAddress?: string) {
    const before = seen.length;
    const reply = await send(envoyPort, method, path, headers, localAddress);
    assert.ok(seen.length <= before + 1, 'one request reached the upstream at most once');
    return { reply, upstream: seen.length > before ? seen[seen.length - 1]! : null };
  }

  before(async () => {
    process.once('exit', killOnExit);
    dir = await mkdtemp(join(tmpdir(), 'tollgate-authz-envoy-'));
    const [issuerPort, grpcPort, ...others] = await freePorts(6);
    [authzHttpPort, metricsPort, envoyPort, adminPort] = others as [number, number, number, number];
    // Not port 0: DevIssuer derives `url` (the `iss` of its tokens) from the port it was given.
    issuer = new DevIssuer({
      host: '127.0.0.1',
      port: issuerPort!,
      audience: AUDIENCE,
      clients: [],
      defaultTtlSec: 3600,
      defaultAlg: 'RS256',
    });
    await issuer.start();
    // Another issuer nobody trusts; its URL is only the `iss` it writes into tokens.
    stranger = new DevIssuer({
      host: '127.0.0.1',
      port: 0,
      audience: AUDIENCE,
      clients: [],
      defaultTtlSec: 3600,
      defaultAlg: 'RS256',
      issuerUrl: 'http://127.0.0.1:1/untrusted',
    });
    await stranger.start();

    upstream = createServer((req, res) => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
      });
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"upstream":true}');
      });
    });
    await new Promise<void>((resolve) => upstream!.listen(0, '127.0.0.1', resolve));
    const upstreamPort = (upstream.address() as { port: number }).port;

    aclFile = join(dir, 'acl.yaml');
    await writeFile(aclFile, ACL_BASE);
    configFile = join(dir, 'tollgate.yaml');
    await writeFile(
      configFile,
      [
        'mode: enforce',
        'issuers:',
        `  - issuer: ${issuer.url}`,
        `    audiences: [${AUDIENCE}]`,
        '    algorithms: [RS256, ES256]',
        '    requiredType: at+jwt',
        'jwt:',
        // No cooldown: a rotated-in kid is fetched on its first request, so the test need not wait.
        '  jwksCooldownSec: 0',
        'acl:',
        `  file: ${aclFile}`,
        '  reloadCheckMs: 200',
        'authz:',
        `  grpcListen: 127.0.0.1:${grpcPort!}`,
        `  httpListen: 127.0.0.1:${authzHttpPort}`,
        'metrics:',
        `  listen: 127.0.0.1:${metricsPort}`,
        'log:',
        '  level: info',
        '',
      ].join('\n'),
    );
    authz = spawnLogged(process.execPath, [TOLLGATE, 'authz', '-c', configFile]);

    const template = await readFile(join(ROOT, 'deploy', 'envoy', 'envoy.yaml'), 'utf8');
    const ports: Record<string, number> = {
      8080: envoyPort,
      9901: adminPort,
      9191: grpcPort!,
      8082: upstreamPort,
    };
    let replaced = 0;
    const rendered = template.replace(/port_value: (\d+)/g, (match, port: string) => {
      if (ports[port] === undefined) return match;
      replaced++;
      return `port_value: ${ports[port]}`;
    });
    // Each port is written exactly once in envoy.yaml (its header says so); all four must move.
    assert.equal(replaced, 4);
    const envoyConfig = join(dir, 'envoy.yaml');
    await writeFile(envoyConfig, rendered);
    envoy = spawnLogged(ENVOY, [
      '-c',
      envoyConfig,
      '--use-dynamic-base-id',
      '--log-level',
      'warn',
      '--concurrency',
      '2',
    ]);

    const alive = (child: Child, name: string) => {
      if (child.proc.exitCode !== null) {
        throw new StopWaiting(`${name} exited with ${child.proc.exitCode}:\n${child.output.join('')}`);
      }
    };
    await waitFor(
      'Envoy admin /ready = LIVE',
      async () => {
        alive(envoy!, 'envoy');
        const reply = await send(adminPort, 'GET', '/ready');
        return reply.status === 200 && reply.body.trim() === 'LIVE';
      },
      30_000,
    );
    await waitFor(
      'tollgate authz /readyz',
      async () => {
        alive(authz!, 'tollgate authz');
        return (await send(authzHttpPort, 'GET', '/readyz')).status === 200;
      },
      30_000,
    );
  });

  after(async () => {
    await stopChild(envoy);
    await stopChild(authz);
    process.off('exit', killOnExit);
    if (upstream) {
      upstream.closeAllConnections();
      await new Promise((resolve) => upstream!.close(resolve));
    }
    await issuer?.stop();
    await stranger?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') {
      process.stderr.write(`--- tollgate authz output ---\n${authz?.output.join('').slice(-4000)}\n`);
      process.stderr.write(`--- envoy output ---\n${envoy?.output.join('').slice(-4000)}\n`);
    }
  });

  describe('an allowed request', () => {
    it('reaches the upstream with the principal and the Authorization header untouched', async () => {
      const token = await mint('alice');
      const { reply, upstream: got } = await through('POST', '/topics/orders.eu', bearer(token));
      assert.equal(reply.status, 200);
      assert.equal(reply.body, '{"upstream":true}');
      assert.ok(got);
      assert.equal(got.method, 'POST');
      assert.equal(got.url, '/topics/orders.eu');
      assert.equal(got.headers[PRINCIPAL], 'alice');
      assert.equal(got.headers.authorization, `Bearer ${token}`);
    });

    it('overwrites a client-sent principal header: exactly one copy, ours', async () => {
      const token = await mint('alice');
      const { reply, upstream: got } = await through('POST', '/topics/orders.eu', {
        ...bearer(token),
        [PRINCIPAL]: 'admin',
      });
      assert.equal(reply.status, 200);
      assert.ok(got);
      assert.equal(got.headers[PRINCIPAL], 'alice');
      const copies = got.rawHeaders.filter(
        (_, i) => i % 2 === 0 && got.rawHeaders[i]!.toLowerCase() === PRINCIPAL,
      );
      assert.equal(copies.length, 1);
    });

    it('keeps the query string and sees the path Envoy normalised, as the upstream does', async () => {
      const token = await mint('alice');
      const { reply, upstream: got } = await through('POST', '/topics/x/../orders.eu?async=1', bearer(token));
      assert.equal(reply.status, 200);
      assert.equal(got?.url, '/topics/orders.eu?async=1');
    });

    it('a super user passes', async () => {
      const token = await mint('admin', { alg: 'ES256' });
      const { reply, upstream: got } = await through(
        'DELETE',
        '/v3/clusters/c1/topics/anything',
        bearer(token),
      );
      assert.equal(reply.status, 200);
      assert.equal(got?.headers[PRINCIPAL], 'admin');
    });
  });

  describe('a denied request never reaches the upstream', () => {
    type Row = readonly [
      name: string,
      request: () => Promise<readonly [method: string, path: string, headers: Headers]>,
      status: number,
      errorCode: number,
      challenge: 'bare' | 'invalid_token' | null,
    ];

    // biome-ignore format: one line per case keeps the table readable
    const ROWS: readonly Row[] = [
      ['without a token', async () => ['POST', '/topics/orders.eu', {}], 401, 40101, 'bare'],
      ['without a token but with a forged principal header', async () => ['POST', '/topics/orders.eu', { [PRINCIPAL]: 'admin' }], 401, 40101, 'bare'],
      ['with the Basic scheme', async () => ['GET', '/brokers', { authorization: 'Basic YWxpY2U6c2VjcmV0' }], 401, 40101, 'invalid_token'],
      ['with two Authorization headers', async () => ['GET', '/brokers', { authorization: [`Bearer ${await mint('alice')}`, `Bearer ${await mint('admin')}`] }], 401, 40101, 'invalid_token'],
      ['with an expired token', async () => ['POST', '/topics/orders.eu', bearer(await mint('alice', { ttlSec: -120 }))], 401, 40101, 'invalid_token'],
      ['with a token for another audience', async () => ['POST', '/topics/orders.eu', bearer(await mint('alice', { audience: 'not-kafka' }))], 401, 40101, 'invalid_token'],
      ['with a token signed by a forged key under a real kid', async () => ['POST', '/topics/orders.eu', bearer(await forge('alice', realKid()))], 401, 40101, 'invalid_token'],
      ['with a token signed by a key the issuer never published', async () => ['POST', '/topics/orders.eu', bearer(await forge('alice', 'rogue-1'))], 401, 40101, 'invalid_token'],
      ['with a token from an untrusted issuer', async () => ['POST', '/topics/orders.eu', bearer(await strangerToken('alice'))], 401, 40101, 'invalid_token'],
      ['for a known user without ACLs (mallory)', async () => ['POST', '/topics/orders.eu', bearer(await mint('mallory'))], 403, 40301, null],
      ['for a user the ACL file does not know', async () => ['GET', '/brokers', bearer(await mint('stranger'))], 403, 40301, null],
      ['for a topic outside the user\'s prefix', async () => ['POST', '/topics/payments', bearer(await mint('alice'))], 403, 40301, null],
      ['for an unknown route, even with a good token', async () => ['GET', '/no/such/route', bearer(await mint('alice'))], 404, 404, null],
      ['for a method the route does not serve', async () => ['DELETE', '/brokers', bearer(await mint('alice'))], 405, 405, null],
    ];

    for (const [name, build, status, errorCode, challenge] of ROWS) {
      it(name, async () => {
        const [method, path, headers] = await build();
        const { reply, upstream: got } = await through(method, path, headers);
        assert.equal(got, null, 'forwarded to the upstream');
        assert.equal(reply.status, status);
        assert.equal(errorBody(reply).error_code, errorCode);
        const wwwAuthenticate = reply.headers['www-authenticate'];
        if (challenge === null) assert.equal(wwwAuthenticate, undefined);
        else if (challenge === 'bare') assert.equal(wwwAuthenticate, 'Bearer realm="kafka-rest"');
        else
          assert.match(
            String(wwwAuthenticate),
            /^Bearer realm="kafka-rest", error="invalid_token", error_description="[^"]+"$/,
          );
      });
    }

    it('with an escaped slash in the path: Envoy refuses it before authz', async () => {
      const { reply, upstream: got } = await through(
        'POST',
        '/topics/orders.eu%2F..%2Fx',
        bearer(await mint('alice')),
      );
      assert.equal(got, null);
      assert.equal(reply.status, 400);
    });
  });

  describe('the client address (host-bound ACL rules)', () => {
    const copies = (rawHeaders: readonly string[]) =>
      rawHeaders.filter((_value, i) => i % 2 === 0 && rawHeaders[i]!.toLowerCase() === CLIENT_ADDRESS).length;

    it('allows a host-bound rule from its host and passes that address upstream, once', async () => {
      const token = await mint('mallory');
      const { reply, upstream: got } = await through('POST', '/topics/lab', bearer(token), '127.0.0.2');
      assert.equal(reply.status, 200, reply.body);
      assert.equal(got?.headers[CLIENT_ADDRESS], '127.0.0.2');
      assert.equal(copies(got!.rawHeaders), 1);
      assert.equal(got?.headers[PRINCIPAL], 'mallory');
    });

    it('denies the same rule from another host, whatever address the client claims', async () => {
      const token = await mint('mallory');
      const { reply, upstream: got } = await through('POST', '/topics/lab', {
        ...bearer(token),
        [CLIENT_ADDRESS]: '127.0.0.2',
        'x-forwarded-for': '127.0.0.2',
      });
      assert.equal(reply.status, 403);
      assert.equal(errorBody(reply).error_code, 40301);
      assert.equal(got, null);
    });

    it('replaces a client-sent address on an allowed request with the one Envoy saw', async () => {
      const token = await mint('alice');
      const { reply, upstream: got } = await through('POST', '/topics/orders.eu', {
        ...bearer(token),
        [CLIENT_ADDRESS]: ['10.6.6.6', '10.7.7.7'],
      });
      assert.equal(reply.status, 200, reply.body);
      assert.equal(got?.headers[CLIENT_ADDRESS], '127.0.0.1');
      assert.equal(copies(got!.rawHeaders), 1);
    });

    it('sends no address upstream on a public route, even a client-sent one', async () => {
      const { reply, upstream: got } = await through('GET', '/_health', { [CLIENT_ADDRESS]: '10.6.6.6' });
      assert.equal(reply.status, 200);
      assert.equal(copies(got!.rawHeaders), 0);
    });
  });

  describe('public routes', () => {
    it('/_health reaches the upstream without a token and without a client-sent principal', async () => {
      const { reply, upstream: got } = await through('GET', '/_health', { [PRINCIPAL]: 'admin' });
      assert.equal(reply.status, 200);
      assert.ok(got);
      assert.equal(got.headers[PRINCIPAL], undefined);
    });

    it('a CORS preflight passes ext_authz without a token and without a principal', async () => {
      const { reply, upstream: got } = await through('OPTIONS', '/topics/orders.eu', {
        [PRINCIPAL]: 'admin',
      });
      assert.equal(reply.status, 200);
      assert.ok(got);
      assert.equal(got.headers[PRINCIPAL], undefined);
    });
  });

  describe('the HTTP /auth front end', () => {
    it('answers a forwarded request the same way as the gRPC check', async () => {
      const token = await mint('alice');
      const allowed = await send(authzHttpPort, 'GET', '/auth', {
        ...bearer(token),
        'x-forwarded-method': 'POST',
        'x-forwarded-uri': '/topics/orders.eu',
      });
      assert.equal(allowed.status, 200);
      assert.equal(allowed.headers[PRINCIPAL], 'alice');
      const denied = await send(authzHttpPort, 'GET', '/auth', {
        'x-original-method': 'POST',
        'x-original-uri': '/topics/orders.eu',
      });
      assert.equal(denied.status, 401);
      assert.equal(errorBody(denied).error_code, 40101);
      assert.equal(denied.headers['www-authenticate'], 'Bearer realm="kafka-rest"');
    });
  });

  describe('the ACL file', () => {
    it('is reloaded when it changes: the decision follows within seconds', async () => {
      const token = await mint('mallory');
      assert.equal((await through('POST', '/topics/orders.eu', bearer(token))).reply.status, 403);
      await replaceFile(aclFile, ACL_MALLORY_WRITES);
      try {
        await waitFor(
          'mallory to be allowed after the reload',
          async () => (await through('POST', '/topics/orders.eu', bearer(token))).reply.status === 200,
          5000,
        );
      } finally {
        await replaceFile(aclFile, ACL_BASE);
      }
      await waitFor(
        'mallory to be denied again',
        async () => (await through('POST', '/topics/orders.eu', bearer(token))).reply.status === 403,
        5000,
      );
    });

    it('keeps the rules in force when the new file is bad', async () => {
      await replaceFile(aclFile, `${ACL_BASE}\n  - {username: alice, topic: "x", permission: rw}\n`);
      try {
        await waitFor(
          'the rejected reload to be counted',
          async () => {
            const metrics = await send(metricsPort, 'GET', '/metrics');
            return /acl_reloads_total\{[^}]*result="error"[^}]*\} [1-9]/.test(metrics.body);
          },
          5000,
        );
        const token = await mint('alice');
        assert.equal((await through('POST', '/topics/orders.eu', bearer(token))).reply.status, 200);
        assert.equal(
          (await through('POST', '/topics/orders.eu', bearer(await mint('mallory')))).reply.status,
          403,
        );
      } finally {
        await replaceFile(aclFile, ACL_BASE);
      }
    });
  });

  describe('tollgate explain', () => {
    it('prints an allow, the principal, what the route requires and the rule that decided', async () => {
      const token = await mint('alice');
      tokens.add(token);
      const result = await run([
        'explain',
        '-c',
        configFile,
        '--token',
        token,
        '--method',
        'POST',
        '--path',
        '/topics/orders.eu',
      ]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^decision: +ALLOW$/m);
      assert.match(result.stdout, /^principal: +alice\b/m);
      assert.match(result.stdout, /^ +WRITE on TOPIC "orders\.eu"$/m);
      assert.match(result.stdout, /^ +acls\.0: /m);
    });

    it('prints a deny and says that no entry matched', async () => {
      const token = await mint('mallory');
      const result = await run([
        'explain',
        '-c',
        configFile,
        '--token',
        token,
        '--method',
        'POST',
        '--path',
        '/topics/orders.eu',
      ]);
      assert.equal(result.code, 3);
      assert.match(result.stdout, /^decision: +DENY$/m);
      assert.match(result.stdout, /^reason: +ACL_DENIED\b/m);
      assert.match(result.stdout, /no ACL entry matched/);
    });
  });

  describe('tollgate check-config', () => {
    it('accepts the running configuration', async () => {
      const result = await run(['check-config', '-c', configFile]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /configuration ok/);
    });

    it('exits non-zero on a bad configuration, naming each field', async () => {
      const bad = join(dir, 'bad.yaml');
      await writeFile(
        bad,
        'issuers:\n  - issuer: not-a-url\n    audiences: [kafka]\nauthz:\n  grpcListen: nowhere\n',
      );
      const result = await run(['check-config', '-c', bad]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^ +issuers\.0\.issuer: /m);
      assert.match(result.stderr, /^ +authz\.grpcListen: /m);
    });
  });

  describe('JWKS', () => {
    it('follows a rotation: a new key works at once, the old one until it is withdrawn', async () => {
      const oldToken = await mint('alice');
      assert.equal((await through('POST', '/topics/orders.eu', bearer(oldToken))).reply.status, 200);
      await issuer!.rotate('RS256');
      const newToken = await mint('alice');
      assert.equal((await through('POST', '/topics/orders.eu', bearer(newToken))).reply.status, 200);
      assert.equal((await through('POST', '/topics/orders.eu', bearer(oldToken))).reply.status, 200);

      issuer!.dropRetiredKeys();
      // An unknown kid makes the verifier refetch the set, which no longer holds the old key.
      const fetches = issuer!.jwksFetches;
      const rogue = await through('POST', '/topics/orders.eu', bearer(await forge('alice', 'rogue-2')));
      assert.equal(rogue.reply.status, 401);
      assert.ok(issuer!.jwksFetches > fetches, 'the unknown kid caused a JWKS fetch');
      const old = await through('POST', '/topics/orders.eu', bearer(oldToken));
      assert.equal(old.reply.status, 401);
      assert.equal(old.upstream, null);
      assert.equal((await through('POST', '/topics/orders.eu', bearer(newToken))).reply.status, 200);
    });

    it('survives an outage: known keys keep working, an unknown kid fails closed with a retryable 503', async () => {
      issuer!.jwksDown = true;
      try {
        // Fresh tokens (not in the verified-token cache), signed by keys fetched before.
        const rsa = await mint('alice');
        const ec = await mint('alice', { alg: 'ES256' });
        assert.equal((await through('POST', '/topics/orders.eu', bearer(rsa))).reply.status, 200);
        assert.equal((await through('POST', '/topics/orders.eu', bearer(ec))).reply.status, 200);

        await issuer!.rotate('ES256');
        const unknownKid = await mint('alice', { alg: 'ES256' });
        const fetches = issuer!.jwksFetches;
        const { reply, upstream: got } = await through('POST', '/topics/orders.eu', bearer(unknownKid));
        assert.equal(got, null);
        // Issue 11: retryable 503, not a 401 that makes a client discard a token that may be good.
        assert.equal(reply.status, 503);
        assert.equal(errorBody(reply).error_code, 50301);
        assert.match(String(reply.headers['retry-after']), /^[1-9][0-9]*$/);
        assert.equal(reply.headers['www-authenticate'], undefined);
        assert.ok(issuer!.jwksFetches > fetches, 'the verifier tried to fetch the keys');
      } finally {
        issuer!.jwksDown = false;
      }
      const recovered = await mint('alice', { alg: 'ES256' });
      assert.equal((await through('POST', '/topics/orders.eu', bearer(recovered))).reply.status, 200);
    });
  });

  describe('with tollgate authz stopped', () => {
    it('Envoy refuses with 503 and forwards nothing', async () => {
      const token = await mint('alice');
      assert.equal((await through('POST', '/topics/orders.eu', bearer(token))).reply.status, 200);
      const code = await stopChild(authz);
      assert.equal(code, 0, 'tollgate authz shut down cleanly on SIGTERM');
      for (const [method, path] of [
        ['POST', '/topics/orders.eu'],
        ['GET', '/brokers'],
        ['GET', '/no/such/route'],
      ] as const) {
        const { reply, upstream: got } = await through(method, path, bearer(token));
        assert.equal(got, null, `${method} ${path} was forwarded`);
        assert.equal(reply.status, 503);
      }
      const health = await through('GET', '/_health');
      assert.equal(health.reply.status, 200, 'the unauthenticated health route does not depend on authz');
    });

    it('no token ever reached a log line of tollgate or Envoy', () => {
      const logs = `${authz!.output.join('')}\n${envoy!.output.join('')}`;
      assert.ok(logs.includes('authz_decision'), 'tollgate logged its denials');
      for (const token of tokens) {
        assert.ok(!logs.includes(token), 'a token appears in a log');
        assert.ok(!logs.includes(token.split('.')[2]!), 'a token signature appears in a log');
      }
    });
  });

  function realKid(): string {
    return issuer!.jwks().keys[0]!.kid!;
  }

  /** Signed by a key of our own, claiming to be the trusted issuer. */
  async function forge(clientId: string, kid: string): Promise<string> {
    const { privateKey } = await generateKeyPair('RS256');
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ client_id: clientId })
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'at+jwt' })
      .setIssuer(issuer!.url)
      .setSubject(clientId)
      .setAudience(AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(privateKey);
    tokens.add(token);
    return token;
  }

  async function strangerToken(clientId: string): Promise<string> {
    const token = await stranger!.mint(clientId);
    tokens.add(token);
    return token;
  }
});
