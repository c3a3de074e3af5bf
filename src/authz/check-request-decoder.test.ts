import assert from 'node:assert/strict';
import protoLoader from '@grpc/proto-loader';
import { type EnvoyCheckRequest, encodeEnvoyCheckRequest } from '../../test/support/envoy-check-request.ts';
import { decodeCheckRequest } from './check-request-decoder.ts';
import { LOADER_OPTIONS } from './grpc-server.ts';

const TOKEN = 'aGRy.cGF5bG9hZA.c2ln';
const raw = (text: string) => Buffer.from(text, 'latin1');

/** Envoy 1.40's shape with the headers map: pseudo-headers, both peers, extensions, a timestamp. */
const HEADERS_MAP_REQUEST: EnvoyCheckRequest = {
  attributes: {
    source: {
      address: { socket_address: { address: '10.0.0.7', port_value: 51234 } },
      principal: 'spiffe://x',
    },
    destination: { address: { socket_address: { address: '127.0.0.1', port_value: 8080 } } },
    request: {
      time: { seconds: '1764530000', nanos: 5 },
      http: {
        id: '1234',
        method: 'POST',
        headers: {
          ':authority': 'gw',
          ':method': 'POST',
          ':path': '/topics/orders.eu',
          authorization: `Bearer ${TOKEN}`,
          'content-type': 'application/vnd.kafka.json.v2+json',
          'x-request-id': 'rid-map',
        },
        path: '/topics/orders.eu',
        host: 'gw',
        scheme: 'http',
        size: '-1',
        protocol: 'HTTP/1.1',
      },
    },
    context_extensions: { api: 'kafka-rest-v2' },
    metadata_context: { filter_metadata: { a: { fields: { b: { number_value: 1.5 } } } } },
  },
};

/** encode_raw_headers: header_map with raw_value bytes, a client's capitalised names kept. */
const HEADER_MAP_REQUEST: EnvoyCheckRequest = {
  attributes: {
    source: { address: { socket_address: { address: '10.0.0.8', port_value: 1 } }, certificate: 'PEM%0A' },
    request: {
      http: {
        method: 'GET',
        path: '/topics/a%2Fb?x=1',
        header_map: {
          headers: [
            { key: ':path', raw_value: raw('/topics/a%2Fb?x=1') },
            { key: 'Authorization', raw_value: raw(`Bearer ${TOKEN}`) },
            { key: 'X-Request-Id', raw_value: raw('rid-raw') },
            { key: 'x-request-id', raw_value: raw('rid-second') },
            { key: 'authorization', value: 'Bearer other' },
          ],
        },
      },
    },
  },
};

describe('decodeCheckRequest', () => {
  it('reads id, method, path, Authorization, x-request-id and the client address from the headers map', () => {
    const a = decodeCheckRequest(encodeEnvoyCheckRequest(HEADERS_MAP_REQUEST));
    assert.equal(a.id, '1234');
    assert.equal(a.method, 'POST');
    assert.equal(a.path, '/topics/orders.eu');
    assert.equal(a.headersAuthorization, `Bearer ${TOKEN}`);
    assert.equal(a.headersRequestId, 'rid-map');
    assert.equal(a.sourceAddress, '10.0.0.7');
    assert.equal(a.sourceCertificate, undefined);
    assert.equal(a.headerMapEntries, 0);
    assert.equal(a.headerMapAuthorization, undefined);
  });

  it('reads every Authorization entry of header_map, raw bytes as latin1, names in any case', () => {
    const a = decodeCheckRequest(encodeEnvoyCheckRequest(HEADER_MAP_REQUEST));
    assert.equal(a.method, 'GET');
    assert.equal(a.path, '/topics/a%2Fb?x=1');
    assert.equal(a.headerMapEntries, 5);
    assert.deepEqual(a.headerMapAuthorization, [`Bearer ${TOKEN}`, 'Bearer other']);
    assert.equal(a.headerMapRequestId, 'rid-raw');
    assert.equal(a.sourceAddress, '10.0.0.8');
    assert.equal(a.sourceCertificate, 'PEM%0A');
    assert.equal(a.headersAuthorization, undefined);
  });

  it('keeps every latin1 byte of a raw Authorization value', () => {
    const value = Buffer.from([0x42, 0x65, 0x61, 0x72, 0x65, 0x72, 0x20, 0xe9, 0xff]);
    const a = decodeCheckRequest(
      encodeEnvoyCheckRequest({
        attributes: {
          request: { http: { header_map: { headers: [{ key: 'authorization', raw_value: value }] } } },
        },
      }),
    );
    assert.deepEqual(a.headerMapAuthorization, [value.toString('latin1')]);
  });

  it('does not take a header whose name only resembles authorization', () => {
    const a = decodeCheckRequest(
      encodeEnvoyCheckRequest({
        attributes: {
          request: {
            http: {
              headers: { Authorization: 'Bearer a', 'authorization-x': 'Bearer b', authorizatio: 'Bearer c' },
              header_map: undefined,
            },
          },
        },
      }),
    );
    // The headers map's keys are lower case from Envoy; only the exact key counts.
    assert.equal(a.headersAuthorization, undefined);
  });

  it('reads what protobufjs reads for the fields it shares, for both header shapes', () => {
    const definition = protoLoader.loadSync('envoy/service/auth/v3/external_auth.proto', LOADER_OPTIONS);
    const service = definition['envoy.service.auth.v3.Authorization'] as protoLoader.ServiceDefinition;
    const deserialize = service.Check!.requestDeserialize as (bytes: Buffer) => EnvoyCheckRequest;
    for (const request of [HEADERS_MAP_REQUEST, HEADER_MAP_REQUEST]) {
      const bytes = encodeEnvoyCheckRequest(request);
      const full = deserialize(bytes);
      const a = decodeCheckRequest(bytes);
      const http = full.attributes!.request!.http!;
      assert.equal(a.id, http.id ?? '');
      assert.equal(a.method, http.method);
      assert.equal(a.path, http.path);
      assert.equal(a.sourceAddress, full.attributes!.source!.address!.socket_address!.address);
      assert.equal(a.sourceCertificate, full.attributes!.source!.certificate);
      assert.equal(a.headersAuthorization, http.headers?.authorization);
      assert.equal(a.headerMapEntries, http.header_map?.headers?.length ?? 0);
    }
  });

  it('merges a message sent in two parts, as protobuf does', () => {
    const first = encodeEnvoyCheckRequest({
      attributes: {
        request: {
          http: { method: 'GET', header_map: { headers: [{ key: 'authorization', value: 'Bearer a' }] } },
        },
      },
    });
    const second = encodeEnvoyCheckRequest({
      attributes: {
        request: {
          http: { path: '/brokers', header_map: { headers: [{ key: 'authorization', value: 'Bearer b' }] } },
        },
      },
    });
    const a = decodeCheckRequest(Buffer.concat([first, second]));
    assert.equal(a.method, 'GET');
    assert.equal(a.path, '/brokers');
    assert.deepEqual(a.headerMapAuthorization, ['Bearer a', 'Bearer b']);
  });

  it('reads an empty message as no method, no path and no headers', () => {
    const a = decodeCheckRequest(Buffer.alloc(0));
    assert.equal(a.method, '');
    assert.equal(a.path, '');
    assert.equal(a.headersAuthorization, undefined);
    assert.equal(a.headerMapAuthorization, undefined);
  });

  it('refuses malformed input instead of guessing', () => {
    const bytes = encodeEnvoyCheckRequest(HEADERS_MAP_REQUEST);
    for (const cut of [1, 2, 10, bytes.length - 1]) {
      assert.throws(() => decodeCheckRequest(bytes.subarray(0, cut)), /CheckRequest/, `cut at ${cut}`);
    }
    // Field 1 with a length larger than what follows.
    assert.throws(() => decodeCheckRequest(Buffer.from([0x0a, 0x05, 0x00])), /past the end/);
    // A group (wire type 3) and wire types that do not exist.
    assert.throws(() => decodeCheckRequest(Buffer.from([0x1b])), /wire type 3/);
    assert.throws(() => decodeCheckRequest(Buffer.from([0x0f])), /wire type 7/);
    // A varint that never ends.
    assert.throws(() => decodeCheckRequest(Buffer.from([0x08, 0xff, 0xff])), /varint/);
  });
});
