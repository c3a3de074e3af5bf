import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { exportSPKI } from 'jose';
import {
  createTestKey,
  encodeSegment,
  signToken,
  TestIdp,
  type TestKey,
} from '../../test/support/test-idp.ts';
import { waitFor } from '../../test/support/wait.ts';
import type { IssuerConfig, JwtConfig } from '../config/schema.ts';
import type { ErrorCode } from '../errors.ts';
import { extractBearer } from './bearer.ts';
import {
  createTokenVerifier,
  type TokenVerifier,
  type TokenVerifierDeps,
  type VerifyResult,
} from './verifier.ts';

const NOW_SEC = 1_900_000_000;
const JWT: JwtConfig = {
  clockSkewSec: 30,
  maxTokenBytes: 4096,
  cacheMaxEntries: 100,
  jwksTimeoutMs: 1000,
  jwksCooldownSec: 0,
  jwksRefreshSec: 600,
};

type Claims = Record<string, unknown>;
type Header = Record<string, unknown>;

/** Drops keys whose value is undefined, so a row can remove a default claim or header. */
function compact(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

// Counts signature checks by watching WebCrypto, which jose verifies through.
function countSignatureChecks(): { readonly count: number; restore(): void } {
  const subtle = crypto.subtle;
  const original = subtle.verify;
  const counter = {
    count: 0,
    restore: () => {
      subtle.verify = original;
    },
  };
  subtle.verify = (...args: Parameters<typeof original>) => {
    counter.count++;
    return original.apply(subtle, args);
  };
  return counter;
}

describe('createTokenVerifier', () => {
  let alpha: TestIdp;
  let beta: TestIdp;
  let attacker: TestIdp;
  let alphaRsa: TestKey;
  let alphaEc: TestKey;
  let betaRsa: TestKey;
  let betaEc: TestKey;
  let attackerRsa: TestKey;

  let alphaIssuer: IssuerConfig;
  let betaIssuer: IssuerConfig;

  before(async () => {
    [alpha, beta, attacker] = await Promise.all([
      TestIdp.start('alpha'),
      TestIdp.start('beta'),
      TestIdp.start('evil'),
    ]);
    [alphaRsa, alphaEc, betaRsa, betaEc, attackerRsa] = await Promise.all([
      createTestKey('alpha-rsa'),
      createTestKey('alpha-ec', 'ES256'),
      createTestKey('beta-rsa'),
      createTestKey('beta-ec', 'ES256'),
      createTestKey('attacker-rsa'),
    ]);
    alpha.publish(alphaRsa, alphaEc);
    beta.publish(betaRsa, betaEc);
    attacker.publish(attackerRsa);
    // Alpha is found by OIDC discovery; beta has a fixed JWKS URL and the strict options.
    alphaIssuer = {
      issuer: alpha.issuer,
      audiences: ['kafka-rest'],
      algorithms: ['RS256'],
      principalClaim: 'sub',
      requiredScopes: [],
      tokenUse: 'access',
      certificateBinding: 'off',
    };
    betaIssuer = {
      issuer: beta.issuer,
      jwksUrl: beta.jwksUrl,
      audiences: ['kafka-rest', 'kafka-broker'],
      algorithms: ['RS256', 'ES256'],
      principalClaim: 'realm_access.username',
      requiredType: 'at+jwt',
      requiredScopes: ['kafka'],
      tokenUse: 'access',
      certificateBinding: 'off',
    };
  });

  after(() => Promise.all([alpha.close(), beta.close(), attacker.close()]));

  function alphaClaims(overrides: Claims = {}): Claims {
    return compact({
      iss: alpha.issuer,
      aud: 'kafka-rest',
      sub: 'alice',
      iat: NOW_SEC - 10,
      exp: NOW_SEC + 300,
      ...overrides,
    });
  }

  function betaClaims(overrides: Claims = {}): Claims {
    return compact({
      iss: beta.issuer,
      aud: ['account', 'kafka-broker'],
      sub: 'f3c1a7e2',
      realm_access: { username: 'bob', roles: ['kafka'] },
      scope: 'openid kafka',
      iat: NOW_SEC - 10,
      exp: NOW_SEC + 300,
      ...overrides,
    });
  }

  function alphaToken(claims: Claims = {}, header: Header = {}, key: TestKey = alphaRsa): Promise<string> {
    return signToken(
      compact({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header }),
      alphaClaims(claims),
      key,
    );
  }

  function betaToken(claims: Claims = {}, header: Header = {}, key: TestKey = betaRsa): Promise<string> {
    return signToken(
      compact({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header }),
      betaClaims(claims),
      key,
    );
  }

  function newVerifier(
    jwt: Partial<JwtConfig> = {},
    deps: TokenVerifierDeps = {},
    issuers = [alphaIssuer, betaIssuer],
  ) {
    return createTokenVerifier(issuers, { ...JWT, ...jwt }, { now: () => NOW_SEC * 1000, ...deps });
  }

  describe('against hostile tokens', () => {
    let verifier: TokenVerifier;

    before(async () => {
      verifier = newVerifier();
      verifier.start();
      await waitFor('verifier.ready()', () => verifier.ready());
    });

    after(() => verifier.stop());

    async function authenticate(authorization: string | string[] | undefined): Promise<ErrorCode | 'OK'> {
      const bearer = extractBearer(authorization, JWT.maxTokenBytes);
      if (!bearer.ok) return bearer.code;
      const result = await verifier.verify(bearer.token);
      if (result.ok) return 'OK';
      // Reasons reach logs and response bodies: no token, no claim values.
      assert.ok(!result.reason.includes(bearer.token), 'reason contains the token');
      assert.ok(!/alice|bob/.test(result.reason), 'reason contains a claim value');
      return result.code;
    }

    const bearer = async (token: Promise<string> | string) => `Bearer ${await token}`;

    const rows: Array<
      [name: string, authorization: () => Promise<string | string[] | undefined>, expected: ErrorCode | 'OK']
    > = [
      // Baselines, so a refusal below is about the hostile part alone.
      ['a well-formed token from a discovered issuer', () => bearer(alphaToken()), 'OK'],
      ['a well-formed strict token with a dotted principal, typ and scope', () => bearer(betaToken()), 'OK'],
      ['a lowercase bearer scheme', async () => `bearer ${await alphaToken()}`, 'OK'],
      ['an ES256 token where ES256 is allowed', () => bearer(betaToken({}, {}, betaEc)), 'OK'],
      ['a typ written as a media type', () => bearer(betaToken({}, { typ: 'application/at+jwt' })), 'OK'],
      ['a Keycloak access token (payload typ Bearer)', () => bearer(alphaToken({ typ: 'Bearer' })), 'OK'],
      [
        'an aud list with one accepted audience',
        () => bearer(alphaToken({ aud: ['other', 'kafka-rest'] })),
        'OK',
      ],

      // Algorithms.
      [
        'alg none with no signature',
        () => bearer(`${encodeSegment({ alg: 'none', typ: 'JWT' })}.${encodeSegment(alphaClaims())}.`),
        'JWT_ALG_NOT_ALLOWED',
      ],
      [
        'HS256 "signed" with the RSA public key bytes as the HMAC secret',
        async () => {
          const secret = await exportSPKI(alphaRsa.publicKey);
          const input = `${encodeSegment({ alg: 'HS256', kid: alphaRsa.kid, typ: 'JWT' })}.${encodeSegment(alphaClaims())}`;
          return `Bearer ${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
        },
        'JWT_ALG_NOT_ALLOWED',
      ],
      [
        'an ES256 token where only RS256 is allowed',
        () => bearer(alphaToken({}, {}, alphaEc)),
        'JWT_ALG_NOT_ALLOWED',
      ],
      [
        'an EC key presented under alg RS256',
        () => bearer(signToken({ alg: 'RS256', kid: alphaEc.kid }, alphaClaims(), alphaRsa)),
        'JWT_KEY_UNKNOWN',
      ],

      // Key selection: only the issuer's JWKS ever supplies a key.
      ['an unknown kid', () => bearer(alphaToken({}, { kid: 'rotated-away' })), 'JWT_KEY_UNKNOWN'],
      [
        'a kid with path traversal',
        () => bearer(alphaToken({}, { kid: '../../../../etc/passwd' })),
        'JWT_KEY_UNKNOWN',
      ],
      [
        'a kid with SQL injection',
        () => bearer(alphaToken({}, { kid: "' OR '1'='1' --" })),
        'JWT_KEY_UNKNOWN',
      ],
      [
        'a kid with a newline (log injection)',
        () => bearer(alphaToken({}, { kid: 'alpha-rsa\nallow=true' })),
        'JWT_INVALID',
      ],
      ['a kid way too long', () => bearer(alphaToken({}, { kid: 'k'.repeat(300) })), 'JWT_INVALID'],
      [
        "jku pointing at the attacker's JWKS, signed by the attacker's key",
        () => bearer(alphaToken({}, { jku: attacker.jwksUrl, kid: attackerRsa.kid }, attackerRsa)),
        'JWT_KEY_UNKNOWN',
      ],
      [
        "jku pointing at the attacker's JWKS, with a trusted kid",
        () => bearer(alphaToken({}, { jku: attacker.jwksUrl, kid: alphaRsa.kid }, attackerRsa)),
        'JWT_SIGNATURE_INVALID',
      ],
      [
        "x5u pointing at the attacker's certificate",
        () => bearer(alphaToken({}, { x5u: `${attacker.issuer}/cert.pem`, kid: alphaRsa.kid }, attackerRsa)),
        'JWT_SIGNATURE_INVALID',
      ],
      [
        "the attacker's own key embedded as jwk, no kid",
        () => bearer(alphaToken({}, { jwk: attackerRsa.publicJwk, kid: undefined }, attackerRsa)),
        'JWT_SIGNATURE_INVALID',
      ],
      [
        "the attacker's own key embedded as jwk, with its kid",
        () => bearer(alphaToken({}, { jwk: attackerRsa.publicJwk, kid: attackerRsa.kid }, attackerRsa)),
        'JWT_KEY_UNKNOWN',
      ],
      [
        "an x5c chain of the attacker's choosing",
        () =>
          bearer(
            alphaToken(
              {},
              { x5c: ['MIIBattackerCertificate', 'MIIBattackerRoot'], kid: alphaRsa.kid },
              attackerRsa,
            ),
          ),
        'JWT_SIGNATURE_INVALID',
      ],

      // Header features we do not support.
      [
        'an unknown crit extension',
        () => bearer(alphaToken({}, { crit: ['urn:x-evil'], 'urn:x-evil': true })),
        'JWT_UNSUPPORTED',
      ],
      [
        'crit naming b64 (unencoded payload)',
        () => bearer(alphaToken({}, { crit: ['b64'], b64: false })),
        'JWT_UNSUPPORTED',
      ],
      ['a nested token (cty JWT)', () => bearer(alphaToken({}, { cty: 'JWT' })), 'JWT_UNSUPPORTED'],
      [
        'a JWE (five segments)',
        async () => 'Bearer eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..aXY.Y2lwaGVy.dGFn',
        'JWT_UNSUPPORTED',
      ],

      // Time.
      ['an expired token', () => bearer(alphaToken({ exp: NOW_SEC - 3600 })), 'JWT_EXPIRED'],
      [
        'a token expired just beyond the clock skew',
        () => bearer(alphaToken({ exp: NOW_SEC - 30 })),
        'JWT_EXPIRED',
      ],
      ['a token expired within the clock skew', () => bearer(alphaToken({ exp: NOW_SEC - 29 })), 'OK'],
      ['nbf in the future', () => bearer(alphaToken({ nbf: NOW_SEC + 3600 })), 'JWT_NOT_YET_VALID'],
      ['nbf within the clock skew', () => bearer(alphaToken({ nbf: NOW_SEC + 30 })), 'OK'],
      ['iat in the future', () => bearer(alphaToken({ iat: NOW_SEC + 3600 })), 'JWT_NOT_YET_VALID'],
      ['iat within the clock skew', () => bearer(alphaToken({ iat: NOW_SEC + 30 })), 'OK'],
      ['a missing exp', () => bearer(alphaToken({ exp: undefined })), 'JWT_CLAIM_INVALID'],
      ['exp as a string', () => bearer(alphaToken({ exp: String(NOW_SEC + 300) })), 'JWT_CLAIM_INVALID'],
      ['nbf as a string', () => bearer(alphaToken({ nbf: 'yesterday' })), 'JWT_CLAIM_INVALID'],
      ['iat as a string', () => bearer(alphaToken({ iat: 'now' })), 'JWT_CLAIM_INVALID'],

      // Issuer and audience.
      [
        'an untrusted issuer',
        () => bearer(alphaToken({ iss: 'https://idp.attacker.example' })),
        'JWT_ISSUER_UNTRUSTED',
      ],
      [
        "an untrusted issuer signed with a trusted issuer's key and kid",
        () => bearer(alphaToken({ iss: attacker.issuer })),
        'JWT_ISSUER_UNTRUSTED',
      ],
      [
        'an issuer differing by a trailing slash',
        () => bearer(alphaToken({ iss: `${alpha.issuer}/` })),
        'JWT_ISSUER_UNTRUSTED',
      ],
      ['a missing issuer', () => bearer(alphaToken({ iss: undefined })), 'JWT_ISSUER_UNTRUSTED'],
      [
        'an issuer that is not a string',
        () => bearer(alphaToken({ iss: [alpha.issuer] })),
        'JWT_ISSUER_UNTRUSTED',
      ],
      [
        "issuer alpha claimed, signed with beta's key and kid",
        () => bearer(alphaToken({}, {}, betaRsa)),
        'JWT_KEY_UNKNOWN',
      ],
      [
        "issuer alpha claimed, signed with beta's key under alpha's kid",
        () => bearer(alphaToken({}, { kid: alphaRsa.kid }, betaRsa)),
        'JWT_SIGNATURE_INVALID',
      ],
      ['a wrong audience', () => bearer(alphaToken({ aud: 'kafka-admin' })), 'JWT_AUDIENCE_MISMATCH'],
      ['a missing audience', () => bearer(alphaToken({ aud: undefined })), 'JWT_AUDIENCE_MISMATCH'],
      [
        "another issuer's audience",
        () => bearer(alphaToken({ aud: 'kafka-broker' })),
        'JWT_AUDIENCE_MISMATCH',
      ],

      // Type and scope (beta requires at+jwt and the kafka scope).
      [
        'a wrong typ where at+jwt is required',
        () => bearer(betaToken({}, { typ: 'JWT' })),
        'JWT_TYPE_INVALID',
      ],
      [
        'a missing typ where at+jwt is required',
        () => bearer(betaToken({}, { typ: undefined })),
        'JWT_TYPE_INVALID',
      ],
      // Issue 11: ID tokens and other non-access tokens are refused by default.
      [
        'a Keycloak ID token (payload typ ID)',
        () => bearer(alphaToken({ typ: 'ID', azp: 'alice' })),
        'JWT_TYPE_INVALID',
      ],
      [
        'a Keycloak refresh token (payload typ Refresh)',
        () => bearer(alphaToken({ typ: 'Refresh' })),
        'JWT_TYPE_INVALID',
      ],
      ['an ID token with at_hash', () => bearer(alphaToken({ at_hash: 'abc' })), 'JWT_TYPE_INVALID'],
      ['an ID token with a nonce', () => bearer(alphaToken({ nonce: 'n-0S6_WzA2Mj' })), 'JWT_TYPE_INVALID'],
      [
        'a logout token by its header typ',
        () => bearer(alphaToken({}, { typ: 'logout+jwt' })),
        'JWT_TYPE_INVALID',
      ],
      ['a missing required scope', () => bearer(betaToken({ scope: 'openid profile' })), 'JWT_SCOPE_MISSING'],
      [
        'a required scope only as a prefix',
        () => bearer(betaToken({ scope: 'kafka-admin' })),
        'JWT_SCOPE_MISSING',
      ],

      // Principal.
      ['a missing principal claim', () => bearer(alphaToken({ sub: undefined })), 'PRINCIPAL_MISSING'],
      ['a numeric principal', () => bearer(alphaToken({ sub: 42 })), 'PRINCIPAL_MISSING'],
      ['an array principal', () => bearer(alphaToken({ sub: ['alice'] })), 'PRINCIPAL_MISSING'],
      ['an object principal', () => bearer(alphaToken({ sub: { name: 'alice' } })), 'PRINCIPAL_MISSING'],
      ['an empty-string principal', () => bearer(alphaToken({ sub: '' })), 'PRINCIPAL_MISSING'],
      [
        'a dotted principal path that is missing',
        () => bearer(betaToken({ realm_access: { roles: [] } })),
        'PRINCIPAL_MISSING',
      ],
      [
        'a dotted principal path through a string',
        () => bearer(betaToken({ realm_access: 'bob' })),
        'PRINCIPAL_MISSING',
      ],

      // Structure and encoding.
      ['an oversized token', () => bearer(alphaToken({ padding: 'x'.repeat(5000) })), 'TOKEN_TOO_LARGE'],
      [
        'bad base64 in the header segment',
        async () => (await bearer(alphaToken())).replace(/^Bearer ey/, 'Bearer e*'),
        'TOKEN_MALFORMED',
      ],
      [
        'bad base64 in the payload segment',
        async () => (await bearer(alphaToken())).replace(/\.ey/, '.e$'),
        'TOKEN_MALFORMED',
      ],
      [
        'bad base64 in the signature segment',
        async () => `${await bearer(alphaToken())}=`,
        'TOKEN_MALFORMED',
      ],
      [
        'a header segment that is not JSON',
        async () =>
          `Bearer ${encodeSegment('not json')}.${(await alphaToken()).split('.').slice(1).join('.')}`,
        'JWT_INVALID',
      ],
      [
        'a payload that is not JSON',
        async () => bearer(signToken({ alg: 'RS256', kid: alphaRsa.kid }, 'not json', alphaRsa)),
        'JWT_INVALID',
      ],
      [
        'a payload that is a JSON array',
        async () => bearer(signToken({ alg: 'RS256', kid: alphaRsa.kid }, '["alice"]', alphaRsa)),
        'JWT_INVALID',
      ],
      ['an extra segment', async () => `${await bearer(alphaToken())}.e30`, 'TOKEN_MALFORMED'],
      [
        'a missing segment',
        async () => `Bearer ${(await alphaToken()).split('.').slice(0, 2).join('.')}`,
        'TOKEN_MALFORMED',
      ],
      [
        'a tampered payload',
        async () => {
          const [header, , signature] = (await alphaToken()).split('.');
          return `Bearer ${header}.${encodeSegment(alphaClaims({ sub: 'admin' }))}.${signature}`;
        },
        'JWT_SIGNATURE_INVALID',
      ],
      [
        'a stripped signature',
        async () => `Bearer ${(await alphaToken()).split('.').slice(0, 2).join('.')}.`,
        'JWT_SIGNATURE_INVALID',
      ],

      // The header itself.
      ['no Authorization header', async () => undefined, 'TOKEN_MISSING'],
      ['an empty bearer', async () => 'Bearer ', 'TOKEN_MALFORMED'],
      [
        'two Authorization headers',
        async () => [await bearer(alphaToken()), await bearer(alphaToken())],
        'TOKEN_MALFORMED',
      ],
      [
        'a comma-joined double header',
        async () => `${await bearer(alphaToken())},${await bearer(betaToken())}`,
        'TOKEN_MALFORMED',
      ],
      [
        'the Basic scheme',
        async () => `Basic ${Buffer.from('alice:secret').toString('base64')}`,
        'TOKEN_MALFORMED',
      ],
      ['a token with no scheme', async () => alphaToken(), 'TOKEN_MALFORMED'],
    ];

    for (const [name, authorization, expected] of rows) {
      it(expected === 'OK' ? `accepts ${name}` : `refuses ${name} with ${expected}`, async () => {
        assert.equal(await authenticate(await authorization()), expected);
      });
    }

    // Runs its own requests rather than trusting what earlier rows left behind (issue 10): it
    // must fail if any of them fetched from the attacker, whatever else ran before.
    it('never contacts the URLs named in jku, x5u, jwk or x5c headers', async () => {
      const headerRows = rows.filter(([name]) => /\b(jku|x5u|jwk|x5c)\b/.test(name));
      assert.ok(headerRows.length >= 5, 'the header rows are in the table');
      const before = attacker.requests.length;
      for (const [name, authorization, expected] of headerRows) {
        assert.equal(await authenticate(await authorization()), expected, name);
      }
      assert.deepEqual(attacker.requests.slice(before), []);
      assert.deepEqual(attacker.requests, [], 'and no row before did either');
    });
  });

  describe('verified token', () => {
    it('carries the issuer, principal, expiry, claims and a hash instead of the token', async () => {
      const verifier = newVerifier();
      const token = await betaToken();
      const result = await verifier.verify(token);
      assert.ok(result.ok);
      assert.equal(result.issuer, beta.issuer);
      assert.equal(result.principal, 'bob');
      assert.equal(result.expiresAtMs, (NOW_SEC + 300) * 1000);
      assert.equal(result.claims.sub, 'f3c1a7e2');
      assert.match(result.tokenHash, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(result.cached, false);
      assert.ok(Object.isFrozen(result.claims));
      verifier.stop();
    });
  });

  describe('verify-once cache', () => {
    let signatureChecks: ReturnType<typeof countSignatureChecks>;

    beforeEach(() => {
      signatureChecks = countSignatureChecks();
    });

    afterEach(() => signatureChecks.restore());

    it('answers a repeated token from the cache without signature work', async () => {
      const hits: boolean[] = [];
      const verifier = newVerifier({}, { onCache: (hit) => hits.push(hit) });
      const token = await alphaToken({ jti: 'cache-1' });
      const first = await verifier.verify(token);
      assert.equal(signatureChecks.count, 1);
      const second = await verifier.verify(token);
      assert.equal(signatureChecks.count, 1);
      assert.ok(first.ok && second.ok);
      assert.equal(first.cached, false);
      assert.equal(second.cached, true);
      assert.equal(second.principal, 'alice');
      assert.equal(second.tokenHash, first.tokenHash);
      assert.deepEqual(hits, [false, true]);
    });

    it('returns the same object on every hit (no allocation per request)', async () => {
      const verifier = newVerifier();
      const token = await alphaToken({ jti: 'cache-2' });
      await verifier.verify(token);
      assert.equal(await verifier.verify(token), await verifier.verify(token));
    });

    it('verifies concurrent requests with the same new token once', async () => {
      const verifier = newVerifier();
      await verifier.refreshKeys();
      const token = await alphaToken({ jti: 'cache-3' });
      const results = await Promise.all([
        verifier.verify(token),
        verifier.verify(token),
        verifier.verify(token),
      ]);
      assert.ok(results.every((result) => result.ok));
      assert.equal(signatureChecks.count, 1);
    });

    it('does not cache failures', async () => {
      const hits: boolean[] = [];
      const verifier = newVerifier({}, { onCache: (hit) => hits.push(hit) });
      const token = await alphaToken({ aud: 'elsewhere' });
      const first = await verifier.verify(token);
      const second = await verifier.verify(token);
      assert.deepEqual([first.ok, second.ok], [false, false]);
      assert.deepEqual(hits, [false, false]);
      assert.equal(signatureChecks.count, 2);
    });

    it('stops answering from the cache at exp, and refuses once past the clock skew', async () => {
      let nowMs = NOW_SEC * 1000;
      const verifier = newVerifier({}, { now: () => nowMs });
      const token = await alphaToken({ exp: NOW_SEC + 60 });
      assert.equal((await verifier.verify(token)).ok, true);
      nowMs = (NOW_SEC + 59) * 1000;
      assert.equal(((await verifier.verify(token)) as { cached: boolean }).cached, true);
      nowMs = (NOW_SEC + 60) * 1000;
      const atExp = await verifier.verify(token);
      assert.ok(atExp.ok);
      assert.equal(atExp.cached, false);
      nowMs = (NOW_SEC + 60 + JWT.clockSkewSec) * 1000;
      assert.equal(codeOf(await verifier.verify(token)), 'JWT_EXPIRED');
    });

    it('keeps at most cacheMaxEntries tokens, evicting the least recently used', async () => {
      const hits: boolean[] = [];
      const verifier = newVerifier({ cacheMaxEntries: 2 }, { onCache: (hit) => hits.push(hit) });
      const [a, b, c] = await Promise.all([
        alphaToken({ jti: 'a' }),
        alphaToken({ jti: 'b' }),
        alphaToken({ jti: 'c' }),
      ]);
      for (const token of [a, b, a, c]) await verifier.verify(token);
      hits.length = 0;
      for (const token of [a, c, b]) await verifier.verify(token);
      assert.deepEqual(hits, [true, true, false]);
    });

    it('forgets cached tokens when their key leaves the JWKS', async () => {
      const issuer = await TestIdp.start('rotating');
      const [oldKey, newKey] = await Promise.all([createTestKey('old'), createTestKey('new')]);
      issuer.publish(oldKey, newKey);
      const config = { ...alphaIssuer, issuer: issuer.issuer, jwksUrl: issuer.jwksUrl };
      const verifier = newVerifier({}, {}, [config]);
      const token = await signToken(
        { alg: 'RS256', kid: 'old' },
        alphaClaims({ iss: issuer.issuer }),
        oldKey,
      );
      assert.equal((await verifier.verify(token)).ok, true);
      issuer.withdraw('old');
      assert.equal(await verifier.refreshKeys(), true);
      assert.equal(codeOf(await verifier.verify(token)), 'JWT_KEY_UNKNOWN');
      await issuer.close();
    });
  });

  describe('JWKS rotation', () => {
    let issuer: TestIdp;
    let config: IssuerConfig;
    let first: TestKey;
    let second: TestKey;

    beforeEach(async () => {
      issuer = await TestIdp.start('rotating');
      [first, second] = await Promise.all([createTestKey('2026-01'), createTestKey('2026-02')]);
      issuer.publish(first);
      config = { ...alphaIssuer, issuer: issuer.issuer };
    });

    afterEach(() => issuer.close());

    const tokenFor = (key: TestKey) =>
      signToken({ alg: 'RS256', kid: key.kid }, alphaClaims({ iss: issuer.issuer }), key);

    it('accepts a token signed by a newly published key after refetching on its unknown kid', async () => {
      const verifier = newVerifier({ jwksCooldownSec: 0 }, {}, [config]);
      assert.equal((await verifier.verify(await tokenFor(first))).ok, true);
      issuer.publish(second);
      assert.equal((await verifier.verify(await tokenFor(second))).ok, true);
      assert.equal(issuer.countRequests('/certs'), 2);
    });

    // Issue 11: the cooldown must never lock a new key out; within the floor the lookup waits.
    it('accepts a new key at its first use even right after a successful fetch', async () => {
      const verifier = newVerifier({ jwksCooldownSec: 0.3 }, {}, [config]);
      assert.equal((await verifier.verify(await tokenFor(first))).ok, true);
      issuer.publish(second);
      assert.equal((await verifier.verify(await tokenFor(second))).ok, true);
      assert.equal(issuer.countRequests('/certs'), 2);
    });

    it('refuses tokens signed by a key that a background refresh found removed', async () => {
      issuer.publish(second);
      const verifier = newVerifier({ jwksRefreshSec: 0.05 }, {}, [config]);
      verifier.start();
      await waitFor('verifier.ready()', () => verifier.ready());
      assert.equal((await verifier.verify(await tokenFor(first))).ok, true);
      issuer.withdraw(first.kid);
      const fetched = issuer.countRequests('/certs');
      await waitFor(
        "issuer.countRequests('/certs') > fetched + 1",
        () => issuer.countRequests('/certs') > fetched + 1,
      );
      assert.equal(codeOf(await verifier.verify(await tokenFor(first))), 'JWT_KEY_UNKNOWN');
      assert.equal((await verifier.verify(await tokenFor(second))).ok, true);
      verifier.stop();
    });
  });

  describe('JWKS outage', () => {
    it('keeps verifying known kids and answers unknown ones with a retryable 503 while the IdP is down', async () => {
      const issuer = await TestIdp.start('flaky');
      const [known, unknown] = await Promise.all([createTestKey('known'), createTestKey('unknown')]);
      issuer.publish(known);
      const verifier = newVerifier({ jwksCooldownSec: 0 }, {}, [{ ...alphaIssuer, issuer: issuer.issuer }]);
      verifier.start();
      await waitFor('verifier.ready()', () => verifier.ready());
      await issuer.close();

      assert.equal(await verifier.refreshKeys(), false);
      const fresh = await signToken(
        { alg: 'RS256', kid: 'known' },
        alphaClaims({ iss: issuer.issuer, jti: 'new' }),
        known,
      );
      assert.equal((await verifier.verify(fresh)).ok, true);
      const stranger = await signToken(
        { alg: 'RS256', kid: 'unknown' },
        alphaClaims({ iss: issuer.issuer }),
        unknown,
      );
      // Retryable, not 401: the kid may belong to a key published while we could not look.
      assert.equal(codeOf(await verifier.verify(stranger)), 'JWKS_REFRESH_FAILED');
      assert.equal(verifier.ready(), true);
      verifier.stop();
    });

    it('fails closed with JWKS_UNAVAILABLE when the keys were never fetched', async () => {
      const issuer = await TestIdp.start('down');
      const key = await createTestKey('k');
      await issuer.close();
      const verifier = newVerifier({}, {}, [{ ...alphaIssuer, issuer: issuer.issuer }]);
      const token = await signToken({ alg: 'RS256', kid: 'k' }, alphaClaims({ iss: issuer.issuer }), key);
      assert.equal(codeOf(await verifier.verify(token)), 'JWKS_UNAVAILABLE');
      assert.equal(verifier.ready(), false);
    });
  });

  describe('token use', () => {
    it('accepts an ID token from an issuer configured with tokenUse any (Google)', async () => {
      const verifier = newVerifier({}, {}, [{ ...alphaIssuer, tokenUse: 'any' }]);
      const token = await alphaToken({ typ: 'ID', at_hash: 'x' });
      assert.equal((await verifier.verify(token)).ok, true);
    });
  });

  describe('readiness and discovery', () => {
    it('is not ready until every issuer has fetched its keys once', async () => {
      const fetches: string[] = [];
      const verifier = newVerifier(
        {},
        { onJwksFetch: (issuer, result) => fetches.push(`${issuer} ${result}`) },
      );
      assert.equal(verifier.ready(), false);
      verifier.start();
      await waitFor('verifier.ready()', () => verifier.ready());
      assert.deepEqual(fetches.sort(), [`${alpha.issuer} ok`, `${beta.issuer} ok`].sort());
      verifier.stop();
    });

    it('refuses a discovery document that names another issuer', async () => {
      const issuer = await TestIdp.start('impostor');
      issuer.publish(await createTestKey('k'));
      issuer.discoveryIssuer = alpha.issuer;
      const fetches: string[] = [];
      const verifier = newVerifier({}, { onJwksFetch: (_issuer, result) => fetches.push(result) }, [
        { ...alphaIssuer, issuer: issuer.issuer },
      ]);
      assert.equal(await verifier.refreshKeys(), false);
      assert.equal(verifier.ready(), false);
      assert.deepEqual(fetches, ['error']);
      assert.equal(issuer.countRequests('/certs'), 0);
      await issuer.close();
    });
  });

  describe('failing closed', () => {
    it('answers INTERNAL instead of throwing when something unexpected fails', async () => {
      const verifier = newVerifier(
        {},
        {
          now: () => {
            throw new Error('clock broke');
          },
        },
      );
      assert.equal(codeOf(await verifier.verify(await alphaToken())), 'INTERNAL');
    });

    it('answers TOKEN_MALFORMED for a value that is not a string', async () => {
      const verifier = newVerifier();
      assert.equal(codeOf(await verifier.verify(undefined as unknown as string)), 'TOKEN_MALFORMED');
    });
  });
});

function codeOf(result: VerifyResult): ErrorCode | 'OK' {
  return result.ok ? 'OK' : result.code;
}
