import { createServer } from 'node:http';

/**
 * The trivial upstream behind Envoy in part 3: a real process (node:http, keep-alive) that
 * answers every request 200 with a small JSON body, echoing the principal header Envoy
 * forwarded so the probe can see who was let through.
 * Run: node bench/harness/upstream-server.ts <port>
 */

const BODY = Buffer.from('{"ok":true}');
const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('usage: node bench/harness/upstream-server.ts <port>\n');
  process.exit(2);
}

const server = createServer((req, res) => {
  const principal = req.headers['x-tollgate-principal'];
  req.resume();
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': BODY.length,
    'x-seen-principal': typeof principal === 'string' ? principal : '',
  });
  res.end(BODY);
});
server.keepAliveTimeout = 60000;
server.listen(port, '127.0.0.1');
process.once('SIGTERM', () => server.close(() => process.exit(0)));
