/** `pipe gc`: delete cached artifacts that neither the latest result of a stage nor the last N runs use. */
import { rmSync } from 'node:fs';
import { fmtSize, out, workspace, type Cli } from './common.js';
import { PipeError } from '../engine/errors.js';
import { slurmLeftovers } from '../engine/exec/slurm.js';
import { describeHolder, GC_LOCK } from '../engine/cache/db.js';
import type { Workspace } from '../engine/cache/workspace.js';
import { waitForLock } from '../engine/exec/execute.js';
import { removeResumeDirs, resumeOrphans } from '../engine/cache/resume.js';

/**
 * Takes the workspace exclusively: no run may be between storing an object and recording the
 * outputs that refer to it while gc decides what is unused. Waits for running pipelines (or
 * exits 3 with --no-wait); runs started meanwhile wait for gc.
 */
const lockWorkspace = (ws: Workspace, wait: boolean) =>
  waitForLock(() => ws.db.tryGcLock(), (h) => `${describeHolder(h)} is using the workspace`, wait, (m) => process.stderr.write(`pipe: ${m}\n`));

export function registerGc(cli: Cli): void {
  cli.program.command('gc')
    .description('delete cached artifacts no longer needed (keeps the latest result of every stage)')
    .option('--keep-runs <n>', 'also keep every output of the last N runs of each pipeline; given explicitly, also remove the records of older runs (named runs stay)', (v) => Number(v), 3)
    .option('--dry-run', 'only say what would be deleted')
    .option('--no-wait', 'exit 3 at once when a run is using the workspace (default: wait for it)')
    .action(async (o, cmd: { getOptionValueSource(k: string): string | undefined }) => {
      if (!Number.isInteger(o.keepRuns) || o.keepRuns < 0) throw new PipeError(`--keep-runs must be a whole number ≥ 0 (got ${o.keepRuns})`);
      const ws = workspace(cli);
      if (!ws.hasCache()) { out('no cache here'); return; }
      await lockWorkspace(ws, o.wait !== false);
      try {
      const started = Date.now();
      const live = ws.db.liveObjects(o.keepRuns);
      let n = 0;
      let bytes = 0;
      for (const obj of ws.db.allObjects()) {
        // what a recorded output refers to stays; so does anything stored after gc started
        if (live.has(obj.hash) || obj.created >= started) continue;
        n++;
        bytes += obj.size;
        if (!o.dryRun) {
          rmSync(ws.store.path(obj.hash), { recursive: true, force: true });
          ws.db.deleteObject(obj.hash);
        }
      }
      out(`${o.dryRun ? 'would delete' : 'deleted'} ${n} object(s), ${fmtSize(bytes)}; kept ${live.size}`);
      // run records past --keep-runs (only when asked for: the default keeps the history); after
      // the objects, so which objects the last N runs keep is decided on the full history
      if (cmd.getOptionValueSource('keepRuns') === 'cli') {
        const old = ws.db.runsPastKeep(o.keepRuns);
        if (!o.dryRun) for (const id of old) ws.db.removeRun(id);
        out(`${o.dryRun ? 'would remove' : 'removed'} ${old.length} run record(s) older than the last ${o.keepRuns} of each pipeline (named runs kept)`);
      }
      // Slurm task and job directories no queued or running job needs (logs of failed jobs)
      const left = slurmLeftovers(ws.db, ws.cacheDir);
      if (left.length) {
        if (!o.dryRun) for (const d of left) rmSync(d, { recursive: true, force: true });
        out(`${o.dryRun ? 'would delete' : 'deleted'} ${left.length} Slurm task/job director${left.length === 1 ? 'y' : 'ies'} under cache/slurm/`);
      }
      // resume checkpoints of fingerprints no stage will continue (completed, or run since with another configuration)
      const orphans = resumeOrphans(ws.db, ws.cacheDir);
      if (orphans.length) {
        if (!o.dryRun) removeResumeDirs(orphans);
        out(`${o.dryRun ? 'would delete' : 'deleted'} ${orphans.length} orphaned resume checkpoint director${orphans.length === 1 ? 'y' : 'ies'} under cache/resume/`);
      }
      } finally {
        ws.db.unlock(GC_LOCK);
      }
      ws.close();
    });
}
