import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

/**
 * Child processes of a benchmark: spawned pinned to a CPU with `taskset -c` when it exists,
 * output to a log file, and stopped by their own pid only (never by name), first with
 * SIGTERM, then SIGKILL. Every process a part starts is stopped by the part's `finally`.
 */

export interface Pinning {
  /** `taskset -c` list for the servers under test, e.g. "1"; null: not pinned. */
  readonly server: string | null;
  /** The same for the load generators, e.g. "0". */
  readonly loadgen: string | null;
}

const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

/**
 * The machine is shared (other builds and tests run beside a benchmark), and a compile landing
 * on the server's core shows up as a p99 of tens of milliseconds. As root, every process a
 * benchmark starts runs at nice -20 from its first instruction, so all its threads (Node's GC
 * and libuv threads, Go's Ps) win the CPU from ordinary work; nice is per thread on Linux,
 * which is why it is set at exec and not with renice afterwards. BENCH_NICE=0 turns it off.
 */
const NICE = process.getuid?.() === 0 && process.env.BENCH_NICE !== '0' ? '-20' : null;

/** How the benchmark's processes are prioritised, for the results' method notes. */
export function priorityNote(): string {
  return NICE === null
    ? 'Ordinary priority (not root, or BENCH_NICE=0).'
    : 'Every process started at nice -20.';
}

/** One server core and one load-generator core where there are two; nothing pinned otherwise. */
export function choosePinning(cpus: number): Pinning {
  if (!hasTaskset || cpus < 2) return { server: null, loadgen: null };
  return { server: '1', loadgen: '0' };
}

export function pinnedCommand(
  cpu: string | null,
  command: string,
  args: readonly string[],
): [string, string[]] {
  const pinned: [string, string[]] =
    cpu === null ? [command, [...args]] : ['taskset', ['-c', cpu, command, ...args]];
  return NICE === null ? pinned : ['nice', ['-n', NICE, pinned[0], ...pinned[1]]];
}

export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Rejects when the process has exited (a crash while under load). */
  readonly exited: Promise<number | null>;
  running(): boolean;
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cpu: string | null;
  readonly logFile: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

/** Every process started and not yet exited, so an interrupted run can stop them all. */
const live = new Set<ServerProcess>();

/** Stops every process a benchmark started that still runs (SIGINT/SIGTERM of the runner). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((proc) => proc.stop()));
}

export function startProcess(options: StartOptions): ServerProcess {
  const [command, args] = pinnedCommand(options.cpu, options.command, options.args);
  const fd = openSync(options.logFile, 'a');
  const child: ChildProcess = spawn(command, args, {
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`${options.name}: could not start ${options.command}`);
  let alive = true;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      alive = false;
      resolve(code);
    });
    child.once('error', () => {
      alive = false;
      resolve(null);
    });
  });
  const pid = child.pid;
  const proc: ServerProcess = {
    name: options.name,
    pid,
    logFile: options.logFile,
    exited,
    running: () => alive,
    async stop() {
      if (!alive) return;
      // nice and taskset exec the command, so this pid is the server itself.
      process.kill(pid, 'SIGTERM');
      const timer = setTimeout(() => {
        if (alive) process.kill(pid, 'SIGKILL');
      }, 5000);
      await exited;
      clearTimeout(timer);
    },
  };
  live.add(proc);
  exited.then(() => live.delete(proc));
  return proc;
}

/** CPU time (user + system, all threads) of a process, in clock ticks; null once it is gone. */
function cpuTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

/** Clock ticks per second of /proc/<pid>/stat's CPU times (USER_HZ; 100 on every Linux seen). */
const CLOCK_TICKS_PER_SEC = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/**
 * CPU-seconds (user + system, every thread) a process has used so far; null once it is gone.
 * The difference of two readings is what the process spent in between, on whichever cores.
 */
export function cpuSeconds(pid: number): number | null {
  const ticks = cpuTicks(pid);
  return ticks === null ? null : ticks / CLOCK_TICKS_PER_SEC;
}

/**
 * Waits until `pid` is idle: under 2 clock ticks (typically 20 ms) of CPU in a 250 ms window.
 * A server left with a backlog by an overloaded run (an open-loop generator keeps sending)
 * keeps working through it after the generator exits; the next run must not start on top of
 * that. Gives up after `timeoutMs` and says how long it waited.
 */
export async function waitForIdle(pid: number, timeoutMs = 60000): Promise<number> {
  const started = Date.now();
  let last = cpuTicks(pid);
  while (last !== null && Date.now() - started < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = cpuTicks(pid);
    if (now === null || now - last < 2) break;
    last = now;
  }
  return Date.now() - started;
}

/** Polls `probe` until it resolves true; fails after `timeoutMs` or when `proc` exits. */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  proc?: ServerProcess,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc && !proc.running()) throw new Error(`${what}: process exited early (see ${proc.logFile})`);
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what}: not ready after ${timeoutMs} ms${proc ? ` (see ${proc.logFile})` : ''}`);
}

/** True when GET url answers 200. */
export async function answers200(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await res.arrayBuffer();
  return res.status === 200;
}

/** Runs a command to completion (a load generator), bounded by `timeoutMs`. */
export function runToCompletion(
  cpu: string | null,
  command: string,
  args: readonly string[],
  timeoutMs: number,
  env?: Readonly<Record<string, string>>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [cmd, argv] = pinnedCommand(cpu, command, args);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const pid = child.pid;
    const handle: ServerProcess | null =
      pid === undefined
        ? null
        : {
            name: command,
            pid,
            logFile: '',
            exited: new Promise((done) => child.once('close', done)),
            running: () => child.exitCode === null && child.signalCode === null,
            async stop() {
              if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
            },
          };
    if (handle) live.add(handle);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (handle) live.delete(handle);
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}
