import { parseArgs } from 'node:util';
import { requestToken } from '../kafka/client-credentials.ts';
import { loadDevClients, readEnvFile, secretVariable } from './dev-clients.ts';
import { DevIssuer, parseDurationSec } from './issuer.ts';

const HELP = `tollgate dev — helpers for the local stack (make stack-up)

  tollgate dev issuer --clients FILE --secrets FILE [--host H] [--port P] [--alg RS256|ES256]
      run the development OIDC issuer (discovery, JWKS, client_credentials tokens)
  tollgate dev token <client> [--ttl 60s] [--claim key=value]... [--alg ES256] [--scope S]
      print an access token from the stack's issuer (reads .stack/env)
  tollgate dev seed --file FILE
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
      const issuer = new DevIssuer({
        host: values.host,
        port: Number(values.port),
        audience: file.audience,
        clients: file.clients,
        defaultTtlSec: file.defaultTtlSec,
        defaultAlg: alg,
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
      const token = await requestToken({
        tokenUrl: need(env, 'TOKEN_URL', values.env),
        clientId: client,
        clientSecret: secret,
        ttl: values.ttl,
        alg: values.alg,
        claims: values.claim,
        scope: values.scope,
      });
      process.stdout.write(`${token.accessToken}\n`);
      return 0;
    }
    case 'seed': {
      if (!values.file) throw new Error('dev seed: --file is required');
      const env = stackEnv(values.env);
      const { applySeed, readSeedFile } = await import('./seed.ts');
      await applySeed(
        readSeedFile(values.file),
        {
          brokers: [need(env, 'KAFKA_ADMIN_BOOTSTRAP', values.env)],
          username: 'admin',
          password: need(env, 'KAFKA_ADMIN_PASSWORD', values.env),
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
      const result = await probeKafkaOAuth([need(env, 'KAFKA_BOOTSTRAP', values.env)], token.accessToken);
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
