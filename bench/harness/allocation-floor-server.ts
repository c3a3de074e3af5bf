import { createServer } from 'node:http';
import http2 from 'node:http2';
import grpc from '@grpc/grpc-js';
import { Metrics } from '../../src/metrics/metrics.ts';

/**
 * The floors under part 6's allocation figure: a server that answers Check and does nothing
 * else, so the bytes it allocates per call are the transport's, not Tollgate's.
 *  - `grpc-js`: a grpc-js server (the library and version Tollgate serves with, same server
 *    options) whose Check keeps the request as the raw bytes grpc-js hands it (no decoding) and
 *    answers a pre-encoded OK CheckResponse (no encoding): grpc-js's per-call cost alone;
 *  - `http2`:   node:http2 alone, answering every stream with the same pre-encoded answer in a
 *    gRPC frame (no gRPC library) — what any Node server on HTTP/2 pays at least.
 * Both serve Tollgate's /metrics (the same registry and names) so the same measurement reads
 * them. Run as `node allocation-floor-server.ts grpc-js|http2 GRPC_PORT METRICS_PORT`.
 */

// CheckResponse { status: {} } (field 1, empty).
const OK_MESSAGE = Buffer.from([0x0a, 0x00]);
// The same in a gRPC frame: flag 0, 4-byte length 2.
const OK_FRAME = Buffer.concat([Buffer.from([0, 0, 0, 0, OK_MESSAGE.length]), OK_MESSAGE]);

const passThrough = (bytes: Buffer) => bytes;

async function main(): Promise<void> {
  const [kind, grpcPort, metricsPort] = process.argv.slice(2);
  const metrics = new Metrics();
  if (kind === 'grpc-js') {
    const server = new grpc.Server({
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.max_receive_message_length': 1024 * 1024,
    });
    const definition: grpc.ServiceDefinition = {
      Check: {
        path: '/envoy.service.auth.v3.Authorization/Check',
        requestStream: false,
        responseStream: false,
        requestSerialize: passThrough,
        requestDeserialize: passThrough,
        responseSerialize: passThrough,
        responseDeserialize: passThrough,
      },
    };
    server.addService(definition, {
      Check(_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) {
        callback(null, OK_MESSAGE);
      },
    });
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${grpcPort}`, grpc.ServerCredentials.createInsecure(), (err) =>
        err ? reject(err) : resolve(),
      ),
    );
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
