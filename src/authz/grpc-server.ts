import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { type Checker, type CheckOutcome, type CheckRequest, passes } from '../check/check.ts';
import { CHECK_HANDOFF_HEADER, type CheckHandoff } from '../check/check-handoff.ts';
import { CODE_INFO, errorAnswer, RPC } from '../errors.ts';
import { certificateThumbprint } from '../jwt/certificate-binding.ts';
import { InFlightLimit, isPastDeadline } from '../limits/in-flight-limit.ts';
import type { ShedReason } from '../metrics/metrics.ts';
import { CLIENT_ADDRESS_HEADER } from '../routes/raw-headers.ts';
import { mapRoute } from '../routes/route-map.ts';

/**
 * Envoy's ext_authz v3 gRPC API (envoy.service.auth.v3.Authorization/Check) and
 * grpc.health.v1. Envoy's protos come from @grpc/grpc-js-xds, which ships them together with
 * their validate/udpa imports; the health proto is ours (proto/).
 */

const require = createRequire(import.meta.url);
const XDS_DEPS = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
const OWN_PROTOS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'proto');

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
  includeDirs: [
    join(XDS_DEPS, 'envoy-api'),
    join(XDS_DEPS, 'googleapis'),
    join(XDS_DEPS, 'protoc-gen-validate'),
    join(XDS_DEPS, 'xds'),
    OWN_PROTOS,
  ],
};

interface HeaderValueOption {
  header: { key: string; value: string };
  append_action: 'OVERWRITE_IF_EXISTS_OR_ADD';
}

/** The parts of AttributeContext.Request.HttpRequest we read. */
interface HttpAttributes {
  id?: string;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  header_map?: { headers?: Array<{ key?: string; value?: string; raw_value?: Buffer | Uint8Array }> };
}

interface CheckRequestShape {
  attributes?: {
    /** `certificate`: the client's URL-encoded PEM certificate (include_peer_certificate). */
    source?: { address?: { socket_address?: { address?: string } }; certificate?: string };
    request?: { http?: HttpAttributes };
  };
}

function overwrite(key: string, value: string): HeaderValueOption {
  // OVERWRITE_IF_EXISTS_OR_ADD: a client-sent copy of an identity header must never survive
  // next to ours (without an append action, current Envoy appends).
  return { header: { key, value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' };
}

/** Reads method, path, Authorization and the client address from either header shape Envoy sends. */
export function toCheckRequest(request: CheckRequestShape): {
  request: CheckRequest;
  requestId: string | undefined;
} {
  const http = request.attributes?.request?.http ?? {};
  let authorization: string | string[] | undefined;
  let requestId = http.id || undefined;
  const list = http.header_map?.headers;
  if (list && list.length > 0) {
    // encode_raw_headers: every occurrence is its own entry; keep them all so two
    // Authorization headers are refused rather than one picked.
    const values: string[] = [];
    for (const h of list) {
      const key = h.key?.toLowerCase();
      if (key === 'authorization') {
        values.push(
          h.raw_value && h.raw_value.length > 0
            ? Buffer.from(h.raw_value).toString('latin1')
            : (h.value ?? ''),
        );
      } else if (key === 'x-request-id' && !requestId) {
        requestId = h.raw_value ? Buffer.from(h.raw_value).toString('latin1') : h.value;
      }
    }
    authorization = values.length === 0 ? undefined : values;
  } else if (http.headers) {
    authorization = http.headers.authorization;
    requestId ??= http.headers['x-request-id'];
  }
  const method = http.method ?? '';
  const path = http.path ?? '';
  return {
    request: {
      route: mapRoute(method, path),
      method,
      path,
      authorization,
      host: request.attributes?.source?.address?.socket_address?.address,
      clientCertThumbprint: peerThumbprint(request.attributes?.source?.certificate),
    },
    requestId,
  };
}

/** The RFC 8705 thumbprint of the peer certificate Envoy passed (URL-encoded PEM), if any. */
function peerThumbprint(certificate: string | undefined): string | undefined {
  if (!certificate) return undefined;
  try {
    return certificateThumbprint(decodeURIComponent(certificate));
  } catch {
    // Undecodable: treated as no certificate, so a bound token is refused (fail closed).
    return undefined;
  }
}

/**
 * Builds the CheckResponse for an outcome. Only status code 0 allows. An allowed request carries
 * the principal and the client address the check used, so the REST process checks the same host,
 * and, in `tollgate serve`, the id under which the REST process finds this check (check-handoff.ts).
 */
export function toCheckResponse(
  outcome: CheckOutcome,
  principalHeader: string,
  host: string | undefined,
  handoffId: string | null = null,
): Record<string, unknown> {
  if (passes(outcome)) {
    if (outcome.principal === null) {
      // Public route: no identity, and client-sent copies of the headers must not pass either.
      return {
        status: { code: RPC.OK },
        ok_response: { headers_to_remove: [principalHeader, CLIENT_ADDRESS_HEADER, CHECK_HANDOFF_HEADER] },
      };
    }
    const headers = [overwrite(principalHeader, outcome.principal)];
    if (host !== undefined && host !== '') headers.push(overwrite(CLIENT_ADDRESS_HEADER, host));
    if (handoffId !== null) headers.push(overwrite(CHECK_HANDOFF_HEADER, handoffId));
    return { status: { code: RPC.OK }, ok_response: { headers } };
  }
  const code = outcome.code ?? 'INTERNAL';
  const denial = errorAnswer(code, outcome.detail);
  return {
    status: { code: CODE_INFO[code].grpc, message: code },
    denied_response: {
      status: { code: denial.status },
      headers: denial.headers.map(([k, v]) => overwrite(k, v)),
      body: denial.body,
    },
  };
}

export interface GrpcServerHandle {
  readonly port: number;
  setServing(serving: boolean): void;
  /** Stops accepting, lets calls in flight finish up to `graceMs`, then forces. */
  stop(graceMs: number): Promise<void>;
}

export interface GrpcServerOptions {
  /** Checks being worked on at once; above it a Check is refused with UNAVAILABLE. 0: no limit. */
  readonly maxConcurrentChecks: number;
  /** Called for every Check refused before any work. */
  readonly onShed?: (reason: ShedReason) => void;
  /** `tollgate serve`: passed checks are handed to the REST process in this process. */
  readonly handoff?: CheckHandoff;
}

export async function startGrpcServer(
  listen: string,
  checker: Checker,
  principalHeader: string,
  isReady: () => boolean,
  options: GrpcServerOptions = { maxConcurrentChecks: 0 },
): Promise<GrpcServerHandle> {
  const authDef = protoLoader.loadSync('envoy/service/auth/v3/external_auth.proto', LOADER_OPTIONS);
  const healthDef = protoLoader.loadSync('grpc/health/v1/health.proto', LOADER_OPTIONS);
  // biome-ignore lint/suspicious/noExplicitAny: grpc-js package definitions are untyped trees.
  const authPkg = grpc.loadPackageDefinition(authDef) as any;
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  const healthPkg = grpc.loadPackageDefinition(healthDef) as any;

  const server = new grpc.Server({
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.max_receive_message_length': 1024 * 1024,
  });

  const limit = new InFlightLimit(options.maxConcurrentChecks);
  server.addService(authPkg.envoy.service.auth.v3.Authorization.service, {
    Check(
      call: grpc.ServerUnaryCall<CheckRequestShape, unknown>,
      callback: grpc.sendUnaryData<Record<string, unknown>>,
    ) {
      // Overload: refuse before any work (no token verification, no ACL lookup). Every RPC
      // error is an ext_authz error to Envoy, which answers status_on_error (503 in
      // deploy/envoy/envoy.yaml) — never an allow, with failure_mode_allow off.
      if (isPastDeadline(call.getDeadline(), Date.now())) {
        // Envoy has stopped waiting for this answer: working on it only delays the next ones.
        options.onShed?.('deadline');
        callback({
          code: grpc.status.DEADLINE_EXCEEDED,
          details: 'deadline passed before the check started',
        });
        return;
      }
      if (!limit.tryAcquire()) {
        options.onShed?.('concurrency');
        callback({ code: grpc.status.UNAVAILABLE, details: 'overloaded: too many checks in flight' });
        return;
      }
      const { request, requestId } = toCheckRequest(call.request);
      checker.check(request, { transport: 'grpc', requestId }).then(
        (outcome) => {
          limit.release();
          const handoffId = options.handoff && passes(outcome) ? options.handoff.put(request, outcome) : null;
          callback(null, toCheckResponse(outcome, principalHeader, request.host, handoffId));
        },
        // Unreachable (check never rejects); if it did, an RPC error is a denial for Envoy.
        () => {
          limit.release();
          callback({ code: grpc.status.INTERNAL, details: 'check failed' });
        },
      );
    },
  });

  let serving = true;
  const statusOf = (name: string) => {
    if (name !== '' && name !== 'envoy.service.auth.v3.Authorization') return 'SERVICE_UNKNOWN';
    return serving && isReady() ? 'SERVING' : 'NOT_SERVING';
  };
  server.addService(healthPkg.grpc.health.v1.Health.service, {
    Check(call: grpc.ServerUnaryCall<{ service?: string }, unknown>, callback: grpc.sendUnaryData<unknown>) {
      const status = statusOf(call.request.service ?? '');
      if (status === 'SERVICE_UNKNOWN') callback({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
      else callback(null, { status });
    },
    Watch(call: grpc.ServerWritableStream<{ service?: string }, unknown>) {
      // One answer, then the stream stays open until the client leaves (enough for probes).
      call.write({ status: statusOf(call.request.service ?? '') });
    },
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(listen, grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(new Error(`authz gRPC: cannot listen on ${listen}: ${err.message}`)) : resolve(bound),
    );
  });

  return {
    port,
    setServing(value) {
      serving = value;
    },
    stop(graceMs) {
      return new Promise((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}
