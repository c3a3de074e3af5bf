import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { encodeCheckRequest } from './envoy-protos.ts';

/**
 * Envoy CheckRequests as Envoy 1.40 sends them for the REST API (request headers as the
 * `headers` map, pseudo-headers included, no body), in proto3 JSON for ghz. The requests
 * cycle over three routes that both Tollgate and the Rego policy map to Kafka operations:
 * produce, a consumer's record fetch (with a query string), and topic metadata.
 */

export interface BenchRoute {
  readonly method: string;
  readonly path: string;
  /** What it needs, for the README: operation on resource. */
  readonly needs: string;
}

export const BENCH_ROUTES: readonly BenchRoute[] = [
  { method: 'POST', path: '/topics/orders.eu', needs: 'WRITE on TOPIC orders.eu' },
  {
    method: 'GET',
    path: '/consumers/alice-orders/instances/c1/records?timeout=1000&max_bytes=65536',
    needs: 'READ on GROUP alice-orders',
  },
  { method: 'GET', path: '/topics/orders.eu', needs: 'DESCRIBE on TOPIC orders.eu' },
];

export function checkRequest(route: BenchRoute, token: string): Record<string, unknown> {
  const id = randomUUID();
  const headers: Record<string, string> = {
    ':authority': '127.0.0.1:8080',
    ':method': route.method,
    ':path': route.path,
    ':scheme': 'http',
    accept: 'application/vnd.kafka.v2+json',
    authorization: `Bearer ${token}`,
    'user-agent': 'bench-client/1.0',
    'x-forwarded-proto': 'http',
    'x-request-id': id,
  };
  if (route.method === 'POST') headers['content-type'] = 'application/vnd.kafka.json.v2+json';
  return {
    attributes: {
      source: { address: { socket_address: { address: '127.0.0.1', port_value: 51234 } } },
      destination: { address: { socket_address: { address: '127.0.0.1', port_value: 8080 } } },
      request: {
        http: {
          id,
          method: route.method,
          headers,
          path: route.path,
          host: '127.0.0.1:8080',
          scheme: 'http',
          protocol: 'HTTP/1.1',
        },
      },
      context_extensions: { api: 'kafka-rest-v2' },
    },
  };
}

/**
 * A pool of CheckRequests that each server walks through in order, across runs. Generators
 * start a run at the pool entry they are given (grpc-load's -offset; for ghz, which always
 * starts at its first entry, a data file rotated to that position), and the position moves on
 * by what was sent. With a pool larger than the server's verified-token cache (LRU), every
 * token then comes round only after it was evicted: each lookup misses, in every run,
 * however many runs came before.
 */
export interface RequestPool {
  readonly size: number;
  /** 4-byte big-endian length-prefixed encoded CheckRequests, for grpc-load. */
  readonly binaryFile: string;
  positionOf(server: string): number;
  /** Writes the pool as a JSON array rotated to `server`'s position (ghz, the probe). */
  jsonFileFor(server: string): string;
  /** Moves `server`'s position on by the requests it was sent. */
  advance(server: string, sent: number): void;
  /** Requests `server` was sent from this pool in all (the sum of `advance`). */
  sentTo(server: string): number;
}

export function createRequestPool(basePath: string, tokens: readonly string[]): RequestPool {
  const requests = tokens.map((token, i) => checkRequest(BENCH_ROUTES[i % BENCH_ROUTES.length]!, token));
  const frames: Buffer[] = [];
  for (const request of requests) {
    const body = encodeCheckRequest(request);
    const size = Buffer.alloc(4);
    size.writeUInt32BE(body.length);
    frames.push(size, body);
  }
  const binaryFile = `${basePath}.bin`;
  writeFileSync(binaryFile, Buffer.concat(frames));
  const positions = new Map<string, number>();
  const totals = new Map<string, number>();
  const positionOf = (server: string) => positions.get(server) ?? 0;
  return {
    size: requests.length,
    binaryFile,
    positionOf,
    jsonFileFor(server) {
      const at = positionOf(server);
      const path = `${basePath}.json`;
      writeFileSync(path, JSON.stringify([...requests.slice(at), ...requests.slice(0, at)]));
      return path;
    },
    advance(server, sent) {
      positions.set(server, (positionOf(server) + sent) % requests.length);
      totals.set(server, (totals.get(server) ?? 0) + sent);
    },
    sentTo: (server) => totals.get(server) ?? 0,
  };
}
