import { z } from 'zod';

/**
 * The one configuration file, as a schema. Every key has a default except the
 * issuers; names here are the names of the Helm values and (SCREAMING_SNAKE with a
 * TOLLGATE_ prefix) of the environment overrides.
 */

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:8082');

const asymmetricAlg = z.enum([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
]);

const issuerSchema = z
  .object({
    /** Exact `iss` value. */
    issuer: z.url({ message: 'expected the issuer URL, e.g. https://idp.example.com/realms/kafka' }),
    /** OIDC discovery document; default `<issuer>/.well-known/openid-configuration`. */
    discoveryUrl: z.url().optional(),
    /** JWKS URL; when set, discovery is skipped. */
    jwksUrl: z.url().optional(),
    /** Accepted `aud` values; the token must name at least one. */
    audiences: z.array(z.string().min(1)).min(1, 'expected at least one audience'),
    algorithms: z.array(asymmetricAlg).min(1).default(['RS256', 'ES256']),
    /** Claim whose value is the principal; dotted paths walk nested objects. */
    principalClaim: z
      .string()
      .regex(/^[^.]+(\.[^.]+)*$/, 'expected a claim name, or names separated by single dots')
      .default('sub'),
    /** When set, the JWT header `typ` must equal this (e.g. `at+jwt`, RFC 9068). */
    requiredType: z.string().min(1).optional(),
    /** Scopes (space-separated `scope` claim, or `scp` array) every token must carry. */
    requiredScopes: z.array(z.string().min(1)).default([]),
    /**
     * access: refuse ID tokens and other non-access tokens (docs/identity-providers.md).
     * any: accept any signed token of this issuer (Google, whose only JWTs are ID tokens).
     */
    tokenUse: z.enum(['access', 'any']).default('access'),
    /**
     * PEM file of the CA(s) that sign this issuer's HTTPS certificate (discovery and JWKS):
     * trusted for this issuer only, instead of the system store. Its URLs must be https.
     */
    caFile: z.string().min(1).optional(),
    /**
     * RFC 8705 certificate-bound tokens: `off` ignores `cnf`; `if-present` requires the client
     * certificate named by a token's `cnf.x5t#S256` (unbound tokens pass); `required` refuses
     * unbound tokens too. Needs client TLS at Envoy (include_peer_certificate).
     */
    certificateBinding: z.enum(['off', 'if-present', 'required']).default('off'),
  })
  .strict();

export const configSchema = z
  .object({
    /** enforce: deny what the ACLs do not allow. audit: decide, log and count, but allow. */
    mode: z.enum(['enforce', 'audit']).default('enforce'),
    /** false: authenticate only (Karapace's kafka_rest_authorization=false on the ACL side). */
    authorization: z.boolean().default(true),
    issuers: z
      .array(issuerSchema)
      .min(1, 'expected at least one trusted issuer')
      // Here rather than after parsing, so a duplicate is reported with every other problem.
      .superRefine((issuers, ctx) => {
        const seen = new Set<string>();
        issuers.forEach((issuer, i) => {
          if (seen.has(issuer.issuer)) {
            ctx.addIssue({
              code: 'custom',
              path: [i, 'issuer'],
              message: `${issuer.issuer} is listed twice`,
            });
          }
          seen.add(issuer.issuer);
        });
      }),
    jwt: z
      .object({
        clockSkewSec: z.number().int().min(0).max(300).default(30),
        maxTokenBytes: z.number().int().min(512).max(65536).default(8192),
        cacheMaxEntries: z.number().int().min(0).default(10000),
        jwksTimeoutMs: z.number().int().min(100).default(5000),
        /**
         * Floor between JWKS fetches for an unknown `kid` (protects the IdP). A lookup inside
         * the floor after a success waits for it, so keep it short (issue 11).
         */
        jwksCooldownSec: z.number().int().min(0).max(10).default(2),
        /**
         * Background JWKS refresh; also the bound on how long a key the IdP stopped publishing
         * stays trusted. Shorter than token lifetimes (Keycloak's default is 300 s).
         */
        jwksRefreshSec: z.number().int().min(10).default(60),
      })
      .strict()
      .prefault({}),
    acl: z
      .object({
        /** ACL and service-user file (YAML); reloaded when it changes. */
        file: z.string().min(1).default('/etc/tollgate/acl.yaml'),
        reloadCheckMs: z.number().int().min(100).default(2000),
      })
      .strict()
      .prefault({}),
    authz: z
      .object({
        grpcListen: hostPort.default('0.0.0.0:9191'),
        /**
         * Loopback by default: /auth answers for anyone who can reach it. Open it (0.0.0.0) only
         * for kubelet probes or a proxy in another container (the chart does).
         */
        httpListen: hostPort.default('127.0.0.1:9192'),
        principalHeader: z
          .string()
          .regex(/^[a-z0-9-]+$/)
          .default('x-tollgate-principal'),
        logAllows: z.boolean().default(false),
        /**
         * Checks worked on at once; above it a Check is refused at once with gRPC UNAVAILABLE
         * (Envoy answers its status_on_error) instead of queueing. 0: no limit.
         */
        maxConcurrentChecks: z.number().int().min(0).default(1024),
        /**
         * HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS of the gRPC listener: calls one client
         * connection may have open at once; past it the client (Envoy, grpc-go) holds further
         * Checks on its side. 0: no limit (grpc-js's default). Off by default: Node counts a
         * finished stream until a later event-loop turn, so near the limit on a busy process
         * it refuses streams the client may open (RST_STREAM ENHANCE_YOUR_CALM) and, after 100
         * of them, closes the connection (bench/findings.md, issue #14). In production Envoy's
         * circuit breaker on the authz cluster bounds the Checks in flight instead.
         */
        maxConcurrentStreams: z.number().int().min(0).default(0),
      })
      .strict()
      .prefault({}),
    metrics: z
      .object({
        listen: hostPort.default('0.0.0.0:9090'),
      })
      .strict()
      .prefault({}),
    rest: z
      .object({
        listen: hostPort.default('127.0.0.1:8082'),
        /** Prefix of consumer `base_uri`s; empty gives the relative `consumers/...` path. */
        baseUri: z.string().default(''),
        bodyLimitBytes: z.number().int().min(1024).default(1048576),
        consumerRequestTimeoutMs: z.number().int().min(0).default(11000),
        consumerRequestMaxBytes: z.number().int().min(1).default(67108864),
        consumerBufferMaxBytes: z.number().int().min(1024).default(8388608),
        metadataMaxAgeMs: z.number().int().min(0).default(5000),
        shutdownTimeoutMs: z.number().int().min(0).default(20000),
        /**
         * Requests in flight at once (long-polling record fetches included); above it a request
         * is answered 503 with Retry-After before its body is read. 0: no limit.
         */
        maxInFlightRequests: z.number().int().min(0).default(1024),
        /** Retry-After (seconds) on a request refused for overload. */
        overloadRetryAfterSec: z.number().int().min(1).max(3600).default(1),
      })
      .strict()
      .prefault({}),
    /**
     * Every HTTP listener (REST, authz HTTP, metrics). Issue 9: a slow client must not hold a
     * connection longer than the header and request timeouts; the keep-alive timeout must stay
     * above the idle timeout of Envoy's upstream pool, so Envoy always closes first.
     */
    http: z
      .object({
        headersTimeoutMs: z.number().int().min(1000).default(10000),
        requestTimeoutMs: z.number().int().min(1000).default(30000),
        keepAliveTimeoutMs: z.number().int().min(1000).default(75000),
      })
      .strict()
      .prefault({}),
    /**
     * SIGTERM: readiness turns false, then for `drainDelayMs` everything keeps serving (REST
     * answers `Connection: close`) while Envoy drains, asked to by `envoyAdminUrl` when set;
     * then the listeners close, requests in flight finish and sessions flush and close.
     */
    shutdown: z
      .object({
        drainDelayMs: z.number().int().min(0).default(0),
        envoyAdminUrl: z.url().optional(),
      })
      .strict()
      .prefault({}),
    kafka: z
      .object({
        brokers: z.array(hostPort).min(1, 'expected host:port[,host:port]').default(['127.0.0.1:9092']),
        clientId: z.string().min(1).default('tollgate'),
        ssl: z.boolean().default(false),
        caFile: z.string().optional(),
        connectionTimeoutMs: z.number().int().min(100).default(3000),
        requestTimeoutMs: z.number().int().min(100).default(30000),
        /** When authorization is off: Tollgate's own identity for the shared session. */
        serviceAccount: z
          .object({
            mechanism: z
              .enum(['oauthbearer', 'plain', 'scram-sha-256', 'scram-sha-512'])
              .default('oauthbearer'),
            tokenUrl: z.url().optional(),
            clientId: z.string().optional(),
            clientSecretFile: z.string().optional(),
            username: z.string().optional(),
            passwordFile: z.string().optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .prefault({}),
    schemaRegistry: z
      .object({
        /** Confluent-compatible schema registry (Karapace, Confluent); empty: schema formats answer 40801. */
        url: z.union([z.literal(''), z.url()]).default(''),
        /** Basic auth user for the registry; empty: none. */
        username: z.string().default(''),
        /** File holding the basic auth password (a mounted Secret). */
        passwordFile: z.string().default(''),
        /**
         * Send the caller's own bearer token to the registry instead of basic auth, so the
         * registry's ACLs apply to the caller (Karapace with OIDC auth, Confluent with OAuth).
         */
        forwardBearer: z.boolean().default(false),
        timeoutMs: z.number().int().min(100).default(10000),
        /** Subject of a schema (Karapace's name_strategy): <topic>-<key|value>, the record's name, or both. */
        nameStrategy: z.enum(['topic_name', 'record_name', 'topic_record_name']).default('topic_name'),
        /** A *_schema_id must be registered under the subject the strategy names (name_strategy_validation). */
        nameStrategyValidation: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    sessions: z
      .object({
        sweepIntervalSec: z.number().int().min(1).default(300),
        idleTimeoutSec: z.number().int().min(1).default(300),
        /**
         * Idle close of consumer instances and of the sessions holding them; 0 = never, which is
         * Karapace's default (consumer_idle_disconnect_timeout). Ours is 300 s, so an abandoned
         * instance does not keep its session and group membership forever.
         */
        consumerIdleTimeoutSec: z.number().int().min(0).default(300),
        /**
         * Close a session this long before its newest token's `exp`. At least 2: kafkajs
         * re-authenticates connections at half this margin before their session ends.
         */
        expiryMarginSec: z.number().int().min(2).default(5),
        maxSessions: z.number().int().min(1).default(1000),
        /** A guard against leaks, not a quota: Karapace has no cap, and clients keep dozens. */
        maxConsumersPerPrincipal: z.number().int().min(1).default(1000),
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type IssuerConfig = Config['issuers'][number];
export type JwtConfig = Config['jwt'];
