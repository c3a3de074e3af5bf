import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { send, sortedJson, sortKeysDeep } from './respond.ts';

describe('response JSON', () => {
  it('sorts object keys at every level and keeps array order', () => {
    const value = { b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } };
    assert.equal(sortedJson(value), '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
    assert.equal(JSON.stringify(sortKeysDeep(value)), sortedJson(value));
  });

  it('leaves scalars alone', () => {
    for (const v of [null, 1, 'x', true]) assert.equal(sortKeysDeep(v), v);
  });
});

describe('send (status, CORS, ETag, length)', () => {
  let server: Server | null = null;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    server = null;
  });

  async function serve(status: number, body: string | null): Promise<string> {
    const s = createServer((req, res) => send(req, res, status, body));
    server = s;
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}/`;
  }

  const body = '{"name":"ünïcode ✓","n":1}';
  const md5 = `"${createHash('md5').update(body, 'utf8').digest('hex')}"`;

  it('answers 2xx with the md5 ETag of the UTF-8 body, its byte length and the CORS headers', async () => {
    const res = await fetch(await serve(200, body));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('etag'), md5);
    assert.equal(res.headers.get('content-length'), String(Buffer.byteLength(body)));
    assert.equal(res.headers.get('content-type'), 'application/vnd.kafka.json.v2+json');
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(await res.text(), body);
  });

  it('turns a matching If-None-Match into 304 with no body', async () => {
    const res = await fetch(await serve(200, body), { headers: { 'if-none-match': md5 } });
    assert.equal(res.status, 304);
    assert.equal(res.headers.get('etag'), md5);
    assert.equal(await res.text(), '');
  });

  it('puts no ETag on an error answer, and sends an empty answer without a type', async () => {
    const failed = await fetch(await serve(422, body));
    assert.equal(failed.headers.get('etag'), null);
    assert.equal(await failed.text(), body);
    server?.closeAllConnections();
    server?.close();
    const empty = await fetch(await serve(204, null));
    assert.equal(empty.status, 204);
    assert.equal(empty.headers.get('content-type'), null);
    assert.equal(empty.headers.get('access-control-allow-methods'), 'DELETE, GET, OPTIONS, POST, PUT');
  });
});
