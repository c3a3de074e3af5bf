import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { stackValue } from './stack-env.ts';

// Issue 9, part 3: slow clients cannot hold connections. 500 slowloris connections stayed open
// on the REST and authz HTTP ports for 30 s and more (headersTimeout was 66 s). Now headers must
// arrive within http.headersTimeoutMs (10 s), checked every second, and Envoy's
// request_headers_timeout is 10 s too. Each connection here trickles one header byte every
// second and never finishes; every one must be closed by the server well before 30 s.

const CONNECTIONS_PER_PORT = 40;
const HEADERS_TIMEOUT_MS = 10_000;
const BOUND_MS = 20_000;

interface Slow {
  readonly openedAt: number;
  closedAt: number | null;
  bytesSent: number;
}

function openSlow(port: number, slows: Slow[], sockets: Socket[]): void {
  const slow: Slow = { openedAt: Date.now(), closedAt: null, bytesSent: 0 };
  slows.push(slow);
  const socket = connect({ host: '127.0.0.1', port });
  sockets.push(socket);
  const header = 'GET /topics HTTP/1.1\r\nHost: localhost\r\nX-Slow: ';
  let timer: NodeJS.Timeout | null = null;
  const done = () => {
    if (slow.closedAt === null) slow.closedAt = Date.now();
    if (timer) clearInterval(timer);
  };
  socket.on('connect', () => {
    socket.write(header);
    slow.bytesSent += header.length;
    timer = setInterval(() => {
      if (!socket.writable) return;
      socket.write('a');
      slow.bytesSent++;
    }, 1000);
  });
  socket.on('data', () => {});
  socket.on('close', done);
  socket.on('error', done);
}

describe('slow clients (issue 9)', function () {
  this.timeout(90_000);

  for (const [name, key] of [
    ['the REST port', 'REST_URL'],
    ['the authz HTTP port', 'AUTHZ_HTTP_URL'],
    ['Envoy', 'TOLLGATE_URL'],
  ] as const) {
    it(`closes ${CONNECTIONS_PER_PORT} slowloris connections to ${name} within ${BOUND_MS / 1000} s`, async () => {
      const port = Number(new URL(stackValue(key)).port);
      const slows: Slow[] = [];
      const sockets: Socket[] = [];
      for (let i = 0; i < CONNECTIONS_PER_PORT; i++) openSlow(port, slows, sockets);
      try {
        const deadline = Date.now() + BOUND_MS + 10_000;
        while (slows.some((s) => s.closedAt === null) && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
        const open = slows.filter((s) => s.closedAt === null).length;
        assert.equal(open, 0, `${open} connections still open after ${(BOUND_MS + 10_000) / 1000} s`);
        const longest = Math.max(...slows.map((s) => s.closedAt! - s.openedAt));
        const shortest = Math.min(...slows.map((s) => s.closedAt! - s.openedAt));
        console.log(
          `      closed after ${shortest}-${longest} ms (headers timeout ${HEADERS_TIMEOUT_MS} ms)`,
        );
        assert.ok(longest < BOUND_MS, `the slowest was closed after ${longest} ms`);
        // They really were trickling: none was refused or dropped at once.
        assert.ok(shortest >= HEADERS_TIMEOUT_MS / 2, `the first was closed after only ${shortest} ms`);
      } finally {
        for (const socket of sockets) socket.destroy();
      }
    });
  }
});
