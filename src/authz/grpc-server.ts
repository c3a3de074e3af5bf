import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { certificateThumbprint } from '../jwt/certificate-binding.ts';
import type { AuthzService } from './authz-service.ts';
import type { CheckInput, CheckOutcome } from './check.ts';
import { denialFor } from './denial.ts';

/**
 * Envoy's ext_authz v3 gRPC API (envoy.service.auth.v3.Authorization/Check) and
 * grpc.health.v1. Envoy's protos come from @grpc/grpc-js-xds, which ships them together with
 * their validate/udpa imports; the health proto is ours (proto/).
 */

const require = createRequire(import.meta.url);
const XDS_DEPS = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
const OWN_PROTOS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'proto');

const LOADER_OPTIONS: protoLoader.Options = {
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

// google.rpc.Code values used in CheckResponse.status.
const RPC_OK = 0;
const RPC_PERMISSION_DENIED = 7;
const RPC_UNAUTHENTICATED = 16;
const RPC_UNAVAILABLE = 14;

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

/** Reads method, path and Authorization from either header shape Envoy sends. */
export function toCheckInput(request: CheckRequestShape): {
  input: CheckInput;
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
  return {
    input: {
      method: http.method ?? '',
      path: http.path ?? '',
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

/** Builds the CheckResponse for an outcome. Only status code 0 allows. */
export function toCheckResponse(outcome: CheckOutcome, principalHeader: string): Record<string, unknown> {
  if (outcome.allow) {
    if (outcome.principal === null) {
      // Public route: no identity, and a client-sent copy of the header must not pass either.
      return { status: { code: RPC_OK }, ok_response: { headers_to_remove: [principalHeader] } };
    }
    return {
      status: { code: RPC_OK },
      ok_response: { headers: [overwrite(principalHeader, outcome.principal)] },
    };
  }
  const denial = denialFor(outcome);
  const rpcCode =
    denial.status === 401
      ? RPC_UNAUTHENTICATED
      : denial.status >= 500
        ? RPC_UNAVAILABLE
        : RPC_PERMISSION_DENIED;
  return {
    status: { code: rpcCode, message: outcome.code ?? 'INTERNAL' },
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

export async function startGrpcServer(
  listen: string,
  service: AuthzService,
  principalHeader: string,
  isReady: () => boolean,
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

  server.addService(authPkg.envoy.service.auth.v3.Authorization.service, {
    Check(
      call: grpc.ServerUnaryCall<CheckRequestShape, unknown>,
      callback: grpc.sendUnaryData<Record<string, unknown>>,
    ) {
      const { input, requestId } = toCheckInput(call.request);
      service.decide(input, 'grpc', requestId).then(
        (outcome) => callback(null, toCheckResponse(outcome, principalHeader)),
        // Unreachable (decide never rejects); if it did, an RPC error is a denial for Envoy.
        () => callback({ code: grpc.status.INTERNAL, details: 'check failed' }),
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
