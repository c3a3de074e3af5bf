import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

/**
 * A small OAuth2 / OIDC issuer for development and tests: discovery, JWKS, and the
 * client_credentials grant minting JWT access tokens (RFC 9068 `at+jwt`). Keys are
 * generated at start-up and live only in memory. Not for production.
 */

export type SigningAlg = 'RS256' | 'ES256';

export interface DevClient {
  readonly id: string;
  readonly secret: string;
  /** Extra claims every token of this client carries (e.g. preferred_username). */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** Default lifetime of this client's tokens. */
  readonly ttlSec?: number;
}

export interface IssuerOptions {
  readonly host: string;
  readonly port: number;
  readonly audience: string;
  readonly clients: readonly DevClient[];
  readonly defaultTtlSec: number;
  readonly defaultAlg: SigningAlg;
  /** Public base URL; defaults to http(s)://host:port. */
  readonly issuerUrl?: string;
  /** PEM certificate chain and key: serve HTTPS (as IdPs do, often under a private CA). */
  readonly tls?: { readonly cert: string; readonly key: string };
}

interface SigningKey {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

const MAX_TTL_SEC = 24 * 3600;
const MAX_FORM_BYTES = 16 * 1024;

async function createSigningKey(alg: SigningAlg): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`;
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicJwk };
}

function secretsMatch(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  extra: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...extra });
  res.end(text);
}

function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_FORM_BYTES) {
        reject(new Error('form too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

/** Parses `30`, `30s`, `5m`, `1h` into seconds; null when unparsable. */
export function parseDurationSec(text: string): number | null {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]);
  switch (m[2]) {
    case 'ms':
      return Math.ceil(n / 1000);
    case 'm':
      return n * 60;
    case 'h':
      return n * 3600;
    default:
      return n;
  }
}

export class DevIssuer {
  readonly options: IssuerOptions;
  private readonly keys: SigningKey[] = [];
  private readonly retired: SigningKey[] = [];
  private server: Server | null = null;
  /** Counts JWKS fetches, so tests can see when a verifier refreshed. */
  jwksFetches = 0;
  /** When true the JWKS endpoint answers 503 (outage drills in tests). */
  jwksDown = false;

  constructor(options: IssuerOptions) {
    this.options = options;
  }

  /** The issuer URL (`iss`); with port 0 it names the port actually bound once started. */
  get url(): string {
    const scheme = this.options.tls ? 'https' : 'http';
    return this.options.issuerUrl ?? `${scheme}://${this.options.host}:${this.port}`;
  }

  async start(): Promise<void> {
    this.keys.push(await createSigningKey('RS256'), await createSigningKey('ES256'));
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch(() => sendJson(res, 500, { error: 'server_error' }));
    };
    const tls = this.options.tls;
    const server: Server = tls
      ? createTlsServer({ cert: tls.cert, key: tls.key }, handler)
      : createServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => resolve());
    });
    this.server = server;
  }

  get port(): number {
    const address = this.server?.address();
    return typeof address === 'object' && address ? address.port : this.options.port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Adds a fresh key for `alg` that signs from now on; the old one stays published. */
  async rotate(alg: SigningAlg): Promise<string> {
    const key = await createSigningKey(alg);
    const old = this.keys.findIndex((k) => k.alg === alg);
    if (old >= 0) this.retired.push(...this.keys.splice(old, 1));
    this.keys.unshift(key);
    return key.kid;
  }

  /** Stops publishing retired keys (the second half of a rotation). */
  dropRetiredKeys(): void {
    this.retired.length = 0;
  }

  jwks(): { keys: JWK[] } {
    return { keys: [...this.keys, ...this.retired].map((k) => k.publicJwk) };
  }

  /** Mints an access token for a client without the HTTP round trip (tests, benchmarks). */
  async mint(
    clientId: string,
    opts: {
      ttlSec?: number;
      alg?: SigningAlg;
      claims?: Record<string, unknown>;
      scope?: string;
      audience?: string;
      /** RFC 8705 §3.1: bind the token to the client certificate with this SHA-256 thumbprint. */
      x5tS256?: string;
    } = {},
  ): Promise<string> {
    const client = this.options.clients.find((c) => c.id === clientId);
    const alg = opts.alg ?? this.options.defaultAlg;
    const key = this.keys.find((k) => k.alg === alg);
    if (!key) throw new Error(`no signing key for ${alg}`);
    const ttl = opts.ttlSec ?? client?.ttlSec ?? this.options.defaultTtlSec;
    const now = Math.floor(Date.now() / 1000);
    const payload: Record<string, unknown> = {
      client_id: clientId,
      ...(client?.claims ?? {}),
      ...(opts.claims ?? {}),
    };
    if (opts.scope) payload.scope = opts.scope;
    if (opts.x5tS256) payload.cnf = { 'x5t#S256': opts.x5tS256 };
    return new SignJWT(payload)
      .setProtectedHeader({ alg, kid: key.kid, typ: 'at+jwt' })
      .setIssuer(this.url)
      .setSubject(clientId)
      .setAudience(opts.audience ?? this.options.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + ttl)
      .setJti(randomUUID())
      .sign(key.privateKey);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/.well-known/openid-configuration') {
      return sendJson(res, 200, this.discovery());
    }
    if (req.method === 'GET' && path === '/.well-known/oauth-authorization-server') {
      return sendJson(res, 200, this.discovery());
    }
    if (req.method === 'GET' && path === '/jwks.json') {
      this.jwksFetches++;
      if (this.jwksDown) return sendJson(res, 503, { error: 'temporarily_unavailable' });
      return sendJson(res, 200, this.jwks(), { 'content-type': 'application/jwk-set+json' });
    }
    if (req.method === 'POST' && path === '/token') return this.token(req, res);
    if (req.method === 'GET' && path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    sendJson(res, 404, { error: 'not_found' });
  }

  private discovery(): Record<string, unknown> {
    return {
      issuer: this.url,
      jwks_uri: `${this.url}/jwks.json`,
      token_endpoint: `${this.url}/token`,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      id_token_signing_alg_values_supported: ['RS256', 'ES256'],
      response_types_supported: ['token'],
      subject_types_supported: ['public'],
    };
  }

  private async token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let form: URLSearchParams;
    try {
      form = await readForm(req);
    } catch {
      return sendJson(res, 400, { error: 'invalid_request', error_description: 'unreadable form body' });
    }
    let clientId = form.get('client_id') ?? '';
    let clientSecret = form.get('client_secret') ?? '';
    const auth = req.headers.authorization;
    if (auth?.toLowerCase().startsWith('basic ')) {
      const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) {
        clientId = decodeURIComponent(decoded.slice(0, colon));
        clientSecret = decodeURIComponent(decoded.slice(colon + 1));
      }
    }
    const client = this.options.clients.find((c) => c.id === clientId);
    if (!client || !secretsMatch(client.secret, clientSecret)) {
      return sendJson(
        res,
        401,
        { error: 'invalid_client' },
        { 'www-authenticate': 'Basic realm="dev-issuer"' },
      );
    }
    if (form.get('grant_type') !== 'client_credentials') {
      return sendJson(res, 400, { error: 'unsupported_grant_type' });
    }
    // Dev extensions: `ttl` (seconds or 30s/5m), `alg`, and repeated `claim=key=value`.
    let ttlSec: number | undefined;
    const ttlText = form.get('ttl');
    if (ttlText !== null) {
      const parsed = parseDurationSec(ttlText);
      if (parsed === null || parsed < 1 || parsed > MAX_TTL_SEC) {
        return sendJson(res, 400, { error: 'invalid_request', error_description: 'ttl: expected 1s..24h' });
      }
      ttlSec = parsed;
    }
    const alg = form.get('alg') ?? undefined;
    if (alg !== undefined && alg !== 'RS256' && alg !== 'ES256') {
      return sendJson(res, 400, {
        error: 'invalid_request',
        error_description: 'alg: expected RS256 or ES256',
      });
    }
    const claims: Record<string, unknown> = {};
    for (const pair of form.getAll('claim')) {
      const eq = pair.indexOf('=');
      if (eq <= 0)
        return sendJson(res, 400, {
          error: 'invalid_request',
          error_description: 'claim: expected key=value',
        });
      const key = pair.slice(0, eq);
      if (['iss', 'aud', 'exp', 'iat', 'jti'].includes(key)) {
        return sendJson(res, 400, {
          error: 'invalid_request',
          error_description: `claim: ${key} is set by the issuer`,
        });
      }
      claims[key] = pair.slice(eq + 1);
    }
    const scope = form.get('scope') ?? undefined;
    // Dev extension for negative tests: a token for another audience.
    const audience = form.get('audience') ?? undefined;
    // Dev extension: a certificate-bound token (RFC 8705) for the certificate with this
    // thumbprint. A real IdP takes it from the mutual-TLS connection to its token endpoint.
    const x5tS256 = form.get('cnf_x5t_s256') ?? undefined;
    if (x5tS256 !== undefined && !/^[A-Za-z0-9_-]{43}$/.test(x5tS256)) {
      return sendJson(res, 400, {
        error: 'invalid_request',
        error_description: 'cnf_x5t_s256: expected a base64url SHA-256 thumbprint',
      });
    }
    const token = await this.mint(client.id, { ttlSec, alg, claims, scope, audience, x5tS256 });
    const expiresIn = ttlSec ?? client.ttlSec ?? this.options.defaultTtlSec;
    sendJson(res, 200, {
      access_token: token,
      token_type: 'Bearer',
      expires_in: expiresIn,
      ...(scope ? { scope } : {}),
    });
  }
}
