import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import type { FlattenedJWSInput } from 'jose';
import { createTestKey, TestIdp, type TestKey } from '../../test/support/test-idp.ts';
import { waitFor } from '../../test/support/wait.ts';
import type { IssuerConfig, JwtConfig } from '../config/schema.ts';
import { isServiceError } from '../errors.ts';
import { createIssuerKeySet, type IssuerKeySet, type JwksFetchResult } from './jwks-cache.ts';

const JWT: JwtConfig = {
  clockSkewSec: 30,
  maxTokenBytes: 8192,
  cacheMaxEntries: 100,
  jwksTimeoutMs: 1000,
  jwksCooldownSec: 0,
  jwksRefreshSec: 600,
};
const TOKEN: FlattenedJWSInput = { payload: '', signature: '' };

function issuerConfig(idp: TestIdp, overrides: Partial<IssuerConfig> = {}): IssuerConfig {
  return {
    issuer: idp.issuer,
    audiences: ['kafka-rest'],
    algorithms: ['RS256', 'ES256'],
    principalClaim: 'sub',
    requiredScopes: [],
    tokenUse: 'access',
    certificateBinding: 'off',
    ...overrides,
  };
}

async function resolveCode(keySet: IssuerKeySet, kid: string): Promise<string> {
  try {
    await keySet.resolveKey({ alg: 'RS256', kid }, TOKEN);
    return 'resolved';
  } catch (err) {
    if (isServiceError(err)) return err.code;
    return (err as { code?: string }).code ?? 'unknown';
  }
}

describe('IssuerKeySet', () => {
  let idp: TestIdp;
  let rsa1: TestKey;
  let rsa2: TestKey;
  let keySet: IssuerKeySet | undefined;
  let fetches: JwksFetchResult[];
  let removals: number;

  before(async () => {
    rsa1 = await createTestKey('rsa-1');
    rsa2 = await createTestKey('rsa-2');
  });

  beforeEach(async () => {
    idp = await TestIdp.start();
    idp.publish(rsa1);
    fetches = [];
    removals = 0;
  });

  afterEach(async () => {
    keySet?.stop();
    keySet = undefined;
    await idp.close();
  });

  function createKeySet(jwt: Partial<JwtConfig> = {}, issuer: Partial<IssuerConfig> = {}): IssuerKeySet {
    keySet = createIssuerKeySet(
      issuerConfig(idp, issuer),
      { ...JWT, ...jwt },
      {
        onFetch: (_issuer, result) => fetches.push(result),
        onKeysRemoved: () => removals++,
      },
    );
    return keySet;
  }

  it('is not loaded until its keys have been fetched once', async () => {
    const keys = createKeySet();
    assert.equal(keys.isLoaded(), false);
    keys.start();
    await waitFor('keys.isLoaded()', () => keys.isLoaded());
    assert.deepEqual(fetches, ['ok']);
  });

  it('finds the JWKS through OIDC discovery when no jwksUrl is configured', async () => {
    const keys = createKeySet();
    assert.equal(await keys.refresh(), true);
    assert.deepEqual(idp.requests, [
      '/realms/test/.well-known/openid-configuration',
      '/realms/test/protocol/openid-connect/certs',
    ]);
    assert.equal(await resolveCode(keys, 'rsa-1'), 'resolved');
  });

  it('uses a configured jwksUrl without discovery', async () => {
    const keys = createKeySet({}, { jwksUrl: idp.jwksUrl });
    assert.equal(await keys.refresh(), true);
    assert.deepEqual(idp.requests, ['/realms/test/protocol/openid-connect/certs']);
  });

  it('refuses a discovery document naming another issuer and stays unloaded', async () => {
    idp.discoveryIssuer = 'https://attacker.example';
    const keys = createKeySet();
    assert.equal(await keys.refresh(), false);
    assert.equal(keys.isLoaded(), false);
    assert.deepEqual(fetches, ['error']);
    assert.equal(idp.countRequests('/certs'), 0);
    assert.equal(await resolveCode(keys, 'rsa-1'), 'JWKS_UNAVAILABLE');
  });

  it('fails closed with JWKS_UNAVAILABLE when the keys were never loaded', async () => {
    idp.jwksStatus = 503;
    const keys = createKeySet();
    assert.equal(await resolveCode(keys, 'rsa-1'), 'JWKS_UNAVAILABLE');
    assert.equal(keys.isLoaded(), false);
  });

  it('loads on demand when a key is needed before start()', async () => {
    const keys = createKeySet();
    assert.equal(await resolveCode(keys, 'rsa-1'), 'resolved');
    assert.equal(keys.isLoaded(), true);
  });

  it('keeps known keys when a refresh fails', async () => {
    const keys = createKeySet();
    await keys.refresh();
    idp.jwksStatus = 503;
    assert.equal(await keys.refresh(), false);
    assert.equal(await resolveCode(keys, 'rsa-1'), 'resolved');
    assert.deepEqual(fetches, ['ok', 'error']);
  });

  const notKeySets: Array<[name: string, body: string]> = [
    ['a body that is not JSON', '<html>'],
    ['a JSON object without keys', '{"issuer":"x"}'],
    ['keys that are not objects', '{"keys":["rsa-1"]}'],
  ];
  for (const [name, body] of notKeySets) {
    it(`counts ${name} as a failed fetch and keeps known keys`, async () => {
      const keys = createKeySet();
      await keys.refresh();
      idp.jwksBody = body;
      assert.equal(await keys.refresh(), false);
      assert.equal(await resolveCode(keys, 'rsa-1'), 'resolved');
      assert.deepEqual(fetches, ['ok', 'error']);
    });
  }

  it('refetches for an unknown kid and finds a newly published key', async () => {
    const keys = createKeySet();
    await keys.refresh();
    idp.publish(rsa2);
    assert.equal(await resolveCode(keys, 'rsa-2'), 'resolved');
    assert.equal(idp.countRequests('/certs'), 2);
  });

  // Issue 11: a cooldown after a periodic refresh kept new keys out for up to 30 s.
  it('waits out the floor after a fetch instead of refusing a new key', async () => {
    const keys = createKeySet({ jwksCooldownSec: 0.3 });
    await keys.refresh();
    idp.publish(rsa2);
    const started = performance.now();
    assert.equal(await resolveCode(keys, 'rsa-2'), 'resolved');
    assert.ok(performance.now() - started < 3000, 'the lookup waited at most about the floor');
    assert.equal(idp.countRequests('/certs'), 2);
  });

  it('shares one fetch per floor among a burst of unknown kids', async () => {
    const keys = createKeySet({ jwksCooldownSec: 0.3 });
    await keys.refresh();
    const codes = await Promise.all(['x-1', 'x-2', 'x-3', 'x-4'].map((kid) => resolveCode(keys, kid)));
    assert.deepEqual(codes, Array(4).fill('ERR_JWKS_NO_MATCHING_KEY'));
    assert.equal(idp.countRequests('/certs'), 2);
  });

  it('never lets a periodic refresh shorter than the floor lock out a new key', async () => {
    const keys = createKeySet({ jwksCooldownSec: 0.3, jwksRefreshSec: 0.05 });
    keys.start();
    await waitFor('idp.countRequests("/certs") >= 3', () => idp.countRequests('/certs') >= 3);
    idp.publish(rsa2);
    assert.equal(await resolveCode(keys, 'rsa-2'), 'resolved');
  });

  it('answers an unknown kid with the retryable JWKS_REFRESH_FAILED while the IdP is down, one attempt per floor', async () => {
    const keys = createKeySet({ jwksCooldownSec: 0.3 });
    await keys.refresh();
    await idp.close();
    await new Promise((resolve) => setTimeout(resolve, 350));
    assert.equal(await resolveCode(keys, 'rsa-9'), 'JWKS_REFRESH_FAILED');
    assert.equal(await resolveCode(keys, 'rsa-9'), 'JWKS_REFRESH_FAILED');
    assert.equal(await resolveCode(keys, 'rsa-1'), 'resolved');
    // The second unknown kid fell inside the floor after the failure: answered at once, no second attempt.
    assert.deepEqual(fetches, ['ok', 'error']);
  });

  // Issue 11: after an IdP restart with new keys, valid tokens got 401 for 19 s.
  it('accepts a new key as soon as a restarted IdP publishes it', async () => {
    const keys = createKeySet({ jwksCooldownSec: 0.2 });
    keys.start();
    await waitFor('keys.isLoaded()', () => keys.isLoaded());
    await idp.close();
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.equal(await resolveCode(keys, 'rsa-2'), 'JWKS_REFRESH_FAILED');
    idp.withdraw('rsa-1');
    idp.publish(rsa2);
    await idp.restart();
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.equal(await resolveCode(keys, 'rsa-2'), 'resolved');
    assert.equal(await resolveCode(keys, 'rsa-1'), 'ERR_JWKS_NO_MATCHING_KEY');
  });

  it('stops resolving a key the IdP withdrew within one refresh interval', async () => {
    const keys = createKeySet({ jwksRefreshSec: 0.2 });
    keys.start();
    await waitFor('keys.isLoaded()', () => keys.isLoaded());
    assert.equal(await resolveCode(keys, 'rsa-1'), 'resolved');
    idp.publish(rsa2);
    idp.withdraw('rsa-1');
    const withdrawnAt = performance.now();
    await waitFor('removals > 0', () => removals > 0, 3000);
    // Bound: the interval plus a fetch; generous for a loaded machine, still far below the old 600 s.
    assert.ok(performance.now() - withdrawnAt < 2000);
    assert.equal(await resolveCode(keys, 'rsa-1'), 'ERR_JWKS_NO_MATCHING_KEY');
  });

  it("refreshes sooner when the JWKS answer's max-age is shorter than the interval", async () => {
    idp.cacheControl = 'public, max-age=1';
    const keys = createKeySet({ jwksRefreshSec: 600 });
    keys.start();
    await waitFor('idp.countRequests("/certs") >= 2', () => idp.countRequests('/certs') >= 2, 4000);
  });

  it('backs off after failed background fetches and recovers at the next retry', async () => {
    idp.jwksStatus = 503;
    const keys = createKeySet({ jwksRefreshSec: 600, jwksCooldownSec: 0 });
    keys.start();
    // 1 s, then 2 s: two failures within about 1.5 s would mean no backoff.
    await waitFor('fetches.length >= 2', () => fetches.length >= 2, 3000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(fetches.length, 2);
    idp.jwksStatus = undefined;
    await waitFor('keys.isLoaded()', () => keys.isLoaded(), 4000);
  });

  it('refreshes in the background and stops when told to', async () => {
    const keys = createKeySet({ jwksRefreshSec: 0.05 });
    keys.start();
    await waitFor("idp.countRequests('/certs') >= 3", () => idp.countRequests('/certs') >= 3);
    keys.stop();
    const settled = idp.countRequests('/certs');
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(idp.countRequests('/certs'), settled);
  });

  it('retries the first load in the background until the IdP answers', async () => {
    idp.jwksStatus = 503;
    const keys = createKeySet({ jwksRefreshSec: 600, jwksCooldownSec: 0 });
    keys.start();
    await waitFor('fetches.length >= 1', () => fetches.length >= 1);
    assert.equal(keys.isLoaded(), false);
    idp.jwksStatus = undefined;
    await waitFor('keys.isLoaded()', () => keys.isLoaded(), 3000);
  });

  it('reports removed keys once the new set is in place, and not added ones', async () => {
    const keys = createKeySet();
    await keys.refresh();
    idp.publish(rsa2);
    await keys.refresh();
    assert.equal(removals, 0);
    idp.withdraw('rsa-1');
    await keys.refresh();
    assert.equal(removals, 1);
    assert.equal(await resolveCode(keys, 'rsa-1'), 'ERR_JWKS_NO_MATCHING_KEY');
  });
});
