/** `pipe status`: every stage fresh / stale / never-run / failed, and why (reasons as data with --json). */
import { resumableFrom } from '../engine/cache/resume.js';
import { displayPath } from '../engine/front/load.js';
import type { StageState } from '../engine/cache/plan.js';
import { formatReasons, reasonJson } from '../engine/cache/reasons.js';
import { collect, loadGraph, out, statuses, workspace, type Cli } from './common.js';
import { openRemote, remoteOptions } from './remote.js';

const STATE_ORDER: StageState[] = ['fresh', 'stale', 'never-run', 'failed'];

export function registerStatus(cli: Cli): void {
  remoteOptions(cli.program.command('status'))
    .description('what is fresh, stale, never run or failed — and why')
    .argument('[pipeline]', 'pipeline YAML file (default: list the pipelines in the cache)')
    .option('--set <path=value>', 'evaluate with these overrides', collect, [])
    .option('--json', 'print [{id, state, reasons: [{code, …fields, text}]}] as JSON')
    .action(async (file: string | undefined, o) => {
      const ws = workspace(cli);
      if (!file) {
        const rows = ws.hasCache() ? ws.db.pipelines() : [];
        if (o.json) { out(JSON.stringify(rows.map((r) => ({ pipeline: r.pipeline, file: r.pipeline_file, runs: r.runs, lastRun: new Date(r.last).toISOString(), lastState: r.state })), null, 2)); return; }
        if (!rows.length) { out('no runs in the cache yet (pipe run <pipeline.yaml>)'); return; }
        for (const r of rows) out(`${r.pipeline.padEnd(24)} ${displayPath(r.pipeline_file).padEnd(40)} ${String(r.runs).padStart(4)} runs, last ${new Date(r.last).toISOString()} (${r.state})`);
        return;
      }
      const g = await loadGraph(file, o.set);
      const st = await statuses(ws, g);
      // what the remote cache holds of the stages that are not fresh here (a fingerprint is
      // known once every upstream stage is fresh)
      const remote = await openRemote(ws, { ...o, remoteOptional: true });
      const onRemote = new Set<string>();
      if (remote) {
        await Promise.all(st.filter((s) => s.state !== 'fresh' && s.fp).map(async (s) => { if (await remote.has(s.fp!).catch(() => false)) onRemote.add(s.id); }));
      }
      const remoteText = (id: string) => (onRemote.has(id) ? ` [on remote '${remote!.name}': pipe pull fetches it]` : '');
      // stages with a Slurm job in flight (live run, or left for the next run to adopt)
      const jobs = new Map(ws.hasCache() ? ws.db.slurmJobsActive(g.pipeline.name).map((j) => [j.stage_id, j]) : []);
      const jobText = (id: string) => {
        const j = jobs.get(id);
        return j ? ` [Slurm job ${j.job_id} ${j.slurm_state ?? 'SUBMITTED'}${j.node ? ` on ${j.node}` : ''}]` : '';
      };
      // stages a killed or interrupted run left resume checkpoints for (cache/resume/<fingerprint>/)
      const resumable = new Map(st.flatMap((s) => {
        const m = s.state !== 'fresh' && s.fp && ws.hasCache() ? resumableFrom(ws.cacheDir, s.fp) : null;
        return m ? [[s.id, { epoch: m.epoch, total: m.total }] as const] : [];
      }));
      const resumeText = (id: string) => {
        const r = resumable.get(id);
        return r ? ` · resumable from epoch ${r.epoch}/${r.total}` : '';
      };
      if (o.json) {
        out(JSON.stringify(st.map((s) => ({ id: s.id, state: s.state, reasons: s.reasons.map(reasonJson), ...(resumable.has(s.id) ? { resumable: resumable.get(s.id) } : {}), ...(onRemote.has(s.id) ? { remote: remote!.name } : {}), ...(jobs.has(s.id) ? { slurm: { jobId: jobs.get(s.id)!.job_id, state: jobs.get(s.id)!.slurm_state ?? 'SUBMITTED' } } : {}) })), null, 2));
      } else {
        const w = Math.min(48, Math.max(5, ...st.map((s) => s.id.length)));
        // one write for the table (a write per line was a system call per stage)
        const lines = [`${'STAGE'.padEnd(w)}  ${'STATE'.padEnd(9)}  WHY`];
        for (const s of st) lines.push(`${s.id.padEnd(w)}  ${s.state.padEnd(9)}  ${formatReasons(s.reasons)}${resumeText(s.id)}${jobText(s.id)}${remoteText(s.id)}`);
        out(lines.join('\n'));
        const counts = STATE_ORDER.map((k) => [k, st.filter((s) => s.state === k).length] as const).filter(([, n]) => n).map(([k, n]) => `${n} ${k}`);
        out(`\n${st.length} stages: ${counts.join(', ')}${remote ? `; ${onRemote.size} of them on remote '${remote.name}' (${remote.where})` : ''}`);
      }
      // artifacts/ views that no longer show what pipe put there (the results themselves are fine)
      const damaged = ws.hasCache() ? ws.damagedViews(g.pipeline.name) : [];
      if (damaged.length) {
        const list = damaged.slice(0, 5).map((v) => displayPath(v.path)).join(', ') + (damaged.length > 5 ? ` and ${damaged.length - 5} more` : '');
        process.stderr.write(`pipe: ${damaged.length} file(s) under artifacts/ were edited, damaged or removed since pipe wrote them: ${list}; the results in the store are intact and the next \`pipe run\` restores them\n`);
      }
      ws.close();
    });
}
