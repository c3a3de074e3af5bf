import { connect } from 'node:net';
import { join } from 'node:path';
import type { BenchContext } from './context.ts';
import { freePorts } from './ports.ts';
import { answers200, type ServerProcess, startProcess, waitUntil } from './processes.ts';
import { REPO_ROOT, tollgateNodeFlags } from './tollgate-authz.ts';

/**
 * Servers that answer Check and do no other work, the floors Tollgate is read against:
 *  - `grpc-go`: grpc-load's own `-serve` mode (grpc-go, raw bytes in and out): what this
 *    machine and this load generator show with a server that costs next to nothing;
 *  - `grpc-js`: bench/harness/allocation-floor-server.ts on the library Tollgate serves with;
 *  - `http2`:   the same file on bare node:http2, no gRPC library.
 * The two Node floors run with Tollgate's shipped Node flags and serve its /metrics (the same
 * registry), so GC time and bytes are read from them the same way.
 */

export type Floor = 'grpc-go' | 'grpc-js' | 'http2';

export const FLOOR_LABEL: Record<Floor, string> = {
  'grpc-go': 'floor: grpc-go, a Check that does no work (machine and load generator)',
  'grpc-js': 'floor: grpc-js, a Check that does no work (no decoding, pre-encoded answer)',
  http2: 'floor: node:http2 alone, pre-encoded answer, no gRPC library',
};

export interface FloorServer {
  readonly kind: Floor;
  readonly proc: ServerProcess;
  readonly grpcTarget: string;
  /** Tollgate's metrics names; null for grpc-go, which exports none. */
  readonly metricsUrl: string | null;
}

const NODE_FLOOR = join(REPO_ROOT, 'bench', 'harness', 'allocation-floor-server.ts');

function acceptsTcp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startFloor(
  ctx: BenchContext,
  kind: Floor,
  extraNodeArgs: readonly string[] = [],
): Promise<FloorServer> {
  const ports = await freePorts(['grpc', 'metrics'] as const);
  const logFile = join(ctx.runDir, `floor-${kind}.log`);
  if (kind === 'grpc-go') {
    const proc = startProcess({
      name: 'floor-grpc-go',
      command: ctx.tools.grpcLoad,
      args: ['-serve', `127.0.0.1:${ports.grpc}`],
      cpu: ctx.pinning.server,
      logFile,
    });
    await waitUntil('floor grpc-go', () => acceptsTcp(ports.grpc), 20000, proc);
    return { kind, proc, grpcTarget: `127.0.0.1:${ports.grpc}`, metricsUrl: null };
  }
  const metricsUrl = `http://127.0.0.1:${ports.metrics}/metrics`;
  const proc = startProcess({
    name: `floor-${kind}`,
    command: process.execPath,
    args: [
      ...tollgateNodeFlags(),
      ...extraNodeArgs,
      NODE_FLOOR,
      kind,
      String(ports.grpc),
      String(ports.metrics),
    ],
    cpu: ctx.pinning.server,
    logFile,
  });
  await waitUntil(`floor ${kind}`, () => answers200(metricsUrl), 20000, proc);
  return { kind, proc, grpcTarget: `127.0.0.1:${ports.grpc}`, metricsUrl };
}
