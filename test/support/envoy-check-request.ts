import protoLoader from '@grpc/proto-loader';
import { LOADER_OPTIONS } from '../../src/authz/grpc-server.ts';

/**
 * Envoy CheckRequests for tests, in proto-loader's object form (keepCase) and encoded by
 * protobufjs exactly as grpc-js would put them on the wire: what Tollgate's own decoder
 * (src/authz/check-request-decoder.ts) must read as protobufjs would.
 */

export interface EnvoyHttpRequest {
  id?: string;
  method?: string;
  path?: string;
  host?: string;
  headers?: Record<string, string>;
  header_map?: { headers?: Array<{ key?: string; value?: string; raw_value?: Buffer | Uint8Array }> };
  [field: string]: unknown;
}

export interface EnvoyCheckRequest {
  attributes?: {
    source?: {
      address?: { socket_address?: { address?: string; port_value?: number } };
      certificate?: string;
      [field: string]: unknown;
    };
    request?: { http?: EnvoyHttpRequest; [field: string]: unknown };
    [field: string]: unknown;
  };
}

let serialize: ((value: object) => Buffer) | undefined;

export function encodeEnvoyCheckRequest(request: EnvoyCheckRequest): Buffer {
  if (serialize === undefined) {
    const definition = protoLoader.loadSync('envoy/service/auth/v3/external_auth.proto', LOADER_OPTIONS);
    const service = definition['envoy.service.auth.v3.Authorization'] as protoLoader.ServiceDefinition;
    serialize = service.Check!.requestSerialize as (value: object) => Buffer;
  }
  return serialize(request);
}
