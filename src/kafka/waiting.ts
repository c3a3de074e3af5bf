import { KafkaError } from './kafka-errors.ts';

/**
 * Bounded waiting: no Kafka call may hang a REST request forever, and long polls must wake as
 * soon as something happens.
 */

/**
 * Races `promise` against a deadline; past it, rejects with KAFKA_UNAVAILABLE naming `what`.
 * A late rejection of `promise` is swallowed.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  promise.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new KafkaError('KAFKA_UNAVAILABLE', `${what} did not finish within ${ms} ms`, null, true)),
      ms,
    );
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Wakes every current waiter when fired; a waiter that times out leaves no trace behind. */
export class Signal {
  private readonly waiters = new Set<() => void>();

  fire(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Resolves true when fired, false after `ms`. */
  wait(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        resolve(false);
      }, ms);
      this.waiters.add(wake);
    });
  }
}
