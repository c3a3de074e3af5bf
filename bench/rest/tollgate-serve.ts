import { freePorts } from '../harness/ports.ts';
import type { ServerProcess } from '../harness/processes.ts';
import { launchTollgate, sumMetric } from '../harness/tollgate-authz.ts';

/**
 * `tollgate serve` (authz and rest in one process, the default sidecar) with a generated
 * configuration on free ports, trusting the local stack's issuer and connecting its
 * per-principal sessions to the stack's OAUTHBEARER listener. Never the stack's own Tollgate.
 */

export interface TollgateServe {
  readonly proc: ServerProcess;
  readonly grpcPort: number;
  readonly restUrl: string;
  readonly metricsUrl: string;
  /** Sum of a metric family's samples (gauge or counter), e.g. tollgate_kafka_sessions_active. */
  metric(name: string): Promise<number>;
}

export interface TollgateServeOptions {
  readonly name: string;
  readonly dir: string;
  readonly issuerUrl: string;
  readonly principalClaim: string;
  readonly aclFile: string;
  readonly kafkaBootstrap: string;
  readonly cpu: string | null;
  readonly maxSessions?: number;
  readonly nodeArgs?: readonly string[];
}

export async function startTollgateServe(options: TollgateServeOptions): Promise<TollgateServe> {
  const ports = await freePorts(['grpc', 'http', 'metrics', 'rest'] as const);
  const config = {
    mode: 'enforce',
    authorization: true,
    issuers: [
      {
        issuer: options.issuerUrl,
        audiences: ['kafka'],
        algorithms: ['RS256', 'ES256'],
        principalClaim: options.principalClaim,
        requiredType: 'at+jwt',
      },
    ],
    acl: { file: options.aclFile },
    authz: {
      grpcListen: `127.0.0.1:${ports.grpc}`,
      httpListen: `127.0.0.1:${ports.http}`,
    },
    metrics: { listen: `127.0.0.1:${ports.metrics}` },
    rest: { listen: `127.0.0.1:${ports.rest}` },
    kafka: { brokers: [options.kafkaBootstrap] },
    // The one deviation from the shipped defaults: idle sessions must stay up for the whole
    // measurement (part 5 holds them for minutes; the default idle close is 5 minutes).
    sessions: {
      sweepIntervalSec: 30,
      idleTimeoutSec: 3600,
      consumerIdleTimeoutSec: 3600,
      maxSessions: options.maxSessions ?? 1000,
    },
  };
  const proc = await launchTollgate('serve', options, config, ports.http);
  const metricsUrl = `http://127.0.0.1:${ports.metrics}/metrics`;
  return {
    proc,
    grpcPort: ports.grpc,
    restUrl: `http://127.0.0.1:${ports.rest}`,
    metricsUrl,
    metric: (name) => sumMetric(metricsUrl, name),
  };
}
