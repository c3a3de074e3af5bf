import type { Server } from 'node:http';
import type { Config } from '../config/schema.ts';

/**
 * Timeouts a slow client cannot ride (issue 9): the headers and the whole request must arrive
 * in time, and Node checks every second rather than every 30 s (its default), so a slowloris
 * connection is closed within about a second of its deadline. The keep-alive timeout stays
 * above Envoy's upstream idle timeout: Envoy closes an idle connection before Node does, so
 * Envoy never sends a request on a connection Node is closing.
 */
export function applyHttpTimeouts(server: Server, http: Config['http']): void {
  server.headersTimeout = http.headersTimeoutMs;
  server.requestTimeout = http.requestTimeoutMs;
  server.keepAliveTimeout = http.keepAliveTimeoutMs;
  answerClientErrorsWithJson(server);
  // Read when the server starts listening (node:http's connection checker).
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = 1000;
}

/**
 * Requests Node's parser refuses (bad framing, headers too large, too slow) are answered with
 * the REST error JSON body rather than Node's empty one: every error a caller can cause carries
 * `error_code` and `message` (issue 9).
 */
export function answerClientErrorsWithJson(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // As node:http's own handler: answer only when no response has begun on this socket.
    const current = (socket as { _httpMessage?: { _headerSent?: boolean } })._httpMessage;
    if (!socket.writable || current?._headerSent) {
      socket.destroy();
      return;
    }
    const [status, reason] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout']
          : [400, 'Bad Request'];
    const body = `{"error_code":${status},"message":"HTTP ${status} ${reason}"}`;
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  });
}

/** Listens on `host:port`; rejects with a one-line cause (e.g. the port is in use). */
export function listenOn(server: Server, hostPort: string, what: string): Promise<number> {
  const colon = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(hostPort.slice(colon + 1));
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(
        new Error(
          `${what}: cannot listen on ${hostPort}: ${err.code === 'EADDRINUSE' ? 'address in use' : err.message}`,
        ),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/** Stops accepting, waits for open requests up to `graceMs`, then closes what is left. */
export function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
