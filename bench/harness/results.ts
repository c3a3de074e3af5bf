import type { BenchContext, Tools } from './context.ts';
import type { Revision } from './revision.ts';
import type { BenchSettings } from './settings.ts';

/**
 * The results document (bench/results/<UTC timestamp>.json) and the contract of a part.
 * A part measures, returns its figures as plain data, and renders its own BENCHMARKS.md
 * section from them; the runner and the report generator know parts only by this interface.
 */

export interface TargetVerdict {
  /** The target as the issue states it. */
  readonly target: string;
  /** What was measured, in words and numbers. */
  readonly measured: string;
  /** null: not measured in this run. */
  readonly met: boolean | null;
}

export interface PartResult {
  readonly id: string;
  readonly title: string;
  readonly startedAt: string;
  readonly durationSec: number;
  /** How it was measured: generator, pinning, anything a reader needs to trust a number. */
  readonly method: readonly string[];
  /** Part-specific figures; the part's `render` knows their shape. */
  readonly data: unknown;
  readonly targets: readonly TargetVerdict[];
}

export interface BenchPart {
  /** Stable id, used on the command line (`--parts check,opa`) and as the results key. */
  readonly id: string;
  readonly title: string;
  /** Tools (keys of Tools) the part needs. */
  readonly needs: readonly (keyof Tools)[];
  run(ctx: BenchContext): Promise<PartResult>;
  /** Markdown section body (without the heading) for BENCHMARKS.md. */
  render(result: PartResult): string;
}

export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly os: string;
}

export interface BenchResults {
  readonly schema: 1;
  readonly runId: string;
  readonly startedAt: string;
  finishedAt: string;
  readonly settings: BenchSettings;
  readonly machine: Machine;
  readonly versions: Readonly<Record<string, string>>;
  /** The commit measured and whether the tree had changes (absent in results before issue #14). */
  readonly revision?: Revision;
  readonly pinning: { readonly server: string | null; readonly loadgen: string | null };
  readonly parts: Record<string, PartResult>;
}
