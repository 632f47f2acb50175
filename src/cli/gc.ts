/** `pipe gc`: delete cached artifacts that neither the latest result of a stage nor the last N runs use. */
import { rmSync } from 'node:fs';
import { fmtSize, out, workspace, type Cli } from './common.js';
import { slurmLeftovers } from '../engine/exec/slurm.js';

export function registerGc(cli: Cli): void {
  cli.program.command('gc')
    .description('delete cached artifacts no longer needed (keeps the latest result of every stage)')
    .option('--keep-runs <n>', 'also keep every output of the last N runs of each pipeline', (v) => Number(v), 3)
    .option('--dry-run', 'only say what would be deleted')
    .action(async (o) => {
      const ws = workspace(cli);
      if (!ws.hasCache()) { out('no cache here'); return; }
      const live = ws.db.liveObjects(o.keepRuns);
      let n = 0;
      let bytes = 0;
      for (const obj of ws.db.allObjects()) {
        if (live.has(obj.hash)) continue;
        n++;
        bytes += obj.size;
        if (!o.dryRun) {
          rmSync(ws.store.path(obj.hash), { recursive: true, force: true });
          ws.db.deleteObject(obj.hash);
        }
      }
      out(`${o.dryRun ? 'would delete' : 'deleted'} ${n} object(s), ${fmtSize(bytes)}; kept ${live.size}`);
      // Slurm task and job directories no queued or running job needs (logs of failed jobs)
      const left = slurmLeftovers(ws.db, ws.cacheDir);
      if (left.length) {
        if (!o.dryRun) for (const d of left) rmSync(d, { recursive: true, force: true });
        out(`${o.dryRun ? 'would delete' : 'deleted'} ${left.length} Slurm task/job director${left.length === 1 ? 'y' : 'ies'} under cache/slurm/`);
      }
      ws.close();
    });
}
