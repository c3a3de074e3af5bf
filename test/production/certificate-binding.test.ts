import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { certificateThumbprint } from '../../src/jwt/certificate-binding.ts';
import { tokenFor } from '../integration/stack-env.ts';
import { type Client, createClient, metricValue, tlsFile } from './prod-stack.ts';

// Issue 13, RFC 8705: through Envoy's TLS listener with real client certificates. The
// production profile's issuer runs with certificateBinding: if-present.

describe('production profile: certificate-bound tokens through Envoy (issue 13)', function () {
  this.timeout(60_000);
  let own: Client;
  let other: Client;
  let none: Client;
  let bound: string;

  before(async () => {
    own = createClient('client-alice');
    other = createClient('client-other');
    none = createClient();
    const x5tS256 = certificateThumbprint(readFileSync(tlsFile('client-alice.pem'), 'utf8'));
    bound = await tokenFor('alice', { x5tS256 });
  });

  after(() => {
    for (const client of [own, other, none]) client?.close();
  });

  it('serves a bound token over TLS with the certificate it is bound to', async () => {
    const res = await own.call('GET', '/topics', { token: bound });
    assert.equal(res.status, 200, res.text);
    assert.ok(Array.isArray(res.json));
  });

  it('produces with a bound token: the REST process sees the same certificate (XFCC from Envoy)', async () => {
    const res = await own.call('POST', '/topics/orders.eu', {
      token: bound,
      body: { records: [{ key: 'bound', value: { bound: true } }] },
    });
    assert.equal(res.status, 200, res.text);
  });

  it('refuses the same token replayed with another client certificate: 401 invalid_token, its own code', async () => {
    const before = await metricValue(
      'tollgate_authz_decisions_total',
      'result="deny",reason="JWT_CERT_BINDING_FAILED"',
    );
    const res = await other.call('GET', '/topics', { token: bound });
    assert.equal(res.status, 401);
    assert.match(String(res.headers['www-authenticate']), /error="invalid_token"/);
    const after = await metricValue(
      'tollgate_authz_decisions_total',
      'result="deny",reason="JWT_CERT_BINDING_FAILED"',
    );
    assert.equal(after, before + 1);
  });

  it('refuses the bound token without any client certificate', async () => {
    const res = await none.call('GET', '/topics', { token: bound });
    assert.equal(res.status, 401);
  });

  it('accepts an unbound token with or without a client certificate (if-present)', async () => {
    const plain = await tokenFor('alice');
    assert.equal((await none.call('GET', '/topics', { token: plain })).status, 200);
    assert.equal((await other.call('GET', '/topics', { token: plain })).status, 200);
  });

  it('ignores a client-sent x-forwarded-client-cert: Envoy replaces it', async () => {
    const hex = Buffer.from(
      certificateThumbprint(readFileSync(tlsFile('client-alice.pem'), 'utf8'))!,
      'base64url',
    ).toString('hex');
    const res = await none.call('GET', '/topics', {
      token: bound,
      headers: { 'x-forwarded-client-cert': `Hash=${hex}` },
    });
    assert.equal(res.status, 401);
  });
});
