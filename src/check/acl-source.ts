import { stat } from 'node:fs/promises';
import { type CompiledAcls, compileAcls } from '../acl/acl-compile.ts';
import { readAclFile } from '../acl/acl-file.ts';

/**
 * The ACL file in force, reloaded when it changes. A ConfigMap update swaps a symlink, which
 * inotify-style watchers miss; polling the file's mtime and size is cheap and always right.
 * A bad new file keeps the old rules in force and reports why.
 */

export interface AclReload {
  readonly ok: boolean;
  readonly rules: number;
  readonly problems: readonly string[];
}

export interface AclSource {
  /** The rules in force; throws only before the first successful load (not ready). */
  current(): CompiledAcls;
  loaded(): boolean;
  /** Loads now; resolves with what happened (never rejects). */
  reload(): Promise<AclReload>;
  start(): void;
  stop(): void;
}

export function createAclSource(
  path: string,
  checkEveryMs: number,
  onReload: (result: AclReload) => void,
): AclSource {
  let acls: CompiledAcls | null = null;
  let signature = '';
  let timer: NodeJS.Timeout | null = null;
  let busy = false;

  async function fileSignature(): Promise<string> {
    const s = await stat(path);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  }

  async function reload(): Promise<AclReload> {
    let result: AclReload;
    try {
      const sig = await fileSignature();
      const parsed = await readAclFile(path);
      if (parsed.ok) {
        acls = compileAcls(parsed.file);
        result = { ok: true, rules: acls.ruleCount, problems: [] };
      } else {
        result = { ok: false, rules: acls?.ruleCount ?? 0, problems: parsed.problems };
      }
      signature = sig;
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      result = { ok: false, rules: acls?.ruleCount ?? 0, problems: [`${path}: cannot read (${why})`] };
    }
    onReload(result);
    return result;
  }

  async function poll(): Promise<void> {
    if (busy) return;
    busy = true;
    try {
      const sig = await fileSignature().catch(() => signature);
      if (sig !== signature) await reload();
    } finally {
      busy = false;
    }
  }

  return {
    current() {
      if (!acls) throw new Error('ACL file not loaded');
      return acls;
    },
    loaded: () => acls !== null,
    reload,
    start() {
      timer ??= setInterval(() => void poll(), checkEveryMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}

/** With authorization off no ACL file is read: a source that is always loaded and empty. */
export function createStaticAclSource(
  acls: CompiledAcls = compileAcls({ superUsers: [], serviceUsers: [], acls: [] }),
): AclSource {
  const done: AclReload = { ok: true, rules: acls.ruleCount, problems: [] };
  return {
    current: () => acls,
    loaded: () => true,
    reload: async () => done,
    start() {},
    stop() {},
  };
}
