/**
 * The process groups of the stages running now. Each stage runs in a group (and session) of
 * its own, so killing the engine does not reach them; the engine kills them when it stops, but
 * an engine killed with SIGKILL cannot. With LOCAL_ENGINE_JOB_GROUPS_DIR set (the adapter's
 * supervisor sets it), each running group is also an empty file named after its id in that
 * folder, so whoever restarts a dead engine can kill the jobs it left (as the adapter does).
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export class JobGroups extends Set<number> {
  constructor(private readonly dir: string | undefined) {
    super();
  }

  override add(pgid: number): this {
    super.add(pgid);
    if (this.dir !== undefined) {
      try {
        writeFileSync(path.join(this.dir, String(pgid)), '');
      } catch {
        // The folder went (its owner stopped): nobody is left to read it.
      }
    }
    return this;
  }

  override delete(pgid: number): boolean {
    const had = super.delete(pgid);
    if (this.dir !== undefined) rmSync(path.join(this.dir, String(pgid)), { force: true });
    return had;
  }
}
