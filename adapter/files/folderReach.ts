import { statSync } from 'node:fs';
import path from 'node:path';

/**
 * The first folder above `dir` that other users cannot enter (no o+x), if any. Jobs of a
 * pre-isolate Piston run as runner uids (contract section 5): they reach the session folder
 * only if every folder on its path lets them through. /mnt/data in the image does; a
 * FILES_DIR under a mkdtemp folder (mode 0700) does not.
 */
export function untraversableAncestor(dir: string): string | undefined {
  let current = path.dirname(path.resolve(dir));
  for (;;) {
    try {
      if ((statSync(current).mode & 0o001) === 0) return current;
    } catch {
      return current;
    }
    const parent = path.dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}
