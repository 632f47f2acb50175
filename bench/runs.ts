// `pipe runs` / `pipe diff` speed (issue #17): a cache with 1,000 runs of a 300-stage pipeline,
// then both commands through the real CLI (wall time, including Node start-up; median of 3).
// Run after `npm run build`:   npx tsx bench/runs.ts [runs=1000] [stages=300]
//
// The cache is synthesized through CacheDb's real methods (startRun, beginExecution /
// finishExecution with metrics, recordCached, endRun) and the run records through RunRecorder,
// as `pipe run` writes them: a data stage and 299 matrix instances (train[fold,model] with 4
// metrics each, eval with 2), 20 pipeline params; each run overrides one or two params, so about
// a tenth of the stages run and the rest come from the cache.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CacheDb, type ExecutionRow } from '../src/engine/cache/db.js';
import { FINGERPRINT_FORMAT, type FingerprintData } from '../src/engine/cache/fingerprint.js';
import { sha256 } from '../src/lib/hash.js';
import { RunRecorder, serializeRecord } from '../src/runs/record.js';

const RUNS = Number(process.argv[2] ?? 1000);
const STAGES = Number(process.argv[3] ?? 300);
const pipeBin = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'pipe.js');

const dir = mkdtempSync(join(tmpdir(), 'pipe-bench-runs-'));
mkdirSync(join(dir, 'cache'), { recursive: true });
const cdb = new CacheDb(join(dir, 'cache', 'pipe.db'));

const pipeline = 'bench300';
const models = ['relu', 'tanh', 'gelu'];
const nTrain = Math.floor((STAGES - 1) * 2 / 3);
const stageIds: { id: string; base: string; values: Record<string, string | number> }[] = [{ id: 'data', base: 'data', values: {} }];
for (let i = 0; stageIds.length < 1 + nTrain; i++) { const v = { fold: Math.floor(i / 3), model: models[i % 3]! }; stageIds.push({ id: `train[fold=${v.fold},model=${v.model}]`, base: 'train', values: v }); }
for (let i = 0; stageIds.length < STAGES; i++) { const v = { fold: Math.floor(i / 3), model: models[i % 3]! }; stageIds.push({ id: `eval[fold=${v.fold},model=${v.model}]`, base: 'eval', values: v }); }

const baseParams: Record<string, number | string> = {};
for (let i = 0; i < 18; i++) baseParams[`p${i}`] = i;
baseParams.lr = 0.01;
baseParams.optimizer = 'adam';

const fpData = (st: { id: string }, params: Record<string, unknown>): FingerprintData => ({
  format: FINGERPRINT_FORMAT, kind: st.id.startsWith('train') ? 'train' : st.id.startsWith('eval') ? 'command' : 'download-uci', version: '1',
  code: { 'src/stages/train.ts': sha256('train'), 'src/lib/ml/trainer.ts': sha256('trainer') },
  params: { ...params, id: st.id }, seed: 1, inputs: { data: [sha256('data')] }, files: {}, runtime: { node: '20', platform: 'linux-x64' },
});

const t0 = Date.now();
const last = new Map<string, ExecutionRow>();
let rng = 12345;
const rand = () => ((rng = (rng * 1103515245 + 12345) % 2147483648) / 2147483648);
for (let r = 0; r < RUNS; r++) {
  const params = { ...baseParams };
  const overrides: string[] = [];
  const k = `p${Math.floor(rand() * 18)}`;
  params[k] = Math.floor(rand() * 100);
  overrides.push(`${k}=${params[k]}`);
  if (rand() < 0.5) { params.lr = Number((rand() / 10).toFixed(4)); overrides.push(`lr=${params.lr}`); }
  const runId = cdb.startRun(pipeline, join(dir, 'p.yaml'), ['run', 'p.yaml', ...overrides.flatMap((o) => ['--set', o])]);
  const rec = new RunRecorder(dir);
  let ran = 0;
  let cached = 0;
  cdb.tx(() => {
    for (const st of stageIds) {
      // about a tenth of the stages see the change (their fold's share of the params)
      const affected = r === 0 || !last.has(st.id) || rand() < 0.1;
      const data = fpData(st, affected ? { ...params, r } : { ...baseParams });
      const fp = sha256(JSON.stringify(data));
      const metrics = st.base === 'train'
        ? { test_accuracy: 0.8 + rand() * 0.1, test_rmse: 0.3 + rand() * 0.1, test_loss: 0.5 + rand() * 0.1, train_seconds: 10 + rand() * 5 }
        : st.base === 'eval' ? { auc: 0.85 + rand() * 0.1, f1: 0.7 + rand() * 0.1 } : undefined;
      if (affected) {
        const id = cdb.beginExecution({ runId, pipeline, stageId: st.id, kind: data.kind, fp, fpData: data, deps: st.base === 'data' ? [] : ['data'] });
        cdb.finishExecution(id, 'done', { metrics, log: 'ok', outputs: [{ name: 'out', hash: sha256(`${runId}-${st.id}`), type: 'json', is_dir: 0, size: 100 }] });
        const row = cdb.execution(id)!;
        last.set(st.id, row);
        rec.stage({ id: st.id, outcome: 'ran', execution: id, fingerprint: fp, durationMs: 1000, reasons: [{ code: 'params-changed', path: 'params.lr', change: 'changed', before: 0.01, after: params.lr }], metrics });
        ran++;
      } else {
        const from = last.get(st.id)!;
        rec.stage({ id: st.id, outcome: 'cached', execution: from.cached_from ?? from.id, fingerprint: from.fingerprint, durationMs: 1000, metrics: from.metrics });
        cached++;
      }
    }
  });
  const summary = { runId, ran, cached, failed: 0, skipped: 0, interrupted: 0, remote: 0, failures: [], durationMs: 5000 };
  cdb.endRun(runId, 'done', summary);
  const matrix = Object.fromEntries(stageIds.filter((s) => s.base !== 'data').map((s) => [s.id, { base: s.base, values: s.values }]));
  const record = await rec.build({ runId, name: r % 10 === 0 ? `exp-${r}` : undefined, file: join(dir, 'p.yaml'), fileText: 'name: bench300\n', params, overrides, goals: { test_accuracy: 'max', test_rmse: 'min', auc: 'max' }, matrix, summary });
  const doc = serializeRecord(record);
  cdb.saveRunRecord(runId, record.name ?? null, doc.record, doc.metrics, JSON.stringify(rec.stages));
}
cdb.close();
const buildS = (Date.now() - t0) / 1000;

function timed(args: string[]): { s: number; out: string } {
  const times: number[] = [];
  let out = '';
  for (let i = 0; i < 3; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [pipeBin, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, CI: 'true', COLUMNS: '200' }, maxBuffer: 1 << 28 });
    times.push(Number(process.hrtime.bigint() - t) / 1e9);
    if (r.status !== 0 && !(args.includes('--fail-if') && r.status === 1)) throw new Error(`pipe ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    out = r.stdout;
  }
  return { s: times.sort()[1]!, out };
}

console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
console.log(`cache: ${RUNS} runs × ${STAGES} stages, ${(statSync(join(dir, 'cache', 'pipe.db')).size / 2 ** 20).toFixed(1)} MiB (built in ${buildS.toFixed(1)} s)\n`);
const row = (what: string, r: { s: number; out: string }, extra = '') => console.log(`${what.padEnd(62)} ${`${r.s.toFixed(2)} s`.padStart(8)}   ${extra}`);
const list = timed(['runs', pipeline]);
row(`pipe runs ${pipeline}  (all ${RUNS} runs)`, list, `${list.out.trim().split('\n').length} lines of output; target < 1 s`);
row(`pipe runs ${pipeline} --json`, timed(['runs', pipeline, '--json']));
row(`pipe runs ${pipeline} --all --sort-by m:train[model=relu].test_accuracy --limit 50`, timed(['runs', pipeline, '--all', '--sort-by', 'm:train[model=relu].test_accuracy', '--limit', '50']));
const d = timed(['diff', pipeline]);
row(`pipe diff ${pipeline}  (the last two runs)`, d, `${d.out.trim().split('\n').length} lines; target < 1 s`);
row(`pipe diff ${pipeline} 1 ${RUNS}  (first vs last)`, timed(['diff', pipeline, '1', String(RUNS)]));
row(`pipe diff ${pipeline} exp-0 exp-500 exp-990 --fail-if …`, timed(['diff', pipeline, 'exp-0', 'exp-500', 'exp-990', '--fail-if', 'test_accuracy < -0.01', '--json']));
row('node start-up alone (node -e 0)', (() => { const t = process.hrtime.bigint(); spawnSync(process.execPath, ['-e', '0']); return { s: Number(process.hrtime.bigint() - t) / 1e9, out: '' }; })());
rmSync(dir, { recursive: true, force: true });
