import assert from 'node:assert/strict';
import type { FlattenedJWSInput } from 'jose';
import type { IssuerConfig, JwtConfig } from '../config/schema.ts';
import { isServiceError } from '../errors.ts';
import { createIssuerKeySet, type IssuerKeySet, type JwksFetchResult } from './jwks-cache.ts';
import { createTestKey, TestIdp, type TestKey, waitFor } from './test-idp.ts';

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
    await waitFor(() => keys.isLoaded());
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

  it('does not refetch for an unknown kid within the cooldown after a successful fetch', async () => {
    const keys = createKeySet({ jwksCooldownSec: 30 });
    await keys.refresh();
    idp.publish(rsa2);
    assert.equal(await resolveCode(keys, 'rsa-2'), 'ERR_JWKS_NO_MATCHING_KEY');
    assert.equal(idp.countRequests('/certs'), 1);
    await keys.refresh();
    assert.equal(await resolveCode(keys, 'rsa-2'), 'resolved');
  });

  it('answers an unknown kid with JWT_KEY_UNKNOWN while the IdP is down, at most one fetch per cooldown', async () => {
    const keys = createKeySet({ jwksCooldownSec: 0.2 });
    await keys.refresh();
    await new Promise((resolve) => setTimeout(resolve, 250));
    await idp.close();
    assert.equal(await resolveCode(keys, 'rsa-9'), 'JWT_KEY_UNKNOWN');
    assert.equal(await resolveCode(keys, 'rsa-9'), 'JWT_KEY_UNKNOWN');
    assert.equal(await resolveCode(keys, 'rsa-1'), 'resolved');
    // The second unknown kid fell inside the failure cooldown: no second attempt.
    assert.deepEqual(fetches, ['ok', 'error']);
  });

  it('refreshes in the background and stops when told to', async () => {
    const keys = createKeySet({ jwksRefreshSec: 0.05 });
    keys.start();
    await waitFor(() => idp.countRequests('/certs') >= 3);
    keys.stop();
    const settled = idp.countRequests('/certs');
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(idp.countRequests('/certs'), settled);
  });

  it('retries the first load in the background until the IdP answers', async () => {
    idp.jwksStatus = 503;
    const keys = createKeySet({ jwksRefreshSec: 600, jwksCooldownSec: 0 });
    keys.start();
    await waitFor(() => fetches.length >= 1);
    assert.equal(keys.isLoaded(), false);
    idp.jwksStatus = undefined;
    await waitFor(() => keys.isLoaded(), 3000);
  });

  it('reports removed keys once jose has swapped the set, and not added ones', async () => {
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
