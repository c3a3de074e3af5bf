import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { base64url, type CryptoKey, exportJWK, generateKeyPair, type JWK } from 'jose';

/**
 * A real (if tiny) identity provider for unit tests: keys generated at test
 * time, a JWKS and an OIDC discovery document served over HTTP on 127.0.0.1,
 * and a signer that writes any header and payload — including the hostile
 * ones a real IdP would never produce. Test support only; nothing imports it
 * outside `*.test.ts`.
 */

export type TestAlg = 'RS256' | 'ES256';

export interface TestKey {
  readonly kid: string;
  readonly alg: TestAlg;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly publicJwk: JWK;
}

const SIGN_PARAMS: Record<TestAlg, Parameters<typeof crypto.subtle.sign>[0]> = {
  RS256: { name: 'RSASSA-PKCS1-v1_5' },
  ES256: { name: 'ECDSA', hash: 'SHA-256' },
};

/** Generates a signing key pair; the public half is published as a JWK. */
export async function createTestKey(kid: string, alg: TestAlg = 'RS256'): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, publicJwk };
}

/** base64url of the JSON (or the string as-is): for hand-built segments. */
export function encodeSegment(value: unknown): string {
  return base64url.encode(typeof value === 'string' ? value : JSON.stringify(value));
}

/** Signs `header.payload` exactly as given; the header is not completed or checked. */
export async function signToken(
  header: Record<string, unknown>,
  payload: Record<string, unknown> | string,
  key: Pick<TestKey, 'alg' | 'privateKey'>,
): Promise<string> {
  const signingInput = `${encodeSegment(header)}.${encodeSegment(payload)}`;
  const signature = await crypto.subtle.sign(
    SIGN_PARAMS[key.alg],
    key.privateKey,
    new TextEncoder().encode(signingInput),
  );
  return `${signingInput}.${base64url.encode(new Uint8Array(signature))}`;
}

export class TestIdp {
  readonly requests: string[];
  issuer: string;
  /** Overrides the discovery document's `issuer` (to test a mismatch). */
  discoveryIssuer: string | undefined;
  /** When set, the JWKS endpoint answers with this status and no keys. */
  jwksStatus: number | undefined;
  /** When set, the JWKS endpoint answers 200 with this raw body. */
  jwksBody: string | undefined;
  /** When set, the JWKS answer carries this Cache-Control header. */
  cacheControl: string | undefined;
  readonly #server: Server;
  #keys: TestKey[];
  #port: number;

  constructor() {
    this.requests = [];
    this.issuer = '';
    this.discoveryIssuer = undefined;
    this.jwksStatus = undefined;
    this.jwksBody = undefined;
    this.cacheControl = undefined;
    this.#keys = [];
    this.#port = 0;
    this.#server = createServer((req, res) => this.#handle(req, res));
  }

  static async start(realm = 'test'): Promise<TestIdp> {
    const idp = new TestIdp();
    await idp.listen(0, realm);
    return idp;
  }

  async listen(port: number, realm: string): Promise<void> {
    this.#server.listen(port, '127.0.0.1');
    await once(this.#server, 'listening');
    this.#port = (this.#server.address() as AddressInfo).port;
    this.issuer = `http://127.0.0.1:${this.#port}/realms/${realm}`;
  }

  /** Listens again on the port it had before close(): an IdP restart. */
  async restart(): Promise<void> {
    await this.listen(this.#port, new URL(this.issuer).pathname.split('/').at(-1)!);
  }

  get jwksUrl(): string {
    return `${this.issuer}/protocol/openid-connect/certs`;
  }

  get discoveryUrl(): string {
    return `${this.issuer}/.well-known/openid-configuration`;
  }

  countRequests(suffix: string): number {
    return this.requests.filter((path) => path.endsWith(suffix)).length;
  }

  publish(...keys: TestKey[]): void {
    this.#keys.push(...keys);
  }

  withdraw(kid: string): void {
    this.#keys = this.#keys.filter((key) => key.kid !== kid);
  }

  async close(): Promise<void> {
    if (!this.#server.listening) return;
    const closed = once(this.#server, 'close');
    this.#server.close();
    this.#server.closeAllConnections();
    await closed;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/';
    this.requests.push(path);
    const prefix = new URL(this.issuer).pathname;
    if (path === `${prefix}/.well-known/openid-configuration`) {
      this.#json(res, 200, {
        issuer: this.discoveryIssuer ?? this.issuer,
        jwks_uri: this.jwksUrl,
        id_token_signing_alg_values_supported: ['RS256', 'ES256'],
      });
    } else if (path === `${prefix}/protocol/openid-connect/certs`) {
      if (this.jwksStatus !== undefined) this.#json(res, this.jwksStatus, { error: 'unavailable' });
      else if (this.jwksBody !== undefined)
        res.writeHead(200, { 'content-type': 'application/json' }).end(this.jwksBody);
      else {
        if (this.cacheControl !== undefined) res.setHeader('cache-control', this.cacheControl);
        this.#json(res, 200, { keys: this.#keys.map((key) => key.publicJwk) });
      }
    } else {
      this.#json(res, 404, { error: 'not found' });
    }
  }

  #json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }
}
