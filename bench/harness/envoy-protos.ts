import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protoLoader from '@grpc/proto-loader';

/**
 * Envoy's ext_authz protos as the project already ships them (@grpc/grpc-js-xds bundles
 * them with their validate/udpa/xds imports), for the load generators and the probe.
 */

const require = createRequire(import.meta.url);
const XDS_DEPS = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');

export const AUTH_PROTO = 'envoy/service/auth/v3/external_auth.proto';
export const AUTH_PROTO_PATH = join(XDS_DEPS, 'envoy-api', AUTH_PROTO);
export const INCLUDE_DIRS = ['envoy-api', 'googleapis', 'protoc-gen-validate', 'xds'].map((d) =>
  join(XDS_DEPS, d),
);
export const CHECK_METHOD = '/envoy.service.auth.v3.Authorization/Check';

let definition: protoLoader.PackageDefinition | null = null;

export function authorizationDefinition(): protoLoader.PackageDefinition {
  definition ??= protoLoader.loadSync(AUTH_PROTO, {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
    includeDirs: INCLUDE_DIRS,
  });
  return definition;
}

/** Serialises a CheckRequest given in proto3 JSON field names (snake_case). */
export function encodeCheckRequest(request: Record<string, unknown>): Buffer {
  const service = authorizationDefinition()['envoy.service.auth.v3.Authorization'] as unknown as Record<
    string,
    protoLoader.MethodDefinition<unknown, unknown>
  >;
  return service.Check!.requestSerialize(request);
}
