/**
 * `pipe doctor`: is this machine ready for the pipelines in this project? One row per check
 * (ok / missing / degraded), the exact command that fixes each problem, and which installed
 * pipelines need it. Exit 0 when everything the installed pipelines need is present, else 1.
 *
 * The checks are the requirements of src/lib/system/requirements.ts (the same ones `pipe run`'s
 * preflight uses), plus the workspace's own: the data mirror when $PIPE_DATA_MIRROR is set, and
 * the cache directory (writable; SQLite `PRAGMA quick_check`).
 */
import { existsSync, readdirSync, statSync, mkdtempSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadGraph } from '../engine/front/pipeline.js';
import { CacheDb } from '../engine/cache/db.js';
import { hasManifests, rebuildIndex } from '../engine/cache/manifests.js';
import { FROM_SOURCES } from '../lib/package-root.js';
import { fmtBytes, freeBytes } from '../lib/system/disk.js';

/** Below this much free space on the cache's disk, doctor warns. */
const LOW_DISK_BYTES = 1 << 30;
import type { Workspace } from '../engine/cache/workspace.js';
import { checkRequirement, mirrorDatasets, requirement, requirementNames, writableDir, type CheckStatus } from '../lib/system/requirements.js';

export interface DoctorRow {
  name: string;
  title: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
  /** Installed pipelines whose stages need (or prefer) it, e.g. `actmix_quick (xgboost)`. */
  neededBy: string[];
  /** Does a problem here make doctor fail? */
  required: boolean;
}

export interface DoctorReport {
  ok: boolean;
  root: string;
  checks: DoctorRow[];
  pipelines: { file: string; name?: string; stages?: number; error?: string }[];
}

/** Requirement → pipeline → kinds that need it, over every pipelines/*.yaml of the project. */
async function pipelineNeeds(root: string): Promise<{ needs: Map<string, Map<string, Set<string>>>; pipelines: DoctorReport['pipelines'] }> {
  const dir = join(root, 'pipelines');
  const needs = new Map<string, Map<string, Set<string>>>();
  const pipelines: DoctorReport['pipelines'] = [];
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => /\.ya?ml$/i.test(f)).sort() : [];
  for (const f of files) {
    const file = join(dir, f);
    const shown = relative(process.cwd(), file) || file;
    try {
      const g = await loadGraph(file);
      pipelines.push({ file: shown, name: g.pipeline.name, stages: g.order.length });
      for (const st of g.order) {
        for (const r of [...(st.kind.needs?.(st.params) ?? []), ...(st.kind.prefers?.(st.params) ?? [])]) {
          let byP = needs.get(r);
          if (!byP) needs.set(r, (byP = new Map()));
          let kinds = byP.get(g.pipeline.name);
          if (!kinds) byP.set(g.pipeline.name, (kinds = new Set()));
          kinds.add(st.kind.kind);
        }
      }
    } catch (e) {
      const msg = (e as { format?: () => string }).format?.() ?? (e as Error).message;
      pipelines.push({ file: shown, error: msg.split('\n')[0] });
    }
  }
  return { needs, pipelines };
}

export async function doctor(ws: Workspace): Promise<DoctorReport> {
  const { needs, pipelines } = await pipelineNeeds(ws.root);
  const checks: DoctorRow[] = [];
  for (const name of requirementNames()) {
    const r = await checkRequirement(name);
    const byP = needs.get(name);
    const neededBy = byP ? [...byP].map(([p, kinds]) => `${p} (${[...kinds].sort().join(', ')})`) : [];
    const required = name === 'node' || neededBy.length > 0 || (!requirement(name)!.optional && !pipelines.length);
    checks.push({ ...r, neededBy, required });
  }
  // requirements of one stage (a Python stage's interpreter and imported modules: `python:<script>`)
  for (const [name, byP] of needs) {
    if (requirementNames().includes(name) || !requirement(name)) continue;
    const r = await checkRequirement(name);
    checks.push({ ...r, neededBy: [...byP].map(([p, kinds]) => `${p} (${[...kinds].sort().join(', ')})`), required: true });
  }

  const mirror = (process.env.PIPE_DATA_MIRROR ?? '').trim();
  if (mirror) {
    const row: DoctorRow = { name: 'data-mirror', title: `data mirror ($PIPE_DATA_MIRROR=${mirror})`, status: 'ok', detail: '', neededBy: [], required: true };
    if (/^https?:\/\//i.test(mirror)) {
      row.detail = 'a URL (not fetched by doctor; stages download from it)';
    } else if (!existsSync(mirror) || !statSync(mirror).isDirectory()) {
      Object.assign(row, { status: 'missing', detail: 'not a directory', fix: 'point PIPE_DATA_MIRROR at a directory laid out like ../shared/datasets (adult/, magic/, ccpp/, mnist/), or unset it to download' });
    } else {
      const { present, missing } = mirrorDatasets(mirror);
      row.detail = present.length ? `has ${present.join(', ')}${missing.length ? `; lacks ${missing.join(', ')}` : ''}` : 'holds none of adult, magic, ccpp, mnist';
      if (!present.length) Object.assign(row, { status: 'missing', fix: 'point PIPE_DATA_MIRROR at a directory laid out like ../shared/datasets' });
      else if (missing.length) row.status = 'degraded';
    }
    checks.push(row);
  }

  // which coordinator is running: the bundle (fast start-up) or the modules tsc wrote (bin/entry.mjs)
  const build: DoctorRow = { name: 'build', title: 'how pipe runs', status: 'ok', detail: 'the coordinator\'s bundle (dist/bundle/)', neededBy: [], required: false };
  if (FROM_SOURCES) build.detail = 'from the TypeScript sources (tsx/vitest)';
  else if (!import.meta.url.includes('/dist/bundle/')) Object.assign(build, { status: 'degraded', detail: 'the modules of dist/ (no bundle, or dist/ changed since it was made: each command starts ≈ 0.1 s slower)', fix: 'npm run build' });
  checks.push(build);
  const cache: DoctorRow = { name: 'cache', title: `cache directory (${relative(process.cwd(), ws.cacheDir) || ws.cacheDir})`, status: 'ok', detail: '', neededBy: [], required: true };
  if (!writableDir(ws.cacheDir)) {
    Object.assign(cache, { status: 'missing', detail: 'not writable', fix: `make ${ws.cacheDir} writable, or run pipe with --root <a writable project dir>` });
  } else {
    let probeOk = true;
    if (existsSync(ws.cacheDir)) {
      try { rmSync(mkdtempSync(join(ws.cacheDir, '.doctor-')), { recursive: true }); } catch { probeOk = false; }
    }
    if (!probeOk) Object.assign(cache, { status: 'missing', detail: 'cannot create files in it', fix: `check the permissions and free space of ${ws.cacheDir}` });
    else if (!existsSync(join(ws.cacheDir, 'pipe.db'))) {
      if (hasManifests(ws.cacheDir)) Object.assign(cache, { status: 'degraded', detail: 'pipe.db (the index) is missing, but the store holds results', fix: 'npx pipe doctor --repair (rebuilds the index from the store; nothing is recomputed)' });
      else cache.detail = 'writable; no runs yet';
    } else {
      try {
        const db = new CacheDb(join(ws.cacheDir, 'pipe.db'));
        const problems = db.quickCheck();
        db.close();
        if (problems.length) Object.assign(cache, { status: 'degraded', detail: `SQLite quick_check: ${problems.slice(0, 3).join('; ')}`, fix: 'npx pipe doctor --repair (rebuilds the index from the store; nothing is recomputed)' });
        else cache.detail = 'writable; SQLite quick_check ok';
      } catch (e) {
        Object.assign(cache, { status: 'degraded', detail: `cannot open pipe.db: ${(e as Error).message.split('\n')[0]}`, fix: 'npx pipe doctor --repair (rebuilds the index from the store; nothing is recomputed)' });
      }
    }
    const free = freeBytes(existsSync(ws.cacheDir) ? ws.cacheDir : ws.root);
    if (free !== undefined) {
      cache.detail += `; ${fmtBytes(free)} free`;
      if (free < LOW_DISK_BYTES && cache.status === 'ok') Object.assign(cache, { status: 'degraded', fix: `free space on the disk of ${ws.cacheDir} (runs fail when it fills; \`pipe gc\` removes results nothing needs)` });
    }
  }
  checks.push(cache);

  const ok = checks.every((c) => c.status === 'ok' || !c.required) && pipelines.every((p) => !p.error);
  return { ok, root: ws.root, checks, pipelines };
}

const MARK: Record<CheckStatus, string> = { ok: 'ok', missing: 'MISSING', degraded: 'DEGRADED' };

export function formatDoctor(r: DoctorReport): string {
  const lines: string[] = [`pipe doctor — ${r.root}`, ''];
  const w = Math.max(...r.checks.map((c) => c.name.length));
  for (const c of r.checks) {
    // a problem nothing here needs (an optional backend not installed) is shown, not alarmed about
    const mark = c.status !== 'ok' && !c.required ? (c.status === 'missing' ? 'absent' : 'degraded') : MARK[c.status];
    lines.push(`  ${mark.padEnd(8)}  ${c.name.padEnd(w)}  ${c.title}: ${c.detail}`);
    if (c.status !== 'ok' && c.fix) lines.push(`  ${''.padEnd(8)}  ${''.padEnd(w)}  fix: ${c.fix}`);
    if (c.status !== 'ok' && c.neededBy.length) lines.push(`  ${''.padEnd(8)}  ${''.padEnd(w)}  needed by: ${c.neededBy.join('; ')}`);
  }
  if (r.pipelines.length) {
    lines.push('', 'pipelines:');
    for (const p of r.pipelines) lines.push(p.error ? `  INVALID   ${p.file}: ${p.error}` : `  ok        ${p.file} (${p.name}, ${p.stages} stages)`);
  }
  const bad = r.checks.filter((c) => c.status !== 'ok' && c.required);
  lines.push('', r.ok ? 'everything the installed pipelines need is present' : `${bad.length} problem(s) to fix${bad.length ? `: ${bad.map((c) => c.name).join(', ')}` : ''}${r.pipelines.some((p) => p.error) ? ' (and invalid pipeline files)' : ''}`);
  return lines.join('\n');
}

/** Registers `pipe doctor` on the program. */
export function registerDoctor(cli: import('./common.js').Cli): void {
  cli.program.command('doctor')
    .description('check what this machine has for the installed pipelines (libraries, fonts, cache), with the fix for each problem')
    .option('--json', 'machine-readable')
    .option('--repair', 'rebuild a damaged or missing cache index (cache/pipe.db) from the store; nothing is recomputed')
    .action(async (o) => {
      const { workspace, out } = await import('./common.js');
      const ws = workspace(cli);
      if (o.repair) {
        const r = rebuildIndex(ws.cacheDir, (p) => new CacheDb(p));
        if (r.movedTo) out(`moved the old index aside: ${relative(process.cwd(), r.movedTo) || r.movedTo}`);
        out(`rebuilt ${relative(process.cwd(), join(ws.cacheDir, 'pipe.db')) || 'pipe.db'} from the store: ${r.results} result(s) of ${r.pipelines.length ? r.pipelines.join(', ') : 'no pipeline'}${r.skipped ? `; ${r.skipped} result(s) whose objects are gone were left out` : ''}${r.unreadable ? `; ${r.unreadable} unreadable manifest(s) ignored` : ''}`);
        out('run history (pipe runs) was kept only in the old index and starts afresh');
        return;
      }
      const r = await doctor(ws);
      out(o.json ? JSON.stringify(r, null, 2) : formatDoctor(r));
      cli.code = r.ok ? 0 : 1;
      ws.close();
    });
}
