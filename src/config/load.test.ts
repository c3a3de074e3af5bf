import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, configPath, envNameFor, loadConfig, parseConfig } from './load.ts';

const ISSUER = { issuer: 'https://idp.example.com/realms/kafka', audiences: ['kafka'] };
const MINIMAL = { issuers: [ISSUER] };

type Env = Record<string, string>;

/** The problems parseConfig reports, or [] when it accepts the input. */
function problemsOf(raw: unknown, env: Env = {}): readonly string[] {
  try {
    parseConfig(raw, env);
    return [];
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
}

/**
 * Each expected problem is the field it names (what comes before the first `:`) and, for keys
 * zod reports on their parent, a fragment that must appear too.
 */
type Expected = readonly [field: string, mentions?: string];

function assertProblems(problems: readonly string[], expected: readonly Expected[]): void {
  assert.equal(problems.length, expected.length, `got:\n  ${problems.join('\n  ')}`);
  for (const [field, mentions] of expected) {
    const found = problems.find(
      (problem) => problem.startsWith(`${field}: `) && (mentions === undefined || problem.includes(mentions)),
    );
    assert.ok(
      found,
      `no problem for ${field}${mentions ? ` mentioning ${mentions}` : ''} in:\n  ${problems.join('\n  ')}`,
    );
  }
}

type Row = readonly [name: string, raw: unknown, env: Env, expected: readonly Expected[]];

// biome-ignore format: one line per case keeps the table readable
const BAD: readonly Row[] = [
  ['no issuers at all', {}, {}, [['issuers']]],
  ['an empty issuer list', { issuers: [] }, {}, [['issuers']]],
  ['an issuer that is not a URL', { issuers: [{ ...ISSUER, issuer: 'idp.example.com' }] }, {}, [['issuers.0.issuer']]],
  ['a JWKS URL that is not a URL', { issuers: [{ ...ISSUER, jwksUrl: 'keys please' }] }, {}, [['issuers.0.jwksUrl']]],
  ['an issuer without audiences', { issuers: [{ issuer: ISSUER.issuer }] }, {}, [['issuers.0.audiences']]],
  ['an empty audience list', { issuers: [{ ...ISSUER, audiences: [] }] }, {}, [['issuers.0.audiences']]],
  ['HMAC and none are not algorithms we accept', { issuers: [{ ...ISSUER, algorithms: ['RS256', 'HS256', 'none'] }] }, {}, [['issuers.0.algorithms.1'], ['issuers.0.algorithms.2']]],
  ['the same issuer twice', { issuers: [ISSUER, { ...ISSUER, audiences: ['other'] }] }, {}, [['issuers.1.issuer', ISSUER.issuer]]],
  ['a listen address without a port', { ...MINIMAL, authz: { grpcListen: '127.0.0.1' } }, {}, [['authz.grpcListen']]],
  ['a listen address with a path', { ...MINIMAL, metrics: { listen: 'http://0.0.0.0:9090/' } }, {}, [['metrics.listen']]],
  ['a broker that is not host:port', { ...MINIMAL, kafka: { brokers: ['127.0.0.1:9092', 'kafka'] } }, {}, [['kafka.brokers.1']]],
  ['an unknown top-level key', { ...MINIMAL, issuer: 'x' }, {}, [['(file)', '"issuer"']]],
  ['an unknown nested key', { ...MINIMAL, jwt: { clockSkew: 5 } }, {}, [['jwt', '"clockSkew"']]],
  ['an unknown key in an issuer (a typo)', { issuers: [{ ...ISSUER, audience: 'kafka' }] }, {}, [['issuers.0', '"audience"']]],
  ['an unknown mode', { ...MINIMAL, mode: 'permissive' }, {}, [['mode']]],
  ['a principal claim path with an empty segment', { issuers: [{ ...ISSUER, principalClaim: 'realm_access..username' }] }, {}, [['issuers.0.principalClaim']]],
  ['an expiry margin below the re-authentication floor', { ...MINIMAL, sessions: { expiryMarginSec: 1 } }, {}, [['sessions.expiryMarginSec']]],
  ['a number out of range', { ...MINIMAL, jwt: { clockSkewSec: 3600 } }, {}, [['jwt.clockSkewSec']]],
  ['a string where a number belongs', { ...MINIMAL, acl: { reloadCheckMs: '1s' } }, {}, [['acl.reloadCheckMs']]],
  ['an upper-case principal header', { ...MINIMAL, authz: { principalHeader: 'X-Principal' } }, {}, [['authz.principalHeader']]],
  ['authorization off without a Kafka identity', { ...MINIMAL, authorization: false }, {}, [['kafka.serviceAccount']]],
  ['an env override that is not a number', MINIMAL, { TOLLGATE_JWT_CLOCK_SKEW_SEC: 'ten' }, [['TOLLGATE_JWT_CLOCK_SKEW_SEC']]],
  ['an empty env override for a number', MINIMAL, { TOLLGATE_ACL_RELOAD_CHECK_MS: ' ' }, [['TOLLGATE_ACL_RELOAD_CHECK_MS']]],
  ['an env override that is not a boolean', MINIMAL, { TOLLGATE_AUTHZ_LOG_ALLOWS: 'yes' }, [['TOLLGATE_AUTHZ_LOG_ALLOWS']]],
  ['an env override the schema refuses names the config path', MINIMAL, { TOLLGATE_MODE: 'off' }, [['mode']]],
  // Regression: duplicates were only checked once everything else was valid.
  ['a duplicate issuer together with problems elsewhere', { issuers: [ISSUER, ISSUER, { ...ISSUER, issuer: 'nope' }], authz: { grpcListen: 'x' } }, {}, [['issuers.1.issuer', ISSUER.issuer], ['issuers.2.issuer'], ['authz.grpcListen']]],
  ['a top level that is not a mapping', ['issuers'], {}, [['(file)']]],
  [
    'every problem at once, env and file together',
    { issuers: [{ issuer: 'nope', audiences: [] }], authz: { httpListen: ':' }, extra: 1 },
    { TOLLGATE_JWT_MAX_TOKEN_BYTES: 'big', TOLLGATE_KAFKA_SSL: '1' },
    [
      ['TOLLGATE_JWT_MAX_TOKEN_BYTES'],
      ['TOLLGATE_KAFKA_SSL'],
      ['issuers.0.issuer'],
      ['issuers.0.audiences'],
      ['authz.httpListen'],
      ['(file)', '"extra"'],
    ],
  ],
];

describe('parseConfig', () => {
  describe('refuses', () => {
    for (const [name, raw, env, expected] of BAD) {
      it(name, () => assertProblems(problemsOf(raw, env), expected));
    }
  });

  it('fills every default from the issuers alone', () => {
    const config = parseConfig(MINIMAL, {});
    assert.equal(config.mode, 'enforce');
    assert.equal(config.authorization, true);
    assert.deepEqual(config.issuers[0]!.algorithms, ['RS256', 'ES256']);
    assert.equal(config.issuers[0]!.principalClaim, 'sub');
    assert.equal(config.jwt.clockSkewSec, 30);
    assert.equal(config.authz.principalHeader, 'x-tollgate-principal');
    assert.equal(config.authz.grpcListen, '0.0.0.0:9191');
  });

  it('listens for authz HTTP on loopback unless told otherwise (issue 9)', () => {
    const config = parseConfig(MINIMAL, {});
    assert.equal(config.authz.httpListen, '127.0.0.1:9192');
    assert.equal(
      parseConfig(MINIMAL, { TOLLGATE_AUTHZ_HTTP_LISTEN: '0.0.0.0:9192' }).authz.httpListen,
      '0.0.0.0:9192',
    );
  });

  it('keeps HTTP timeouts a slow client cannot ride, and no drain delay by default', () => {
    const config = parseConfig(MINIMAL, {});
    assert.equal(config.http.headersTimeoutMs, 10000);
    assert.equal(config.http.requestTimeoutMs, 30000);
    // Above Envoy's upstream idle timeout (60 s in deploy/envoy/envoy.yaml and the chart).
    assert.ok(config.http.keepAliveTimeoutMs > 60000);
    assert.equal(config.shutdown.drainDelayMs, 0);
    assert.equal(config.shutdown.envoyAdminUrl, undefined);
  });

  it('accepts IPv6 and host names as listen addresses', () => {
    const config = parseConfig(
      { ...MINIMAL, authz: { grpcListen: '[::1]:9191', httpListen: 'localhost:0' } },
      {},
    );
    assert.equal(config.authz.grpcListen, '[::1]:9191');
  });

  it('applies TOLLGATE_* overrides over the file, typed', () => {
    const config = parseConfig(
      { ...MINIMAL, mode: 'enforce', jwt: { clockSkewSec: 10 } },
      {
        TOLLGATE_MODE: 'audit',
        TOLLGATE_JWT_CLOCK_SKEW_SEC: '5',
        TOLLGATE_AUTHZ_LOG_ALLOWS: 'true',
        TOLLGATE_KAFKA_BROKERS: 'k1:9092, k2:9093,',
      },
    );
    assert.equal(config.mode, 'audit');
    assert.equal(config.jwt.clockSkewSec, 5);
    assert.equal(config.authz.logAllows, true);
    assert.deepEqual(config.kafka.brokers, ['k1:9092', 'k2:9093']);
  });

  it('does not change the object it was given', () => {
    const raw = { ...MINIMAL, jwt: { clockSkewSec: 10 } };
    parseConfig(raw, { TOLLGATE_JWT_CLOCK_SKEW_SEC: '5' });
    assert.equal(raw.jwt.clockSkewSec, 10);
  });

  it('returns a deeply frozen config', () => {
    const config = parseConfig(MINIMAL, {});
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.jwt));
    assert.ok(Object.isFrozen(config.issuers[0]!.audiences));
  });

  it('accepts authorization off with a service account', () => {
    const config = parseConfig(
      {
        ...MINIMAL,
        authorization: false,
        kafka: {
          serviceAccount: {
            tokenUrl: 'https://idp.example.com/token',
            clientId: 'tollgate',
            clientSecretFile: '/s',
          },
        },
      },
      {},
    );
    assert.equal(config.authorization, false);
  });
});

describe('envNameFor', () => {
  it('is TOLLGATE_ and the config path in SCREAMING_SNAKE', () => {
    assert.equal(envNameFor('sessions.idleTimeoutSec'), 'TOLLGATE_SESSIONS_IDLE_TIMEOUT_SEC');
    assert.equal(envNameFor('mode'), 'TOLLGATE_MODE');
  });
});

describe('loadConfig', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tollgate-config-'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function write(name: string, text: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  }

  function problemsLoading(path: string | undefined, env: Env = {}): readonly string[] {
    try {
      loadConfig(path, env);
      return [];
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return err.problems;
    }
  }

  it('reads a YAML file', async () => {
    const path = await write(
      'good.yaml',
      `issuers:\n  - issuer: ${ISSUER.issuer}\n    audiences: [kafka]\nmode: audit\n`,
    );
    const config = loadConfig(path, {});
    assert.equal(config.mode, 'audit');
    assert.equal(config.issuers[0]!.issuer, ISSUER.issuer);
  });

  it('names a file it cannot read', () => {
    const path = join(dir, 'missing.yaml');
    assertProblems(problemsLoading(path), [[path, 'ENOENT']]);
  });

  it('names a file that is not YAML', async () => {
    const path = await write('broken.yaml', 'issuers: [\n  - {\n');
    assertProblems(problemsLoading(path), [[path]]);
  });

  it('reports every problem of a bad file together, each with its field', async () => {
    const path = await write(
      'bad.yaml',
      [
        'issuers:',
        '  - issuer: not-a-url',
        '    audiences: [kafka]',
        '  - issuer: https://idp.example.com',
        '    audiences: []',
        'authz:',
        '  grpcListen: localhost',
        'acl:',
        '  fiel: /etc/acl.yaml',
        '',
      ].join('\n'),
    );
    assertProblems(problemsLoading(path, { TOLLGATE_JWT_JWKS_TIMEOUT_MS: 'soon' }), [
      ['TOLLGATE_JWT_JWKS_TIMEOUT_MS'],
      ['issuers.0.issuer'],
      ['issuers.1.audiences'],
      ['authz.grpcListen'],
      ['acl', '"fiel"'],
    ]);
  });

  it('treats an empty file as "no settings" (issuers still required)', async () => {
    const path = await write('empty.yaml', '');
    assertProblems(problemsLoading(path), [['issuers']]);
  });
});

describe('configPath', () => {
  it('prefers --config, then TOLLGATE_CONFIG', () => {
    assert.equal(configPath('/a.yaml', { TOLLGATE_CONFIG: '/b.yaml' }), '/a.yaml');
    assert.equal(configPath(undefined, { TOLLGATE_CONFIG: '/b.yaml' }), '/b.yaml');
    assert.equal(configPath(undefined, {}), undefined);
  });
});
