import grpc from '@grpc/grpc-js';
import { authorizationDefinition } from './envoy-protos.ts';
import { median } from './load-result.ts';

/**
 * Bytes the Tollgate process allocates per Check, measured from outside over the real gRPC
 * path: V8's used heap (tollgate_nodejs_heap_size_used_bytes) before and after a fixed number
 * of Checks, in a window with no garbage collection (tollgate_nodejs_gc_duration_seconds_count
 * unchanged before, right after and a moment after the window — GC entries reach prom-client
 * asynchronously), minus what one scrape of /metrics allocates itself (measured the same way
 * with no Checks). Windows a collection fell into are dropped and retried; the Tollgate
 * measured runs with a young generation large enough (--min/--max-semi-space-size) for a
 * window to fit. Allocation does not depend on the GC settings, only its cost does.
 */

export const ALLOCATION_NODE_FLAGS = ['--min-semi-space-size=64', '--max-semi-space-size=64'];

export interface AllocationResult {
  readonly checksPerWindow: number;
  /** Median over the clean windows. */
  readonly bytesPerCheck: number;
  readonly windows: readonly number[];
  /** Windows dropped because a garbage collection fell into them. */
  readonly droppedWindows: number;
  readonly scrapeBytes: number;
}

interface HeapReading {
  readonly usedBytes: number;
  readonly collections: number;
}

async function readHeap(metricsUrl: string): Promise<HeapReading> {
  const text = await (await fetch(metricsUrl)).text();
  let usedBytes = Number.NaN;
  let collections = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('tollgate_nodejs_heap_size_used_bytes ')) usedBytes = Number(line.split(' ').pop());
    else if (line.startsWith('tollgate_nodejs_gc_duration_seconds_count'))
      collections += Number(line.split(' ').pop());
  }
  return { usedBytes, collections };
}

/** Sends `count` Checks, `concurrency` in flight, cycling over `requests`; all must allow. */
export async function sendChecks(
  stub: grpc.Client,
  requests: readonly unknown[],
  count: number,
  concurrency: number,
): Promise<void> {
  let next = 0;
  let denied = 0;
  const one = (request: unknown) =>
    new Promise<void>((resolve, reject) => {
      // biome-ignore lint/suspicious/noExplicitAny: grpc-js stubs are untyped.
      (stub as any).Check(request, (err: Error | null, res: { status?: { code?: number } }) => {
        if (err) return reject(err);
        if ((res.status?.code ?? 0) !== 0) denied++;
        resolve();
      });
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await one(requests[next++ % requests.length]);
    }),
  );
  if (denied > 0)
    throw new Error(`allocation run: ${denied} of ${count} Checks were denied, expected allows`);
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

async function cleanWindow(metricsUrl: string, during: () => Promise<void>): Promise<number | null> {
  await settle();
  const before = await readHeap(metricsUrl);
  await during();
  const after = await readHeap(metricsUrl);
  await settle();
  const later = await readHeap(metricsUrl);
  if (before.collections !== after.collections || after.collections !== later.collections) return null;
  return after.usedBytes - before.usedBytes;
}

export async function measureCheckAllocation(options: {
  readonly grpcTarget: string;
  readonly metricsUrl: string;
  /** Cached-token CheckRequests (proto3 JSON). */
  readonly requests: readonly unknown[];
  readonly checksPerWindow: number;
  readonly windows: number;
}): Promise<AllocationResult> {
  // biome-ignore lint/suspicious/noExplicitAny: grpc-js package definitions are untyped trees.
  const Authorization = (grpc.loadPackageDefinition(authorizationDefinition()) as any).envoy.service.auth.v3
    .Authorization as typeof grpc.Client;
  const stub = new Authorization(options.grpcTarget, grpc.credentials.createInsecure());
  try {
    // JIT, caches and the connection warm before anything is counted.
    await sendChecks(stub, options.requests, options.checksPerWindow * 3, 16);
    const scrapes: number[] = [];
    for (let attempt = 0; scrapes.length < 5 && attempt < 20; attempt++) {
      const bytes = await cleanWindow(options.metricsUrl, async () => {});
      if (bytes !== null) scrapes.push(bytes);
    }
    const scrapeBytes = median(scrapes);
    const windows: number[] = [];
    let dropped = 0;
    for (let attempt = 0; windows.length < options.windows && attempt < options.windows * 4; attempt++) {
      const bytes = await cleanWindow(options.metricsUrl, () =>
        sendChecks(stub, options.requests, options.checksPerWindow, 16),
      );
      if (bytes === null) dropped++;
      else windows.push((bytes - scrapeBytes) / options.checksPerWindow);
    }
    if (windows.length === 0) throw new Error(`allocation: every one of ${dropped} windows saw a collection`);
    return {
      checksPerWindow: options.checksPerWindow,
      bytesPerCheck: median(windows),
      windows,
      droppedWindows: dropped,
      scrapeBytes,
    };
  } finally {
    stub.close();
  }
}
