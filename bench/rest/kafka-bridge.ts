import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../harness/ports.ts';
import { answers200, type ServerProcess, startProcess, waitUntil } from '../harness/processes.ts';
import { REPO_ROOT } from '../harness/tollgate-authz.ts';
import type { StackEnv } from './stack-env.ts';

/**
 * The Strimzi Kafka Bridge, part 4's peer REST proxy, from the jars bench/bridge/install-bridge.sh
 * resolves from Maven Central. It has no OAuth, so it connects to the broker's admin listener
 * (SASL PLAIN, the `admin` super user) and serves HTTP with no authentication at all: it pays
 * for neither token verification nor ACL checks, which flatters it in the comparison.
 */

const LIBS = join(REPO_ROOT, '.tools', 'kafka-bridge', 'libs');

export interface KafkaBridge {
  readonly proc: ServerProcess;
  readonly url: string;
}

/** The installed bridge version, or null with the reason it cannot run. */
export function bridgeVersion(): { version: string | null; reason: string } {
  if (!existsSync(LIBS)) {
    return {
      version: null,
      reason:
        'io.strimzi:kafka-bridge is not installed (bench/bridge/install-bridge.sh); the Maven Central ' +
        'mirror reachable from this machine answers 404 for every io.strimzi:kafka-bridge version',
    };
  }
  try {
    return {
      version: readFileSync(join(REPO_ROOT, '.tools', 'kafka-bridge', '.version'), 'utf8').trim(),
      reason: '',
    };
  } catch {
    return { version: 'unknown', reason: '' };
  }
}

export async function startKafkaBridge(options: {
  readonly stack: StackEnv;
  readonly dir: string;
  readonly cpu: string | null;
}): Promise<KafkaBridge> {
  const port = await freePort();
  const configFile = join(options.dir, 'kafka-bridge.properties');
  const jaas = `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${options.stack.adminPassword}";`;
  writeFileSync(
    configFile,
    [
      'bridge.id=tollgate-bench',
      `kafka.bootstrap.servers=${options.stack.kafkaAdminBootstrap}`,
      'kafka.security.protocol=SASL_PLAINTEXT',
      'kafka.sasl.mechanism=PLAIN',
      `kafka.sasl.jaas.config=${jaas}`,
      // The durability Tollgate's producer has (acks=all, idempotent); the rest as shipped.
      'kafka.producer.acks=all',
      'kafka.producer.enable.idempotence=true',
      'http.host=127.0.0.1',
      `http.port=${port}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const proc = startProcess({
    name: 'kafka-bridge',
    command: 'java',
    args: [
      '-Xms256m',
      '-Xmx512m',
      '-cp',
      `${LIBS}/*`,
      'io.strimzi.kafka.bridge.Application',
      '--config-file',
      configFile,
    ],
    cpu: options.cpu,
    logFile: join(options.dir, 'kafka-bridge.log'),
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntil('kafka-bridge /ready', () => answers200(`${url}/ready`), 60000, proc);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { proc, url };
}
