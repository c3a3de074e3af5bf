import { rename, writeFile } from 'node:fs/promises';

/** Replaces a file the way a ConfigMap update does: atomically, so a poll never sees half of it. */
export async function replaceFile(path: string, text: string): Promise<void> {
  await writeFile(`${path}.next`, text);
  await rename(`${path}.next`, path);
}
