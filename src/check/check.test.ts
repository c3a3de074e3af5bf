import assert from 'node:assert/strict';
import { type CompiledAcls, compileAcls } from '../acl/acl-compile.ts';
import { parseAclFile } from '../acl/acl-file.ts';
import type { Config } from '../config/schema.ts';
import { CODE_INFO, type ErrorCode } from '../errors.ts';
import type { TokenVerifier, VerifiedToken, VerifyResult } from '../jwt/verifier.ts';
import { mapRoute } from '../routes/route-map.ts';
import { type CheckContext, type CheckOutcome, type CheckRequest, createChecker, passes } from './check.ts';

const ACL_FILE = `
superUsers: [admin]
serviceUsers: [alice, bob, mallory]
acls:
  - {principal: "User:alice", resourceType: TOPIC, patternType: PREFIXED, resourceName: "orders.",
     operation: WRITE, permissionType: ALLOW}                                                        # 0
  - {principal: "User:alice", resourceType: TOPIC, resourceName: orders.secret,
     operation: ALL, permissionType: DENY}                                                           # 1
  - {principal: "User:*", resourceType: CLUSTER, resourceName: kafka-cluster,
     operation: DESCRIBE, permissionType: ALLOW}                                                     # 2
  - {principal: "User:bob", resourceType: TOPIC, resourceName: lab,
     operation: WRITE, permissionType: ALLOW, host: 10.1.1.1}                                        # 3
`;

function compile(source: string): CompiledAcls {
  const parsed = parseAclFile(source);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return compileAcls(parsed.file);
}

const ACLS = compile(ACL_FILE);

const JWT: Config['jwt'] = {
  clockSkewSec: 30,
  maxTokenBytes: 1024,
  cacheMaxEntries: 100,
  jwksTimeoutMs: 1000,
  jwksCooldownSec: 30,
  jwksRefreshSec: 600,
};

/** A compact-JWS-shaped token whose payload segment names what the fake verifier answers. */
function tok(name: string): string {
  return `aGRy.${Buffer.from(name).toString('base64url')}.c2ln`;
}

function verified(principal: string): VerifyResult {
  return {
    ok: true,
    issuer: 'https://idp.test',
    principal,
    expiresAtMs: 2_000_000_000_000,
    claims: { sub: principal },
    tokenHash: `hash-of-${principal}`,
    certificateBinding: 'off',
    cached: false,
  };
}

/** The seam check.ts needs: answers by the name inside the token; `throw:` names raise. */
function createFakeVerifier(): TokenVerifier & { calls: number } {
  const fake = {
    calls: 0,
    async verify(token: string): Promise<VerifyResult> {
      fake.calls++;
      const name = Buffer.from(token.split('.')[1] ?? '', 'base64url').toString();
      if (name === 'throw') throw new Error('verifier exploded');
      if (name.startsWith('fail:')) return { ok: false, code: name.slice(5) as ErrorCode, reason: 'fake' };
      return verified(name);
    },
    ready: () => true,
    start: () => {},
    stop: () => {},
    refreshKeys: async () => true,
  };
  return fake;
}

/** The fake with a verified-token cache: a token verified once is then answered synchronously. */
function createCachingFakeVerifier(): TokenVerifier & { calls: number; hits: number } {
  const inner = createFakeVerifier();
  const cache = new Map<string, VerifiedToken>();
  const fake = {
    ...inner,
    hits: 0,
    get calls() {
      return inner.calls;
    },
    async verify(token: string): Promise<VerifyResult> {
      const result = await inner.verify(token);
      if (result.ok) cache.set(token, { ...result, cached: true });
      return result;
    },
    verifyCached(token: string): VerifiedToken | undefined {
      const hit = cache.get(token);
      if (hit !== undefined) fake.hits++;
      return hit;
    },
  };
  return fake;
}

type Mode = Config['mode'];

interface Expect {
  /** The request goes on (allowed, or denied only in audit mode). */
  readonly passes: boolean;
  readonly verdict: 'allow' | 'deny';
  readonly code: ErrorCode | null;
  readonly status: number;
  readonly principal?: string | null;
  /** `acls.N` / `superUsers.N` of the deciding entries, in order. */
  readonly matched?: readonly string[];
}

type Row = readonly [name: string, input: CheckRequest, expect: Expect];

const CTX: CheckContext = { transport: 'grpc', requestId: undefined };

const ok = (principal: string | null, matched?: readonly string[]): Expect => ({
  passes: true,
  verdict: 'allow',
  code: null,
  status: 200,
  principal,
  ...(matched ? { matched } : {}),
});
const denied = (code: ErrorCode, status: number, principal: string | null = null): Expect => ({
  passes: false,
  verdict: 'deny',
  code,
  status,
  principal,
});
const audited = (code: ErrorCode, principal: string): Expect => ({
  passes: true,
  verdict: 'deny',
  code,
  status: 403,
  principal,
});

const req = (
  method: string,
  path: string,
  authorization?: CheckRequest['authorization'],
  host?: string,
): CheckRequest => ({ route: mapRoute(method, path), method, path, authorization, host });
const bearer = (name: string) => `Bearer ${tok(name)}`;

// Failures the verifier reports; each must reach the client as a 401.
const VERIFIER_AUTH_FAILURES: readonly ErrorCode[] = [
  'JWT_INVALID',
  'JWT_SIGNATURE_INVALID',
  'JWT_EXPIRED',
  'JWT_NOT_YET_VALID',
  'JWT_ISSUER_UNTRUSTED',
  'JWT_AUDIENCE_MISMATCH',
  'JWT_ALG_NOT_ALLOWED',
  'JWT_KEY_UNKNOWN',
  'JWT_TYPE_INVALID',
  'JWT_UNSUPPORTED',
  'JWT_CLAIM_INVALID',
  'PRINCIPAL_MISSING',
  'TOKEN_TOO_LARGE',
];

const JWE = `Bearer ${['aGRy', 'a2V5', 'aXY', 'Y3Q', 'dGFn'].join('.')}`;

// biome-ignore format: one line per case keeps the table readable
const ENFORCE_ROWS: readonly Row[] = [
  // Routes.
  ['an unknown path is 404 even with a good token', req('GET', '/nope', bearer('alice')), denied('ROUTE_UNKNOWN', 404)],
  ['an unknown path is 404 without a token', req('GET', '/nope', undefined), denied('ROUTE_UNKNOWN', 404)],
  ['a known path with an unserved method is 405', req('DELETE', '/brokers', bearer('alice')), denied('METHOD_NOT_ALLOWED', 405)],
  ['a dot segment is no route', req('GET', '/topics/../brokers', bearer('admin')), denied('ROUTE_UNKNOWN', 404)],
  ['health is public without a token', req('GET', '/_health', undefined), ok(null, [])],
  ['health is public with a broken token too', req('GET', '/_health', 'Basic Zm9vOmJhcg=='), ok(null, [])],
  ['a CORS preflight is public', req('OPTIONS', '/topics/orders.eu', undefined), ok(null, [])],

  // Extraction failures: 401.
  ['no Authorization header', req('GET', '/brokers', undefined), denied('TOKEN_MISSING', 401)],
  ['an empty list of Authorization headers', req('GET', '/brokers', []), denied('TOKEN_MISSING', 401)],
  ['the Basic scheme', req('GET', '/brokers', 'Basic Zm9vOmJhcg=='), denied('TOKEN_MALFORMED', 401)],
  ['an empty bearer', req('GET', '/brokers', 'Bearer '), denied('TOKEN_MALFORMED', 401)],
  ['two Authorization headers', req('GET', '/brokers', [bearer('alice'), bearer('alice')]), denied('TOKEN_MALFORMED', 401)],
  ['two tokens joined by a comma', req('GET', '/brokers', `${bearer('alice')},${bearer('alice')}`), denied('TOKEN_MALFORMED', 401)],
  ['a token over the size cap', req('GET', '/brokers', `Bearer ${'a'.repeat(600)}.${'b'.repeat(600)}.c2ln`), denied('TOKEN_TOO_LARGE', 401)],
  ['an encrypted JWT (five segments)', req('GET', '/brokers', JWE), denied('JWT_UNSUPPORTED', 401)],

  // Verifier failures: 401, except scope (403) and the key set being unavailable (503).
  ...VERIFIER_AUTH_FAILURES.map((code): Row => [`refuses a token the verifier reports as ${code}`, req('GET', '/brokers', bearer(`fail:${code}`)), denied(code, 401)]),
  ['a token without a required scope is 403', req('GET', '/brokers', bearer('fail:JWT_SCOPE_MISSING')), denied('JWT_SCOPE_MISSING', 403)],
  ['keys never loaded is 503', req('GET', '/brokers', bearer('fail:JWKS_UNAVAILABLE')), denied('JWKS_UNAVAILABLE', 503)],

  // Authorization.
  ['the scheme is case-insensitive', req('GET', '/brokers', `bEaReR ${tok('alice')}`), ok('alice', ['acls.2'])],
  ['a producer within its prefix', req('POST', '/topics/orders.eu', bearer('alice')), ok('alice', ['acls.0'])],
  ['a query string does not change the decision', req('POST', '/topics/orders.eu?x=1', bearer('alice')), ok('alice', ['acls.0'])],
  ['a super user passes by their entry', req('DELETE', '/v3/clusters/c1/topics/anything', bearer('admin')), ok('admin', ['superUsers.0'])],
  ['the topic list needs only a known user', req('GET', '/topics', bearer('mallory')), ok('mallory', [])],
  ['a known user without a matching ALLOW', req('POST', '/topics/orders.eu', bearer('mallory')), denied('ACL_DENIED', 403, 'mallory')],
  ['a DENY beats the prefix ALLOW', req('POST', '/topics/orders.secret', bearer('alice')), { ...denied('ACL_DENIED', 403, 'alice'), matched: ['acls.1'] }],
  ['a principal the ACL file does not know', req('GET', '/brokers', bearer('stranger')), denied('USER_UNKNOWN', 403, 'stranger')],
  ['a host-bound ALLOW matches its host', req('POST', '/topics/lab', bearer('bob'), '10.1.1.1'), ok('bob', ['acls.3'])],
  ['a host-bound ALLOW ignores other hosts', req('POST', '/topics/lab', bearer('bob'), '10.9.9.9'), denied('ACL_DENIED', 403, 'bob')],
  ['a host-bound ALLOW never matches an unknown host', req('POST', '/topics/lab', bearer('bob')), denied('ACL_DENIED', 403, 'bob')],

  // Fail closed.
  ['a verifier that throws is an internal denial', req('GET', '/brokers', bearer('throw')), denied('INTERNAL', 500)],
];

// biome-ignore format: one line per case keeps the table readable
const AUDIT_ROWS: readonly Row[] = [
  ['an ACL denial passes, marked', req('POST', '/topics/orders.eu', bearer('mallory')), audited('ACL_DENIED', 'mallory')],
  ['a DENY rule passes, marked', req('POST', '/topics/orders.secret', bearer('alice')), audited('ACL_DENIED', 'alice')],
  ['an unknown user passes, marked', req('GET', '/brokers', bearer('stranger')), audited('USER_UNKNOWN', 'stranger')],
  ['an allowed request is a plain allow', req('POST', '/topics/orders.eu', bearer('alice')), ok('alice', ['acls.0'])],
  ['a missing token is still refused', req('GET', '/brokers', undefined), denied('TOKEN_MISSING', 401)],
  ['an expired token is still refused', req('GET', '/brokers', bearer('fail:JWT_EXPIRED')), denied('JWT_EXPIRED', 401)],
  ['a missing scope is still refused', req('GET', '/brokers', bearer('fail:JWT_SCOPE_MISSING')), denied('JWT_SCOPE_MISSING', 403)],
  ['an unknown route is still refused', req('GET', '/nope', bearer('alice')), denied('ROUTE_UNKNOWN', 404)],
  ['an internal error is still refused', req('GET', '/brokers', bearer('throw')), denied('INTERNAL', 500)],
];

// biome-ignore format: one line per case keeps the table readable
const AUTHENTICATE_ONLY_ROWS: readonly Row[] = [
  ['a user the ACLs deny passes', req('POST', '/topics/orders.secret', bearer('alice')), ok('alice', [])],
  ['a user the ACL file does not know passes', req('POST', '/topics/x', bearer('stranger')), ok('stranger', [])],
  ['a missing token is refused', req('POST', '/topics/x', undefined), denied('TOKEN_MISSING', 401)],
  ['a bad signature is refused', req('POST', '/topics/x', bearer('fail:JWT_SIGNATURE_INVALID')), denied('JWT_SIGNATURE_INVALID', 401)],
  ['an unknown route is refused', req('GET', '/nope', bearer('alice')), denied('ROUTE_UNKNOWN', 404)],
];

function refs(outcome: CheckOutcome): string[] {
  return outcome.matched.map((ref) => `${ref.source}.${ref.index}`);
}

function assertOutcome(outcome: CheckOutcome, expect: Expect): void {
  assert.deepEqual(
    {
      passes: passes(outcome),
      verdict: outcome.verdict,
      code: outcome.code,
      status: outcome.code === null ? 200 : CODE_INFO[outcome.code].http,
    },
    { passes: expect.passes, verdict: expect.verdict, code: expect.code, status: expect.status },
  );
  if (expect.principal !== undefined) assert.equal(outcome.principal, expect.principal);
  if (expect.matched !== undefined) assert.deepEqual(refs(outcome), expect.matched);
}

function runRows(mode: Mode, authorization: boolean, rows: readonly Row[]): void {
  for (const [name, input, expect] of rows) {
    it(name, async () => {
      const checker = createChecker(
        { mode, authorization, jwt: JWT },
        { verifier: createFakeVerifier(), acls: () => ACLS },
      );
      assertOutcome(await checker.check(input, CTX), expect);
    });
  }
  // The same verdicts when the token is already in the verified-token cache: checkNow answers
  // without a promise (issue #14), and must not answer differently.
  for (const [name, input, expect] of rows) {
    it(`${name} (token cached, synchronous answer)`, async () => {
      const verifier = createCachingFakeVerifier();
      const checker = createChecker({ mode, authorization, jwt: JWT }, { verifier, acls: () => ACLS });
      assertOutcome(await checker.checkNow(input, CTX), expect);
      const cached = verifier.verifyCached?.(tokenOf(input)) !== undefined;
      const again = checker.checkNow(input, CTX);
      if (cached) assert.ok(!(again instanceof Promise), 'a cached token is answered synchronously');
      assertOutcome(await again, expect);
    });
  }
}

function tokenOf(input: CheckRequest): string {
  const value = Array.isArray(input.authorization) ? input.authorization[0] : input.authorization;
  return String(value).replace(/^Bearer +/, '');
}

describe('createChecker', () => {
  describe('in enforce mode', () => runRows('enforce', true, ENFORCE_ROWS));
  describe('in audit mode', () => runRows('audit', true, AUDIT_ROWS));
  describe('with authorization off', () => runRows('enforce', false, AUTHENTICATE_ONLY_ROWS));

  describe('what it reports', () => {
    it('names the request that was denied and the DENY rule that decided', async () => {
      const checker = createChecker(
        { mode: 'enforce', authorization: true, jwt: JWT },
        { verifier: createFakeVerifier(), acls: () => ACLS },
      );
      const outcome = await checker.check(req('POST', '/topics/orders.secret', bearer('alice')), CTX);
      assert.deepEqual(outcome.denied, { resourceType: 'TOPIC', name: 'orders.secret', operation: 'WRITE' });
      assert.equal(outcome.route, 'POST /topics/{topic}');
      assert.deepEqual(outcome.requires, [
        { resourceType: 'TOPIC', name: 'orders.secret', operation: 'WRITE' },
      ]);
      assert.equal(outcome.tokenHash, 'hash-of-alice');
      assert.equal(outcome.issuer, 'https://idp.test');
    });

    it('never shows the token in its reason', async () => {
      const checker = createChecker(
        { mode: 'enforce', authorization: true, jwt: JWT },
        { verifier: createFakeVerifier(), acls: () => ACLS },
      );
      for (const name of ['alice', 'mallory', 'stranger', 'fail:JWT_EXPIRED', 'throw']) {
        const outcome = await checker.check(req('POST', '/topics/orders.secret', bearer(name)), CTX);
        assert.ok(!outcome.reason.includes(tok(name)), name);
      }
    });
  });

  describe('the verifier seam', () => {
    it('is not asked for public routes, unknown routes or requests without a usable token', async () => {
      const verifier = createFakeVerifier();
      const checker = createChecker(
        { mode: 'enforce', authorization: true, jwt: JWT },
        { verifier, acls: () => ACLS },
      );
      await checker.check(req('GET', '/_health', bearer('alice')), CTX);
      await checker.check(req('GET', '/nope', bearer('alice')), CTX);
      await checker.check(req('GET', '/brokers', 'Basic Zm9vOmJhcg=='), CTX);
      await checker.check(req('GET', '/brokers', undefined), CTX);
      assert.equal(verifier.calls, 0);
    });

    it('reads the ACLs in force at each check (hot reload)', async () => {
      let acls = ACLS;
      const checker = createChecker(
        { mode: 'enforce', authorization: true, jwt: JWT },
        { verifier: createFakeVerifier(), acls: () => acls },
      );
      const input = req('POST', '/topics/orders.eu', bearer('mallory'));
      assert.equal((await checker.check(input, CTX)).code, 'ACL_DENIED');
      acls = compile(
        'serviceUsers: [mallory]\nacls:\n  - {username: mallory, topic: "orders.*", permission: write}',
      );
      assert.equal((await checker.check(input, CTX)).verdict, 'allow');
    });

    it('fails closed when the ACLs cannot be read, in audit mode too', async () => {
      for (const mode of ['enforce', 'audit'] as const) {
        const checker = createChecker(
          { mode, authorization: true, jwt: JWT },
          {
            verifier: createFakeVerifier(),
            acls: () => {
              throw new Error('ACL file not loaded');
            },
          },
        );
        assertOutcome(
          await checker.check(req('GET', '/brokers', bearer('alice')), CTX),
          denied('INTERNAL', 500),
        );
      }
    });

    it('decides a cached token afresh once the ACLs changed, even where it was allowed before', async () => {
      let acls = ACLS;
      const checker = createChecker(
        { mode: 'enforce', authorization: true, jwt: JWT },
        { verifier: createCachingFakeVerifier(), acls: () => acls },
      );
      const input = req('POST', '/topics/orders.eu', bearer('alice'));
      assert.equal((await checker.checkNow(input, CTX)).verdict, 'allow');
      assert.equal((await checker.checkNow(input, CTX)).verdict, 'allow');
      acls = compile('serviceUsers: [alice]');
      assert.equal((await checker.checkNow(input, CTX)).code, 'ACL_DENIED');
    });

    it('decides a cached token afresh for another resource or client address', async () => {
      const checker = createChecker(
        { mode: 'enforce', authorization: true, jwt: JWT },
        { verifier: createCachingFakeVerifier(), acls: () => ACLS },
      );
      const lab = (host: string | undefined) => req('POST', '/topics/lab', bearer('bob'), host);
      assert.equal((await checker.checkNow(lab('10.1.1.1'), CTX)).verdict, 'allow');
      assert.equal((await checker.checkNow(lab('10.1.1.1'), CTX)).verdict, 'allow');
      assert.equal((await checker.checkNow(lab('10.1.1.2'), CTX)).code, 'ACL_DENIED');
      assert.equal((await checker.checkNow(lab(undefined), CTX)).code, 'ACL_DENIED');
      const alice = (topic: string) => req('POST', `/topics/${topic}`, bearer('alice'));
      assert.equal((await checker.checkNow(alice('orders.eu'), CTX)).verdict, 'allow');
      assert.equal((await checker.checkNow(alice('orders.secret'), CTX)).code, 'ACL_DENIED');
    });

    it('fails closed when the cache lookup throws, without a promise', () => {
      const verifier: TokenVerifier = {
        ...createFakeVerifier(),
        verifyCached: () => {
          throw new Error('cache exploded');
        },
      };
      const checker = createChecker(
        { mode: 'audit', authorization: true, jwt: JWT },
        { verifier, acls: () => ACLS },
      );
      const outcome = checker.checkNow(req('GET', '/brokers', bearer('alice')), CTX);
      assert.ok(!(outcome instanceof Promise));
      assertOutcome(outcome, denied('INTERNAL', 500));
    });

    it('fails closed when the verifier rejects instead of answering', async () => {
      const verifier: TokenVerifier = {
        ...createFakeVerifier(),
        verify: () => Promise.reject(new Error('socket hang up')),
      };
      const checker = createChecker(
        { mode: 'audit', authorization: true, jwt: JWT },
        { verifier, acls: () => ACLS },
      );
      assertOutcome(
        await checker.check(req('GET', '/brokers', bearer('alice')), CTX),
        denied('INTERNAL', 500),
      );
    });
  });

  describe('one entry point for both processes', () => {
    const enforce = { mode: 'enforce' as const, authorization: true, jwt: JWT };

    it('returns the verified bearer token in its allow result', async () => {
      const checker = createChecker(enforce, { verifier: createFakeVerifier(), acls: () => ACLS });
      const outcome = await checker.check(req('POST', '/topics/orders.eu', bearer('alice')), CTX);
      assert.equal(outcome.token, tok('alice'));
      assert.equal(outcome.expiresAtMs, 2_000_000_000_000);
    });

    it('hands an unexpected exception over (for its stack) before failing closed', async () => {
      const seen: unknown[] = [];
      const checker = createChecker(enforce, {
        verifier: createFakeVerifier(),
        acls: () => ACLS,
        onUnexpectedError: (err) => seen.push(err),
      });
      const outcome = await checker.check(req('GET', '/brokers', bearer('throw')), CTX);
      assert.equal(outcome.code, 'INTERNAL');
      assert.equal(seen.length, 1);
      assert.match((seen[0] as Error).stack ?? '', /verifier exploded/);
    });

    it('records every check exactly once, with its transport', async () => {
      const recorded: Array<[string | null, string]> = [];
      const checker = createChecker(enforce, {
        verifier: createFakeVerifier(),
        acls: () => ACLS,
        record: (outcome, _request, context) => recorded.push([outcome.code, context.transport]),
      });
      await checker.check(req('POST', '/topics/orders.eu', bearer('mallory')), {
        transport: 'rest',
        requestId: 'r1',
      });
      await checker.check(req('GET', '/nope', undefined), { transport: 'http', requestId: undefined });
      assert.deepEqual(recorded, [
        ['ACL_DENIED', 'rest'],
        ['ROUTE_UNKNOWN', 'http'],
      ]);
    });

    it('checks resources named in a body against the caller host, as routes are', () => {
      const recorded: string[] = [];
      const checker = createChecker(enforce, {
        verifier: createFakeVerifier(),
        acls: () => ACLS,
        record: (outcome) => recorded.push(outcome.verdict),
      });
      const lab = [{ resourceType: 'TOPIC' as const, name: 'lab', operation: 'WRITE' as const }];
      const at = (host: string | undefined) =>
        checker.checkResources({ principal: 'bob', host }, lab, { method: 'POST', path: '/x' }, CTX);
      assert.equal(at('10.1.1.1').verdict, 'allow');
      const denied = at('10.9.9.9');
      assert.equal(denied.code, 'ACL_DENIED');
      assert.equal(denied.detail, 'WRITE on TOPIC "lab"');
      assert.equal(at(undefined).verdict, 'deny');
      assert.deepEqual(recorded, ['allow', 'deny', 'deny']);
    });

    it('allows any one of several resources (Kafka either-or rules), audited in audit mode', () => {
      const checker = createChecker(
        { mode: 'audit', authorization: true, jwt: JWT },
        { verifier: createFakeVerifier(), acls: () => ACLS },
      );
      const either = [
        { resourceType: 'TOPIC' as const, name: 'nope', operation: 'CREATE' as const },
        { resourceType: 'CLUSTER' as const, name: 'kafka-cluster', operation: 'DESCRIBE' as const },
      ];
      assert.equal(
        checker.checkResources(
          { principal: 'alice', host: undefined },
          either,
          { method: 'POST', path: '/' },
          CTX,
        ).verdict,
        'allow',
      );
      const audited = checker.checkResources(
        { principal: 'mallory', host: undefined },
        either.slice(0, 1),
        { method: 'POST', path: '/' },
        CTX,
      );
      assert.equal(audited.verdict, 'deny');
      assert.equal(passes(audited), true);
    });
  });
  // Issue 13: RFC 8705 certificate-bound tokens, checked once the token verified.
  describe('certificate binding', () => {
    const THUMB = 'A'.repeat(43);
    const boundVerifier = (policy: 'if-present' | 'required'): TokenVerifier => ({
      ...createFakeVerifier(),
      verify: async (token: string) => {
        const name = Buffer.from(token.split('.')[1] ?? '', 'base64url').toString();
        const base = verified(name.replace(/^bound:/, '')) as Extract<VerifyResult, { ok: true }>;
        const claims = name.startsWith('bound:')
          ? { ...base.claims, cnf: { 'x5t#S256': THUMB } }
          : base.claims;
        return { ...base, claims, certificateBinding: policy };
      },
    });

    for (const mode of ['enforce', 'audit'] as const) {
      it(`refuses a bound token from another client certificate with 401 (${mode})`, async () => {
        const checker = createChecker(
          { mode, authorization: true, jwt: JWT },
          { verifier: boundVerifier('if-present'), acls: () => ACLS },
        );
        const stolen = {
          ...req('GET', '/brokers', bearer('bound:alice')),
          clientCertThumbprint: 'B'.repeat(43),
        };
        assertOutcome(await checker.check(stolen, CTX), denied('JWT_CERT_BINDING_FAILED', 401));
        const bare = req('GET', '/brokers', bearer('bound:alice'));
        assertOutcome(await checker.check(bare, CTX), denied('JWT_CERT_BINDING_FAILED', 401));
      });
    }

    it('allows a bound token with its certificate, and an unbound one under if-present', async () => {
      const checker = createChecker(
        { mode: 'enforce', authorization: true, jwt: JWT },
        { verifier: boundVerifier('if-present'), acls: () => ACLS },
      );
      const own = { ...req('GET', '/brokers', bearer('bound:alice')), clientCertThumbprint: THUMB };
      assert.equal((await checker.check(own, CTX)).verdict, 'allow');
      assert.equal((await checker.check(req('GET', '/brokers', bearer('alice')), CTX)).verdict, 'allow');
    });

    it('refuses an unbound token when the issuer requires binding', async () => {
      const checker = createChecker(
        { mode: 'enforce', authorization: true, jwt: JWT },
        { verifier: boundVerifier('required'), acls: () => ACLS },
      );
      const unbound = { ...req('GET', '/brokers', bearer('alice')), clientCertThumbprint: THUMB };
      assertOutcome(await checker.check(unbound, CTX), denied('JWT_CERT_BINDING_FAILED', 401));
    });
  });
});
