/**
 * A heap *sampling* profile of another Node process, taken over its inspector (started with
 * `--inspect=127.0.0.1:PORT`) through the DevTools protocol: HeapProfiler.startSampling, the
 * work, HeapProfiler.stopSampling. Unlike `node --heap-prof`, the profile covers only the
 * measured window, not startup and warm-up. The `includeObjectsCollectedBy*GC` flags make it a
 * profile of what was *allocated* (short-lived Check garbage included), not of what survived.
 */

export interface SamplingHeapProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  id: number;
  children: SamplingHeapProfileNode[];
}

export interface SamplingHeapProfile {
  head: SamplingHeapProfileNode;
  samples: { size: number; nodeId: number; ordinal: number }[];
}

/** Mean bytes between samples: small enough for a few thousand Checks to give a stable split. */
export const SAMPLING_INTERVAL_BYTES = 512;

async function debuggerUrl(inspectPort: number): Promise<string> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target on port ${inspectPort}`);
  return url;
}

/** Runs `work` while the process on `inspectPort` samples its allocations; returns the profile. */
export async function sampleHeapDuring(
  inspectPort: number,
  work: () => Promise<void>,
): Promise<SamplingHeapProfile> {
  const socket = new WebSocket(await debuggerUrl(inspectPort));
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('error', () => reject(new Error('inspector: cannot connect')), { once: true });
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: unknown };
    const waiter = message.id === undefined ? undefined : pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id!);
    if (message.error) waiter.reject(new Error(`inspector: ${JSON.stringify(message.error)}`));
    else waiter.resolve(message.result);
  });
  const send = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, method, params }));
    });
  try {
    await send('HeapProfiler.enable');
    await send('HeapProfiler.startSampling', {
      samplingInterval: SAMPLING_INTERVAL_BYTES,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    await work();
    const result = (await send('HeapProfiler.stopSampling')) as { profile: SamplingHeapProfile };
    return result.profile;
  } finally {
    socket.close();
  }
}
