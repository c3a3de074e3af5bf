import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { certificateThumbprint } from '../jwt/certificate-binding.ts';
import { requestToken } from '../kafka/client-credentials.ts';
import { loadDevClients, readEnvFile, secretVariable } from './dev-clients.ts';
import { DevIssuer, parseDurationSec } from './issuer.ts';

const HELP = `tollgate dev — helpers for the local stack (make stack-up)

  tollgate dev issuer --clients FILE --secrets FILE [--host H] [--port P] [--alg RS256|ES256]
                     [--tls-cert PEM --tls-key PEM]
      run the development OIDC issuer (discovery, JWKS, client_credentials tokens); HTTPS with --tls-*
  tollgate dev token <client> [--ttl 60s] [--claim key=value]... [--alg ES256] [--scope S] [--cnf-cert PEM]
      print an access token from the stack's issuer (reads .stack/env); --cnf-cert binds it to
      that client certificate (RFC 8705 cnf.x5t#S256)
  tollgate dev seed --file FILE [--replication-factor N]
      create the seed topics and Kafka ACLs through the admin listener (reads .stack/env)
  tollgate dev probe [--client admin]
      check that Kafka answers metadata over SASL/OAUTHBEARER (reads .stack/env)

  --env FILE   the stack's env file (default .stack/env)
`;

function stackEnv(path: string): Map<string, string> {
  try {
    return readEnvFile(path);
  } catch {
    throw new Error(`${path} not found: start the stack first (make stack-up)`);
  }
}

function need(env: Map<string, string>, key: string, path: string): string {
  const value = env.get(key);
  if (!value) throw new Error(`${path}: ${key} is missing (re-run make stack-up)`);
  return value;
}

export async function runDevCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      clients: { type: 'string' },
      secrets: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '9400' },
      alg: { type: 'string' },
      ttl: { type: 'string' },
      claim: { type: 'string', multiple: true },
      scope: { type: 'string' },
      'cnf-cert': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'replication-factor': { type: 'string', default: '1' },
      file: { type: 'string' },
      client: { type: 'string', default: 'admin' },
      env: { type: 'string', default: '.stack/env' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || sub === undefined) {
    process.stdout.write(HELP);
    return values.help ? 0 : 2;
  }
  switch (sub) {
    case 'issuer': {
      if (!values.clients || !values.secrets)
        throw new Error('dev issuer: --clients and --secrets are required');
      const file = loadDevClients(values.clients, values.secrets);
      const alg = values.alg ?? 'RS256';
      if (alg !== 'RS256' && alg !== 'ES256') throw new Error('dev issuer: --alg expects RS256 or ES256');
      if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) {
        throw new Error('dev issuer: --tls-cert and --tls-key go together');
      }
      const tls =
        values['tls-cert'] && values['tls-key']
          ? { cert: readFileSync(values['tls-cert'], 'utf8'), key: readFileSync(values['tls-key'], 'utf8') }
          : undefined;
      const issuer = new DevIssuer({
        host: values.host,
        port: Number(values.port),
        audience: file.audience,
        clients: file.clients,
        defaultTtlSec: file.defaultTtlSec,
        defaultAlg: alg,
        tls,
      });
      await issuer.start();
      process.stdout.write(
        `dev issuer ${issuer.url} (audience ${file.audience}, ${file.clients.length} clients)\n`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      await issuer.stop();
      return 0;
    }
    case 'token': {
      const client = positionals[0];
      if (!client) throw new Error('dev token: name the client, e.g. tollgate dev token alice');
      if (values.ttl !== undefined && parseDurationSec(values.ttl) === null) {
        throw new Error(`dev token: --ttl expects 30, 30s, 5m or 1h, got "${values.ttl}"`);
      }
      const env = stackEnv(values.env);
      const secret = env.get(secretVariable(client));
      if (!secret)
        throw new Error(
          `dev token: unknown client "${client}" (no ${secretVariable(client)} in ${values.env})`,
        );
      let x5tS256: string | undefined;
      if (values['cnf-cert'] !== undefined) {
        x5tS256 = certificateThumbprint(readFileSync(values['cnf-cert'], 'utf8'));
        if (x5tS256 === undefined) throw new Error(`dev token: no PEM certificate in ${values['cnf-cert']}`);
      }
      const token = await requestToken({
        tokenUrl: need(env, 'TOKEN_URL', values.env),
        clientId: client,
        clientSecret: secret,
        ttl: values.ttl,
        alg: values.alg,
        claims: values.claim,
        scope: values.scope,
        x5tS256,
      });
      process.stdout.write(`${token.accessToken}\n`);
      return 0;
    }
    case 'seed': {
      if (!values.file) throw new Error('dev seed: --file is required');
      const env = stackEnv(values.env);
      const { applySeed, readSeedFile } = await import('./seed.ts');
      const replicationFactor = Number(values['replication-factor']);
      if (!Number.isInteger(replicationFactor) || replicationFactor < 1) {
        throw new Error('dev seed: --replication-factor expects a positive integer');
      }
      await applySeed(
        readSeedFile(values.file),
        {
          brokers: need(env, 'KAFKA_ADMIN_BOOTSTRAP', values.env).split(','),
          username: 'admin',
          password: need(env, 'KAFKA_ADMIN_PASSWORD', values.env),
          caFile: env.get('CA_FILE'),
          replicationFactor,
        },
        (line) => process.stdout.write(`seed: ${line}\n`),
      );
      return 0;
    }
    case 'probe': {
      const env = stackEnv(values.env);
      const secret = need(env, secretVariable(values.client), values.env);
      const token = await requestToken({
        tokenUrl: need(env, 'TOKEN_URL', values.env),
        clientId: values.client,
        clientSecret: secret,
      });
      const { probeKafkaOAuth } = await import('./kafka-probe.ts');
      const result = await probeKafkaOAuth(
        need(env, 'KAFKA_BOOTSTRAP', values.env).split(','),
        token.accessToken,
        env.get('CA_FILE'),
      );
      process.stdout.write(
        `kafka: ${result.brokers} broker(s), ${result.topics} topic(s) over OAUTHBEARER\n`,
      );
      return 0;
    }
    default:
      process.stderr.write(`tollgate dev: unknown subcommand "${sub}"\n${HELP}`);
      return 2;
  }
}
