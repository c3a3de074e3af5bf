import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../harness/ports.ts';
import { answers200, type ServerProcess, startProcess, waitUntil } from '../harness/processes.ts';
import { REPO_ROOT } from '../harness/tollgate-authz.ts';
import type { StackEnv } from './stack-env.ts';

/**
 * Karapace's REST proxy (Aiven, upstream source, unmodified), the issue #14 peer of the REST
 * data path, from the install `make deps` already makes for the stack's schema registry
 * (deploy/stack/install-registry.sh: .tools/karapace-venv with run-rest.sh beside it). OAuth2
 * pass-through mode (`rest_authorization`): every distinct Authorization header gets Kafka
 * clients of its own that present the caller's bearer token to the broker's OAUTHBEARER
 * listener, so the broker authenticates the caller and enforces its ACLs, as it does for
 * Tollgate's per-principal sessions.
 */

const VENV = join(REPO_ROOT, '.tools', 'karapace-venv');
const RUN_REST = join(VENV, 'run-rest.sh');

export interface KarapaceRest {
  readonly proc: ServerProcess;
  readonly url: string;
}

/** The installed Karapace version, or null with the reason it cannot run. */
export function karapaceVersion(): { version: string | null; reason: string } {
  if (!existsSync(RUN_REST)) {
    return { version: null, reason: `${RUN_REST} is missing (make deps installs it)` };
  }
  try {
    const text = readFileSync(join(VENV, 'karapace-src', 'src', 'karapace', 'version.py'), 'utf8');
    return { version: /['"]([^'"]+)['"]/.exec(text)?.[1] ?? 'unknown', reason: '' };
  } catch {
    return { version: 'unknown', reason: '' };
  }
}

export async function startKarapaceRest(options: {
  readonly name: string;
  readonly stack: StackEnv;
  readonly dir: string;
  readonly cpu: string | null;
}): Promise<KarapaceRest> {
  const port = await freePort();
  const proc = startProcess({
    name: options.name,
    // run-rest.sh exec's Python (as do taskset and nice): the pid is the server's, for CPU and RSS.
    command: RUN_REST,
    args: [],
    cpu: options.cpu,
    logFile: join(options.dir, `${options.name}.log`),
    env: {
      KARAPACE_VENV: VENV,
      KAFKA_BOOTSTRAP: options.stack.kafkaBootstrap,
      REST_PORT: String(port),
      // Only the avro/jsonschema/protobuf formats contact a registry; the benchmark uses json.
      REGISTRY_URL: 'http://127.0.0.1:9',
      LOG_LEVEL: 'WARNING',
      // The durability of Tollgate's session producer (acks=all); Karapace's default is acks=1.
      KARAPACE_PRODUCER_ACKS: 'all',
    },
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntil(`${options.name} GET /`, () => answers200(`${url}/`), 120000, proc);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { proc, url };
}
