import { createServer } from 'node:net';

/**
 * Free loopback ports for the servers a benchmark starts. The kernel picks them (port 0), so
 * they come from the ephemeral range and never collide with a local stack on its default
 * ports (9400, 9092-9094, 9191, 9192, 9090, 8082, 8080, 9901).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/** Distinct free ports, one per name. */
export async function freePorts<K extends string>(names: readonly K[]): Promise<Record<K, number>> {
  const ports = {} as Record<K, number>;
  const taken = new Set<number>();
  for (const name of names) {
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    ports[name] = port;
  }
  return ports;
}
