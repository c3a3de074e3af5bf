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
  // Read when the server starts listening (node:http's connection checker).
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = 1000;
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
