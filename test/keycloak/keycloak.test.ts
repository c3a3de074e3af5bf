import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { api, createConsumer, JSON_V2, pollUntil } from '../integration/rest-client.ts';
import { sleep, stackValue } from '../integration/stack-env.ts';

// Issue 11: Tollgate against a real Keycloak (deploy/stack/keycloak.sh), through Envoy.
// Run by `make test-keycloak`, which starts ONE Keycloak and a stack configured for it
// (STACK_IDP=keycloak: principal claim azp, no requiredType, Tollgate's jwksRefreshSec 10).

const ISSUER = stackValue('ISSUER_URL');
const KEYCLOAK = ISSUER.slice(0, ISSUER.indexOf('/realms/'));
const REALM = ISSUER.slice(ISSUER.lastIndexOf('/') + 1);
const JWKS_REFRESH_SEC = Number(process.env.TOLLGATE_JWT_JWKS_REFRESH_SEC ?? '60');

interface TokenAnswer {
  access_token: string;
  id_token?: string;
  expires_in: number;
}

async function keycloakToken(client: string, scope?: string): Promise<TokenAnswer> {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: client,
    client_secret: stackValue(`DEV_CLIENT_SECRET_${client.toUpperCase()}`),
  });
  if (scope) form.set('scope', scope);
  const res = await fetch(stackValue('TOKEN_URL'), { method: 'POST', body: form });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as TokenAnswer;
}

const accessToken = async (client: string) => (await keycloakToken(client)).access_token;

let adminToken = '';
async function admin(method: string, path: string, body?: unknown): Promise<Response> {
  if (adminToken === '') {
    const res = await fetch(`${KEYCLOAK}/realms/master/protocol/openid-connect/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'admin-cli',
        username: 'admin',
        password: stackValue('KEYCLOAK_ADMIN_PASSWORD'),
      }),
    });
    adminToken = ((await res.json()) as { access_token: string }).access_token;
    // The master realm's admin token lives 60 s: fetch a fresh one for each step.
    setTimeout(() => {
      adminToken = '';
    }, 30_000).unref();
  }
  const res = await fetch(`${KEYCLOAK}/admin/realms/${REALM}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 300)
    throw new Error(`keycloak admin ${method} ${path}: ${res.status} ${await res.text()}`);
  return res;
}

interface Component {
  id: string;
  name: string;
  providerId: string;
  config: Record<string, string[]>;
}

async function clientByName(clientId: string): Promise<Record<string, unknown> & { id: string }> {
  const found = (await (await admin('GET', `/clients?clientId=${clientId}`)).json()) as Array<
    Record<string, unknown> & { id: string }
  >;
  assert.equal(found.length, 1);
  return found[0]!;
}

async function setClientAttribute(clientId: string, name: string, value: string): Promise<void> {
  const client = await clientByName(clientId);
  const attributes = { ...((client.attributes as Record<string, string>) ?? {}), [name]: value };
  await admin('PUT', `/clients/${client.id}`, { ...client, attributes });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

describe('Tollgate with Keycloak', function () {
  this.timeout(180_000);

  it('issues service-account tokens whose sub is a UUID and whose azp is the client', async () => {
    const claims = JSON.parse(
      Buffer.from((await accessToken('alice')).split('.')[1]!, 'base64url').toString(),
    );
    assert.equal(claims.iss, ISSUER, 'KC_HOSTNAME keeps iss stable');
    assert.equal(claims.azp, 'alice');
    assert.match(claims.sub, /^[0-9a-f-]{36}$/);
    assert.ok([claims.aud].flat().includes(stackValue('AUDIENCE')), 'the audience mapper adds the audience');
  });

  it('produces, consumes and denies through Envoy as Keycloak clients', async () => {
    const alice = await accessToken('alice');
    const marker = `kc-${Date.now()}`;
    const produced = await api('POST', '/topics/orders.eu', {
      token: alice,
      contentType: JSON_V2,
      body: { records: [{ key: marker, value: { marker } }] },
    });
    assert.equal(produced.status, 200, produced.text);

    const bob = await accessToken('bob');
    const instance = await createConsumer(bob, `bob-kc-${Date.now()}`, {
      format: 'json',
      'auto.offset.reset': 'earliest',
    });
    try {
      const subscribed = await api('POST', `${instance}/subscription`, {
        token: bob,
        contentType: 'application/vnd.kafka.v2+json',
        body: { topics: ['orders.eu'] },
      });
      assert.equal(subscribed.status, 204, subscribed.text);
      const records = await pollUntil(
        bob,
        instance,
        JSON_V2,
        (got) => got.some((r) => r.key === marker),
        60_000,
      );
      assert.ok(
        records.some((r) => r.key === marker),
        'bob reads what alice wrote',
      );
    } finally {
      await api('DELETE', instance, { token: bob, contentType: 'application/vnd.kafka.v2+json' });
    }

    const denied = await api('POST', '/topics/orders.eu', {
      token: await accessToken('mallory'),
      contentType: JSON_V2,
      body: { records: [{ value: { marker } }] },
    });
    assert.equal(denied.status, 403, denied.text);
  });

  // Issue 11: with scope=openid Keycloak also returns an ID token carrying the same audience.
  it('refuses a Keycloak ID token and accepts the access token from the same answer', async () => {
    const answer = await keycloakToken('alice', 'openid');
    assert.ok(answer.id_token, 'Keycloak returned an ID token');
    const refused = await api('GET', '/topics', { token: answer.id_token });
    assert.equal(refused.status, 401, refused.text);
    assert.match(refused.headers.get('www-authenticate') ?? '', /invalid_token/);
    const allowed = await api('GET', '/topics', { token: answer.access_token });
    assert.equal(allowed.status, 200, allowed.text);
  });

  it('keeps a consumer reading across short-lived token generations', async () => {
    // carol's tokens live 15 s (Keycloak's per-client access.token.lifespan).
    await setClientAttribute('carol', 'access.token.lifespan', '15');
    try {
      let token = await keycloakToken('carol');
      assert.ok(token.expires_in <= 15, `expected a short lifespan, got ${token.expires_in}`);
      const instance = await createConsumer(token.access_token, `carol-kc-${Date.now()}`, {
        format: 'json',
        'auto.offset.reset': 'latest',
      });
      const subscribed = await api('POST', `${instance}/subscription`, {
        token: token.access_token,
        contentType: 'application/vnd.kafka.v2+json',
        body: { topics: ['orders.us'] },
      });
      assert.equal(subscribed.status, 204, subscribed.text);
      await pollUntil(token.access_token, instance, JSON_V2, 0, 2000);
      const seen = new Set<string>();
      for (let generation = 0; generation < 3; generation++) {
        const marker = `gen-${generation}-${Date.now()}`;
        const produced = await api('POST', '/topics/orders.us', {
          token: token.access_token,
          contentType: JSON_V2,
          body: { records: [{ key: marker, value: { generation } }] },
        });
        assert.equal(produced.status, 200, produced.text);
        const records = await pollUntil(token.access_token, instance, JSON_V2, (got) =>
          got.some((r) => r.key === marker),
        );
        for (const record of records) seen.add(record.key);
        assert.ok(seen.has(marker), `generation ${generation}: record read`);
        // Wait into the next token's life, then take a new one, as a client would.
        await sleep(token.expires_in * 1000 - 4000);
        token = await keycloakToken('carol');
      }
      await api('DELETE', instance, {
        token: token.access_token,
        contentType: 'application/vnd.kafka.v2+json',
      });
    } finally {
      await setClientAttribute('carol', 'access.token.lifespan', '');
    }
  });

  // Issue 11: a new key must work at its first use; a disabled key must stop within jwksRefreshSec.
  it('accepts a new realm key at first use, and refuses the disabled old key within the refresh bound', async () => {
    const oldToken = await accessToken('alice');
    const oldKid = decodeProtectedHeader(oldToken).kid;
    assert.equal((await api('GET', '/topics', { token: oldToken })).status, 200);

    const realm = (await (await admin('GET', '')).json()) as { id: string };
    const rotatedName = `rotated-rsa-${Date.now()}`;
    await admin('POST', '/components', {
      name: rotatedName,
      providerId: 'rsa-generated',
      providerType: 'org.keycloak.keys.KeyProvider',
      parentId: realm.id,
      config: {
        priority: ['500'],
        enabled: ['true'],
        active: ['true'],
        keySize: ['2048'],
        algorithm: ['RS256'],
      },
    });
    const newToken = await accessToken('alice');
    const newKid = decodeProtectedHeader(newToken).kid;
    assert.notEqual(newKid, oldKid, 'Keycloak signs with the new key');
    const first = await api('GET', '/topics', { token: newToken });
    assert.equal(first.status, 200, `first use of the new key: ${first.text}`);

    const components = (await (
      await admin('GET', `/components?parent=${realm.id}&type=org.keycloak.keys.KeyProvider`)
    ).json()) as Component[];
    const oldProviders = components.filter(
      (c) => c.providerId === 'rsa-generated' && c.name !== rotatedName && c.config.enabled?.[0] !== 'false',
    );
    assert.ok(oldProviders.length > 0, 'the realm has its earlier RSA key');
    for (const provider of oldProviders) {
      await admin('PUT', `/components/${provider.id}`, {
        ...provider,
        config: { ...provider.config, enabled: ['false'] },
      });
    }
    const disabledAt = Date.now();
    let refusedAfterMs = -1;
    while (Date.now() - disabledAt < (JWKS_REFRESH_SEC + 30) * 1000) {
      const res = await api('GET', '/topics', { token: oldToken });
      if (res.status === 401) {
        refusedAfterMs = Date.now() - disabledAt;
        break;
      }
      assert.equal(res.status, 200, res.text);
      await sleep(500);
    }
    assert.ok(refusedAfterMs >= 0, 'the old key was never refused');
    // The documented bound is jwksRefreshSec; a few seconds of slack for a fetch on a loaded machine.
    assert.ok(
      refusedAfterMs <= (JWKS_REFRESH_SEC + 5) * 1000,
      `refused after ${refusedAfterMs} ms, bound ${JWKS_REFRESH_SEC} s`,
    );
    assert.equal((await api('GET', '/topics', { token: await accessToken('alice') })).status, 200);
  });

  // Issue 11: a token Tollgate accepts and Kafka refuses gets 401, not 503.
  describe('when the broker refuses a token Tollgate accepted', () => {
    let proc: ChildProcess | null = null;
    let base = '';
    let mapperId = '';

    before(async () => {
      // carol's tokens now name only "tollgate-only", which this Tollgate trusts and Kafka does not.
      const carol = await clientByName('carol');
      const mappers = (await (
        await admin('GET', `/clients/${carol.id}/protocol-mappers/models`)
      ).json()) as Array<{
        id: string;
        config: Record<string, string>;
      }>;
      const audience = mappers.find((m) => m.config['included.custom.audience'] === stackValue('AUDIENCE'));
      assert.ok(audience);
      mapperId = audience.id;
      await admin('PUT', `/clients/${carol.id}/protocol-mappers/models/${audience.id}`, {
        ...audience,
        config: { ...audience.config, 'included.custom.audience': 'tollgate-only' },
      });

      const dir = mkdtempSync(join(tmpdir(), 'tollgate-kc-refusal-'));
      const [restPort, metricsPort] = await Promise.all([freePort(), freePort()]);
      const config = {
        issuers: [
          { issuer: ISSUER, audiences: [stackValue('AUDIENCE'), 'tollgate-only'], principalClaim: 'azp' },
        ],
        acl: { file: join(stackValue('STACK_DIR'), 'acl.yaml') },
        rest: { listen: `127.0.0.1:${restPort}` },
        metrics: { listen: `127.0.0.1:${metricsPort}` },
        kafka: { brokers: [stackValue('KAFKA_BOOTSTRAP')] },
        log: { level: 'warn' },
      };
      writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
      proc = spawn(process.execPath, ['bin/tollgate.js', 'rest', '--config', join(dir, 'config.json')], {
        stdio: 'inherit',
      });
      base = `http://127.0.0.1:${restPort}`;
      for (let i = 0; i < 300; i++) {
        if (
          await fetch(`${base}/_health`).then(
            (r) => r.ok,
            () => false,
          )
        )
          return;
        await sleep(100);
      }
      throw new Error('tollgate rest did not start');
    });

    after(async () => {
      proc?.kill('SIGTERM');
      const carol = await clientByName('carol');
      const model = (await (
        await admin('GET', `/clients/${carol.id}/protocol-mappers/models/${mapperId}`)
      ).json()) as {
        config: Record<string, string>;
      };
      await admin('PUT', `/clients/${carol.id}/protocol-mappers/models/${mapperId}`, {
        ...model,
        config: { ...model.config, 'included.custom.audience': stackValue('AUDIENCE') },
      });
    });

    it('answers 401 invalid_token', async () => {
      const token = await accessToken('carol');
      const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
      const audiences = [claims.aud].flat();
      assert.ok(
        audiences.includes('tollgate-only') && !audiences.includes(stackValue('AUDIENCE')),
        audiences.join(),
      );
      const res = await api('GET', '/topics', { base, token });
      assert.equal(res.status, 401, res.text);
      assert.match(res.headers.get('www-authenticate') ?? '', /invalid_token/);
    });
  });
});
