/** Waiting on a condition in tests: never a fixed sleep, always a bounded poll. */

/** Thrown from a predicate to stop waiting at once (a process the test needs has died). */
export class StopWaiting extends Error {}

/**
 * Polls `predicate` until it holds; fails with `what` after `timeoutMs`. A predicate that throws
 * counts as "not yet" (a server still starting refuses connections), except with StopWaiting.
 */
export async function waitFor(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const intervalMs = Math.min(100, Math.max(5, timeoutMs / 200));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let done: boolean;
    try {
      done = await predicate();
    } catch (err) {
      if (err instanceof StopWaiting) throw err;
      done = false;
    }
    if (done) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
