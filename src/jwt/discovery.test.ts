import assert from 'node:assert/strict';
import { TestIdp } from '../../test/support/test-idp.ts';
import { isServiceError } from '../errors.ts';
import { defaultDiscoveryUrl, discoverJwksUrl } from './discovery.ts';

const signal = () => AbortSignal.timeout(2000);

function answering(status: number, body: string): typeof fetch {
  return async () => new Response(body, { status });
}

async function discoveryCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return isServiceError(err) ? err.code : 'not a ServiceError';
  }
}

describe('defaultDiscoveryUrl', () => {
  it('appends the well-known path to the issuer', () => {
    assert.equal(
      defaultDiscoveryUrl('https://idp.example.com/realms/kafka'),
      'https://idp.example.com/realms/kafka/.well-known/openid-configuration',
    );
  });

  it('does not double a trailing slash', () => {
    assert.equal(
      defaultDiscoveryUrl('https://idp.example.com/'),
      'https://idp.example.com/.well-known/openid-configuration',
    );
  });
});

describe('discoverJwksUrl', () => {
  let idp: TestIdp;

  before(async () => {
    idp = await TestIdp.start();
  });

  after(() => idp.close());

  afterEach(() => {
    idp.discoveryIssuer = undefined;
  });

  it("returns the document's jwks_uri", async () => {
    const url = await discoverJwksUrl(idp.issuer, idp.discoveryUrl, fetch, signal());
    assert.equal(url.href, idp.jwksUrl);
  });

  it('refuses a document whose issuer differs from the configured one', async () => {
    idp.discoveryIssuer = 'https://attacker.example/realms/test';
    assert.equal(
      await discoveryCode(discoverJwksUrl(idp.issuer, idp.discoveryUrl, fetch, signal())),
      'JWKS_UNAVAILABLE',
    );
  });

  it('refuses a document whose issuer differs only by a trailing slash', async () => {
    idp.discoveryIssuer = `${idp.issuer}/`;
    assert.equal(
      await discoveryCode(discoverJwksUrl(idp.issuer, idp.discoveryUrl, fetch, signal())),
      'JWKS_UNAVAILABLE',
    );
  });

  const broken: Array<[name: string, status: number, body: string]> = [
    ['an HTTP error', 503, '{}'],
    ['a body that is not JSON', 200, '<html>'],
    ['a JSON array', 200, '[]'],
    ['a missing jwks_uri', 200, JSON.stringify({ issuer: 'https://idp.example.com' })],
    [
      'a jwks_uri that is not http(s)',
      200,
      JSON.stringify({ issuer: 'https://idp.example.com', jwks_uri: 'file:///etc/passwd' }),
    ],
    [
      'a jwks_uri that is not a URL',
      200,
      JSON.stringify({ issuer: 'https://idp.example.com', jwks_uri: 'not a url' }),
    ],
  ];
  for (const [name, status, body] of broken) {
    it(`fails with JWKS_UNAVAILABLE on ${name}`, async () => {
      const discovery = discoverJwksUrl(
        'https://idp.example.com',
        'https://idp.example.com/d',
        answering(status, body),
        signal(),
      );
      assert.equal(await discoveryCode(discovery), 'JWKS_UNAVAILABLE');
    });
  }

  it('fails with JWKS_UNAVAILABLE when nothing listens', async () => {
    const closed = await TestIdp.start();
    await closed.close();
    assert.equal(
      await discoveryCode(discoverJwksUrl(closed.issuer, closed.discoveryUrl, fetch, signal())),
      'JWKS_UNAVAILABLE',
    );
  });
});
