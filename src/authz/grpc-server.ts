import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { type Checker, type CheckOutcome, type CheckRequest, passes } from '../check/check.ts';
import type { CheckHandoff } from '../check/check-handoff.ts';
import { certificateThumbprint } from '../jwt/certificate-binding.ts';
import { InFlightLimit, isPastDeadline } from '../limits/in-flight-limit.ts';
import type { ShedReason } from '../metrics/metrics.ts';
import { mapRoute } from '../routes/route-map.ts';
import { type CheckAttributes, decodeCheckRequest } from './check-request-decoder.ts';
import { type CheckResponseSerializer, createCheckResponseEncoder } from './check-response.ts';

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

/**
 * Method, path, Authorization and the client address as the checker takes them, from either
 * header shape Envoy sends (the `headers` map, or `header_map` with encode_raw_headers).
 */
export function toCheckRequest(attributes: CheckAttributes): {
  request: CheckRequest;
  requestId: string | undefined;
} {
  let authorization: string | string[] | undefined;
  let requestId = attributes.id || undefined;
  if (attributes.headerMapEntries > 0) {
    // encode_raw_headers: every occurrence is its own entry; keep them all so two
    // Authorization headers are refused rather than one picked.
    authorization = attributes.headerMapAuthorization;
    requestId ??= attributes.headerMapRequestId;
  } else {
    authorization = attributes.headersAuthorization;
    requestId ??= attributes.headersRequestId;
  }
  const method = attributes.method;
  const path = attributes.path;
  return {
    request: {
      route: mapRoute(method, path),
      method,
      path,
      authorization,
      host: attributes.sourceAddress,
      clientCertThumbprint: peerThumbprint(attributes.sourceCertificate),
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

export interface GrpcServerHandle {
  readonly port: number;
  setServing(serving: boolean): void;
  /** Stops accepting, lets calls in flight finish up to `graceMs`, then forces. */
  stop(graceMs: number): Promise<void>;
}

export interface GrpcServerOptions {
  /** Checks being worked on at once; above it a Check is refused with UNAVAILABLE. 0: no limit. */
  readonly maxConcurrentChecks: number;
  /**
   * SETTINGS_MAX_CONCURRENT_STREAMS announced to every client connection (Checks and health
   * calls open on it at once); unset or 0: no limit (grpc-js's default).
   */
  readonly maxConcurrentStreams?: number;
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
    // Back-pressure before the work (issue #14): past the stream limit the client holds
    // further Checks, and one that times out there costs us nothing (no RST_STREAM). Off by
    // default: see authz.maxConcurrentStreams in config/schema.ts for Node's caveat.
    ...(options.maxConcurrentStreams ? { 'grpc.max_concurrent_streams': options.maxConcurrentStreams } : {}),
  });

  const limit = new InFlightLimit(options.maxConcurrentChecks);
  const checkMethod = authPkg.envoy.service.auth.v3.Authorization.service.Check as grpc.MethodDefinition<
    CheckAttributes,
    Buffer
  >;
  const encodeResponse = createCheckResponseEncoder(
    checkMethod.responseSerialize as unknown as CheckResponseSerializer,
    principalHeader,
  );
  // The Check method as proto-loader defines it, but reading only the fields Tollgate uses from
  // the request bytes, and sending answers already encoded (issue #14: allocation per Check).
  const authorizationService: grpc.ServiceDefinition = {
    Check: {
      ...checkMethod,
      requestDeserialize: decodeCheckRequest,
      responseSerialize: (bytes: Buffer) => bytes,
    },
  };
  const answer = (
    callback: grpc.sendUnaryData<Buffer>,
    outcome: CheckOutcome,
    request: CheckRequest,
  ): void => {
    limit.release();
    let bytes: Buffer;
    try {
      // `tollgate serve`: a passed check is kept for the REST process under a fresh id (null: none).
      const handoffId = options.handoff && passes(outcome) ? options.handoff.put(request, outcome) : null;
      bytes = encodeResponse(outcome, request.host, handoffId);
    } catch {
      // Fail closed: an answer that cannot be encoded is an RPC error (a denial for Envoy).
      callback({ code: grpc.status.INTERNAL, details: 'check answer could not be encoded' });
      return;
    }
    callback(null, bytes);
  };
  server.addService(authorizationService, {
    Check(call: grpc.ServerUnaryCall<CheckAttributes, Buffer>, callback: grpc.sendUnaryData<Buffer>) {
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
      let request: CheckRequest;
      let result: CheckOutcome | Promise<CheckOutcome>;
      try {
        const input = toCheckRequest(call.request);
        request = input.request;
        result = checker.checkNow(request, { transport: 'grpc', requestId: input.requestId });
      } catch {
        // Unreachable (checkNow never throws); if it did, an RPC error is a denial for Envoy.
        limit.release();
        callback({ code: grpc.status.INTERNAL, details: 'check failed' });
        return;
      }
      if (!(result instanceof Promise)) {
        answer(callback, result, request);
        return;
      }
      result.then(
        (outcome) => answer(callback, outcome, request),
        // Unreachable (checkNow never rejects); if it did, an RPC error is a denial for Envoy.
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
