import { createServer } from 'node:http';
import http2 from 'node:http2';
import { startGrpcServer } from '../../src/authz/grpc-server.ts';
import type { Checker, CheckOutcome } from '../../src/check/check.ts';
import { Metrics } from '../../src/metrics/metrics.ts';
import { checkOutcome } from '../../test/support/check-outcome.ts';

/**
 * The floors under part 6's allocation figure: a server that answers Check and does nothing
 * else, so the bytes it allocates per call are the transport's, not Tollgate's.
 *  - `grpc-js`: Tollgate's own gRPC server (src/authz/grpc-server.ts, grpc-js + proto-loader)
 *    with a Check that returns a constant allow;
 *  - `http2`:   node:http2 alone, answering every stream with a pre-encoded OK CheckResponse
 *    (no decoding, no gRPC library) — what any Node server on HTTP/2 pays at least.
 * Both serve Tollgate's /metrics (the same registry and names) so the same measurement reads
 * them. Run as `node allocation-floor-server.ts grpc-js|http2 GRPC_PORT METRICS_PORT`.
 */

const ALLOW: CheckOutcome = checkOutcome({
  verdict: 'allow',
  reason: 'allowed',
  principal: 'alice',
  issuer: 'https://idp.test',
});

// CheckResponse { status: {} } (field 1, empty), in a gRPC frame: flag 0, length 2.
const OK_FRAME = Buffer.from([0, 0, 0, 0, 2, 0x0a, 0x00]);

async function main(): Promise<void> {
  const [kind, grpcPort, metricsPort] = process.argv.slice(2);
  const metrics = new Metrics();
  if (kind === 'grpc-js') {
    const checker: Checker = { check: async () => ALLOW, checkResources: () => ALLOW };
    await startGrpcServer(`127.0.0.1:${grpcPort}`, checker, 'x-tollgate-principal', () => true);
  } else if (kind === 'http2') {
    const server = http2.createServer();
    server.on('stream', (stream) => {
      stream.on('data', () => {});
      stream.on('end', () => {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(OK_FRAME);
      });
    });
    await new Promise<void>((resolve) => server.listen(Number(grpcPort), '127.0.0.1', resolve));
  } else {
    throw new Error(`expected grpc-js or http2, got ${kind}`);
  }
  const http = createServer((_req, res) => {
    metrics.exposition().then(({ contentType, body }) => {
      res.writeHead(200, { 'content-type': contentType });
      res.end(body);
    });
  });
  http.listen(Number(metricsPort), '127.0.0.1');
}

main().catch((err: unknown) => {
  process.stderr.write(`allocation-floor-server: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
