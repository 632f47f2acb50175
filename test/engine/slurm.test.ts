/**
 * The Slurm executor on a REAL Slurm cluster (scripts/setup-slurm.sh makes a one-node one; .ci/run
 * calls it). Required where CI=true or PIPE_REQUIRE names `slurm`: then a missing cluster fails
 * this file instead of skipping it; elsewhere the cluster tests skip with the reason printed.
 * The parsing and config checks at the end need no cluster.
 *
 * Every cluster test runs concurrently with the others (the TIMEOUT test alone takes over a
 * minute: Slurm's time limits are whole minutes), so the file takes about as long as that one.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pipeWithEnv, project, repoRoot, sleep, startPipe, summary, type PipeResult, doneCount } from './helpers.js';
import { checkRequirement } from '../../src/lib/system/requirements.js';
import { formatTime, parseMem, parseTime, sbatchArgs } from '../../src/engine/front/resources.js';
import { parseSbatch, parseSqueue } from '../../src/engine/exec/slurm.js';

const slurm = await checkRequirement('slurm');
const required = process.env.CI === 'true' || (process.env.PIPE_REQUIRE ?? '').split(',').map((s) => s.trim()).includes('slurm');
const haveSlurm = slurm.status === 'ok';
if (!haveSlurm && !required) console.log(`slurm.test.ts: skipping the cluster tests: ${slurm.detail} (fix: ${slurm.fix})`);

/** `pipe` in `dir` with an empty user config (the developer's own must not leak in). */
const run = (dir: string, ...args: string[]) => pipeWithEnv(dir, { XDG_CONFIG_HOME: join(dir, '.config'), PIPE_CONFIG: undefined }, ...args);
const start = (dir: string, args: string[]) => startPipe(dir, args, { XDG_CONFIG_HOME: join(dir, '.config'), PIPE_CONFIG: undefined });

interface JobRow { stage_id: string; job_id: string; attempt: number; state: string; slurm_state: string | null }

function jobRows(dir: string): JobRow[] {
  const p = join(dir, 'cache/pipe.db');
  if (!existsSync(p)) return [];
  const db = new Database(p, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT stage_id, job_id, attempt, state, slurm_state FROM slurm_jobs ORDER BY id').all() as JobRow[];
  } catch {
    return [];
  } finally {
    db.close();
  }
}


/** A job's time limit from `scontrol show job` (it must still be known to the controller: MinJobAge). */
function scontrolTime(id: string): string | undefined {
  try {
    return parseScontrol(execFileSync('scontrol', ['show', 'job', '-o', id], { encoding: 'utf8' })).TimeLimit;
  } catch {
    return undefined;
  }
}

/** The first line of `scontrol show job -o` as key → value (values may contain spaces: split on ` Key=`). */
function parseScontrol(text: string): Record<string, string> {
  const line = text.trim().split('\n')[0]!;
  const out: Record<string, string> = {};
  const re = /(?:^| )([A-Za-z][A-Za-z0-9_:/]*)=/g;
  const marks: { k: string; start: number; vstart: number }[] = [];
  for (let m; (m = re.exec(line));) marks.push({ k: m[1]!, start: m.index, vstart: m.index + m[0].length });
  marks.forEach((mk, i) => { out[mk.k] = line.slice(mk.vstart, i + 1 < marks.length ? marks[i + 1]!.start : undefined).trim(); });
  return out;
}

/** Every file under artifacts/, path → bytes (hex). */
function artifacts(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name === 'report') continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p, `${rel}${e.name}/`);
      else out[`${rel}${e.name}`] = readFileSync(p).toString('hex');
    }
  };
  walk(join(dir, 'artifacts'), '');
  return out;
}

const ok = (r: PipeResult) => { expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0); return r; };

const dagPipeline = (executor: string) => `name: dag
${executor ? `executor: ${executor}\n` : ''}resources: {time: "5", mem: 128M}
stages:
  gen:
    kind: command
    params: {cmd: 'seq 1 50 > \${outputs.nums}', outs: {nums: text}}
  scale:
    kind: command
    matrix: {k: [2, 3, 5]}
    inputs: {nums: gen.nums}
    params:
      cmd: 'awk -v k=\${matrix.k} "{print \\$1 * k}" \${inputs.nums} > \${outputs.out}'
      outs: {out: text}
  quote:
    kind: command
    matrix: {v: ["two words", "it's \\"quoted\\" $HOME \`x\`"]}
    params:
      cmd: 'printf "%s|\\n" "$V" > \${outputs.out}'
      env: {V: '\${matrix.v}'}
      outs: {out: text}
  total:
    kind: command
    inputs: {parts: 'scale[*].out', q: 'quote[*].out'}
    params: {cmd: 'cat \${inputs.parts} \${inputs.q} | sort > \${outputs.sum}', outs: {sum: text}}
`;

describe.runIf(haveSlurm || required).concurrent('Slurm executor on a real cluster', () => {
  it('the cluster is there (required on CI)', () => {
    expect(slurm.status, `${slurm.detail}; fix: ${slurm.fix}`).toBe('ok');
  });

  it('a DAG through Slurm: artifacts byte-identical to a local run, the matrix as a job array, values with spaces and quotes intact; a rerun submits nothing, and resources are not in the fingerprint', { timeout: 150_000 }, async () => {
    const local = project({ 'p.yaml': dagPipeline('') });
    const remote = project({ 'p.yaml': dagPipeline('slurm') });
    const [rl, rs] = await Promise.all([run(local, 'run', 'p.yaml'), run(remote, 'run', 'p.yaml')]);
    ok(rl); ok(rs);
    expect(summary(rs)).toEqual({ ran: 7, cached: 0, failed: 0 });
    const a = artifacts(local);
    expect(Object.keys(a).length).toBe(7);
    expect(artifacts(remote)).toEqual(a);
    expect(Buffer.from(a['dag/quote[v=it\'s "quoted" $HOME `x`]/out.txt']!, 'hex').toString()).toBe('it\'s "quoted" $HOME `x`|\n');
    const rows = jobRows(remote);
    expect(rows.length).toBe(7); // one row per stage: nothing ran locally, nothing twice
    expect(rows.every((r) => r.state === 'recorded')).toBe(true);
    const scale = rows.filter((r) => r.stage_id.startsWith('scale['));
    const arrayId = scale[0]!.job_id.split('_')[0];
    expect(scale.map((r) => r.job_id).sort()).toEqual([0, 1, 2].map((i) => `${arrayId}_${i}`));
    // rerun: everything cached, nothing submitted; changing resources changes no fingerprint
    expect(rs.stdout + rs.stderr).toMatch(/Slurm: 7 stage\(s\) submitted with 5 sbatch call\(s\) \(the probe job included\), 0 adopted/); // probe, gen, 2 arrays, total
    const again = ok(await run(remote, 'run', 'p.yaml', '--set', 'resources.time=9', '--set', 'stages.scale.resources.cpus=2'));
    expect(summary(again)).toEqual({ ran: 0, cached: 7, failed: 0 });
    expect(again.stdout + again.stderr).not.toMatch(/sbatch|Slurm job/);
    expect(jobRows(remote).length).toBe(7);
    expect(readdirSync(join(remote, 'cache/slurm/tasks'))).toEqual([]);
    // the local run's results are cache hits on Slurm too (resources and executor are not in the key)
    const cross = ok(await run(local, 'run', 'p.yaml', '--executor', 'slurm'));
    expect(summary(cross)).toEqual({ ran: 0, cached: 7, failed: 0 });
  });

  // its preemptable job queues behind the other tests' jobs on the 2-CPU node (89 s of the old
  // 120 s limit in a CI rehearsal; over it on a loaded machine)
  it('requested resources appear in `scontrol show job`; batch: N puts N tasks in one array task', { timeout: 240_000 }, async () => {
    const dir = project({
      'p.yaml': `name: res
executor: slurm
resources: {time: "7"}
stages:
  big:
    kind: command
    resources:
      cpus: 1
      mem: 300M
      time: "3"
      partition: preempt
      retries: 2          # the other tests' jobs (partition debug, higher tier) may preempt it
      sbatch_args: ['--comment=spaces and "double" and it''s single']
    params: {cmd: 'echo $SLURM_CPUS_PER_TASK > \${outputs.out}; scontrol show job -o $SLURM_JOB_ID > \${outputs.job}', outs: {out: text, job: text}}
  small:
    kind: command
    matrix: {i: [1, 2, 3, 4]}
    resources: {batch: 2}
    params: {cmd: 'echo \${matrix.i} > \${outputs.out}; scontrol show job -o $SLURM_JOB_ID > \${outputs.job}', outs: {out: text, job: text}}
`,
    });
    ok(await run(dir, 'run', 'p.yaml'));
    // SLURM_CPUS_PER_TASK is only set when --cpus-per-task was given (1: the other tests' jobs
    // share this 2-CPU node, and a 2-CPU job would wait for the TIMEOUT test's)
    expect(readFileSync(join(dir, 'artifacts/res/big/out.txt'), 'utf8')).toBe('1\n');
    const rows = jobRows(dir);
    const big = rows.find((r) => r.stage_id === 'big' && r.state === 'recorded')!;
    // as the job saw itself (finished jobs leave scontrol after MinJobAge)
    const j = parseScontrol(readFileSync(join(dir, 'artifacts/res/big/job.txt'), 'utf8'));
    expect(j.JobId).toBe(big.job_id);
    expect(j['CPUs/Task']).toBe('1');
    expect(j.MinMemoryNode).toBe('300M');
    expect(j.TimeLimit).toBe('00:03:00');
    expect(j.Partition).toBe('preempt');
    expect(j.Requeue).toBe('0');
    expect(j.Comment).toBe('spaces and "double" and it\'s single');
    expect(j.JobName).toBe('pipe:res:big');
    const small = rows.filter((r) => r.stage_id.startsWith('small['));
    expect(small.length).toBe(4);
    const ids = new Set(small.map((r) => r.job_id));
    expect(ids.size).toBe(2); // two array tasks of two stages each
    expect([...ids].every((id) => /^\d+_[01]$/.test(id))).toBe(true);
    for (const i of [1, 2, 3, 4]) {
      const sj = parseScontrol(readFileSync(join(dir, `artifacts/res/small[i=${i}]/job.txt`), 'utf8'));
      expect(sj.TimeLimit).toBe('00:07:00'); // the pipeline default
      expect(`${sj.ArrayJobId}_${sj.ArrayTaskId}`).toBe(small.find((r) => r.stage_id === `small[i=${i}]`)!.job_id);
    }
  });

  it('a failing stage fails with the tail of its job log (run output and `pipe show`); a job asking for more memory than the node has fails only its stage', { timeout: 120_000 }, async () => {
    const dir = project({
      'p.yaml': `name: fails
executor: slurm
stages:
  bad:
    kind: command
    params: {cmd: 'echo a-line-before-the-failure; echo to-stderr >&2; exit 3', outs: {out: text}}
  huge:
    kind: command
    resources: {mem: 100000G}
    params: {cmd: 'echo never > \${outputs.out}', outs: {out: text}}
  fine:
    kind: command
    params: {cmd: 'echo fine > \${outputs.out}', outs: {out: text}}
`,
    });
    const r = await run(dir, 'run', 'p.yaml', '--keep-going');
    expect(r.code).toBe(1);
    expect(summary(r)).toEqual({ ran: 1, cached: 0, failed: 2 });
    expect(r.stderr).toMatch(/bad failed: command exited with code 3/);
    expect(r.stderr).toMatch(/job log .*last lines:[\s\S]*a-line-before-the-failure/);
    expect(r.stderr).toMatch(/huge failed: sbatch failed: .*(Memory specification can not be satisfied|Requested node configuration is not available)/);
    expect(readFileSync(join(dir, 'artifacts/fails/fine/out.txt'), 'utf8')).toBe('fine\n');
    const show = ok(await run(dir, 'show', 'bad', 'p.yaml'));
    expect(show.stdout).toMatch(/a-line-before-the-failure/);
    expect(show.stdout).toMatch(/to-stderr/);
    expect(show.stdout).toMatch(/Slurm job \d+/);
    expect(existsSync(join(dir, 'artifacts/fails/bad'))).toBe(false);
    // the failed submissions' job logs stay until `pipe gc`
    expect(readdirSync(join(dir, 'cache/slurm/jobs')).length).toBeGreaterThan(0);
    const gc = ok(await run(dir, 'gc'));
    expect(gc.stdout).toMatch(/deleted \d+ Slurm task\/job director(y|ies) under cache\/slurm\//);
    expect(readdirSync(join(dir, 'cache/slurm/jobs'))).toEqual([]);
    expect(readdirSync(join(dir, 'cache/slurm/tasks'))).toEqual([]);
  });

  it('a TIMEOUT is retried with more time, and the stage resumes from its checkpoint (the job log shows the epoch); the result is the uninterrupted one', { timeout: 240_000 }, async () => {
    // 200 epochs of 0.5 s in the first job: past the 1-minute limit (Slurm enforces it within
    // ~30 s); every epoch draws from a NumPy PCG64 stream and checkpoints; the sum is checked
    // against pipe's own PCG64
    const dir = project({
      'p.yaml': `name: slowpoke
executor: slurm
seed: 9
stages:
  nap:
    kind: python
    resources: {time: "1", retries: 1}
    checkpoint: {every_epochs: 1}
    params: {script: long.py, outs: {sum: json, job: text}, params: {epochs: 200}}
`,
      'long.py': `import json, os, subprocess, time
import numpy as np
from pipe_stage import params, seed, output, curve, progress, checkpoint
rng = np.random.default_rng(seed)
E = params['epochs']
state = checkpoint.load()
start, total = (state['epoch'], state['total']) if state else (0, 0.0)
if state:
    rng.bit_generator.state = state['rng']
for epoch in range(start + 1, E + 1):
    if os.environ['PIPE_SLURM_ATTEMPT'] == '1':
        time.sleep(0.5)   # the first job outlasts its limit; the retry need not hold the node's CPU long
    total += rng.random()
    curve(epoch=epoch, total=total)
    progress(epoch, E, unit='epoch')
    checkpoint.save({'epoch': epoch, 'total': total, 'rng': rng.bit_generator.state}, epoch, E)
with open(output('sum'), 'w') as f:
    json.dump({'sum': repr(total), 'attempt': os.environ['PIPE_SLURM_ATTEMPT']}, f)
with open(output('job'), 'w') as f:
    f.write(subprocess.run(['scontrol', 'show', 'job', '-o', os.environ['SLURM_JOB_ID']], capture_output=True, text=True).stdout)
`,
    });
    const r = ok(await pipeWithEnv(dir, { XDG_CONFIG_HOME: join(dir, '.config'), PIPE_CONFIG: undefined, PIPE_PYTHON: '/usr/bin/python3' }, 'run', 'p.yaml'));
    expect(summary(r)).toEqual({ ran: 1, cached: 0, failed: 0 });
    const rows = jobRows(dir);
    expect(rows.map((x) => [x.attempt, x.state, x.slurm_state])).toEqual([[1, 'failed', 'TIMEOUT'], [2, 'recorded', 'COMPLETED']]);
    const second = parseScontrol(readFileSync(join(dir, 'artifacts/slowpoke/nap/job.txt'), 'utf8'));
    expect(second.JobId).toBe(rows[1]!.job_id);
    expect(second.TimeLimit).toBe('00:02:00');
    const m = /ended TIMEOUT \(time limit 1\).*retrying \(attempt 2 of 2\) with time 00:02:00, resuming from epoch (\d+)\/200/.exec(r.stderr + r.stdout);
    expect(m, r.stderr + r.stdout).not.toBeNull();
    const at = Number(m![1]);
    expect(at).toBeGreaterThan(60);   // a minute of 0.5 s epochs (minus start-up) was kept
    expect(at).toBeLessThan(200);
    // the second job's log: it resumed at that epoch
    const show = ok(await run(dir, 'show', 'nap', 'p.yaml'));
    expect(show.stdout).toMatch(/TIMEOUT/);
    expect(show.stdout + show.stderr).toMatch(new RegExp(`resumed at epoch ${at}/200 from a checkpoint`));
    // every epoch once, and the sum of the 200 draws of the seed's PCG64 stream, as one run gives it
    const { NumpyGenerator } = await import('../../src/lib/random/numpy.js');
    const g = new NumpyGenerator(9);
    let total = 0;
    for (let e = 0; e < 200; e++) total += g.random();
    const out = JSON.parse(readFileSync(join(dir, 'artifacts/slowpoke/nap/sum.json'), 'utf8'));
    expect(out.attempt).toBe('2');
    expect(Number(out.sum)).toBe(total);
    const { readTable } = await import('../../src/sdk/table.js');
    const curves = await readTable(join(dir, 'artifacts/slowpoke/nap/curves.arrow'));
    expect([...curves.getChild('epoch')!.toArray()].map(Number)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(readdirSync(join(dir, 'cache/resume'))).toEqual([]);
  });

  it('a job over its memory limit (OUT_OF_MEMORY) is retried with more memory', { timeout: 150_000 }, async () => {
    const dir = project({
      'p.yaml': `name: hog
executor: slurm
stages:
  hog:
    kind: command
    resources: {mem: 200M, retries: 1, retry_mem_factor: 4}
    params:
      cmd: 'echo attempt $PIPE_SLURM_ATTEMPT; "${process.execPath}" -e "const b = Buffer.alloc(400 << 20, 1); setTimeout(() => require(\\"fs\\").writeFileSync(process.env.PIPE_OUTPUT_OUT, \\"held \\" + (b.length >> 20) + \\" MiB\\\\n\\"), 4000)"'
      outs: {out: text}
`,
    });
    const r = ok(await run(dir, 'run', 'p.yaml'));
    expect(summary(r)).toEqual({ ran: 1, cached: 0, failed: 0 });
    expect(readFileSync(join(dir, 'artifacts/hog/hog/out.txt'), 'utf8')).toBe('held 400 MiB\n');
    const rows = jobRows(dir);
    expect(rows.map((x) => [x.attempt, x.state, x.slurm_state])).toEqual([[1, 'failed', 'OUT_OF_MEMORY'], [2, 'recorded', 'COMPLETED']]);
    expect(r.stderr + r.stdout).toMatch(/retrying \(attempt 2 of 2\) with mem 800M/);
    const show = ok(await run(dir, 'show', 'hog', 'p.yaml'));
    expect(show.stdout).toMatch(/[Ee]xceeded (job )?memory limit/);
  });

  it('coordinator killed with SIGKILL mid-run, then rerun: running jobs are adopted, finished ones recorded, no job submitted twice', { timeout: 150_000 }, async () => {
    const n = 4;
    const dir = project({
      'p.yaml': `name: adopt
executor: slurm
stages:
${Array.from({ length: n }, (_, i) => `  s${i}:
    kind: command
    params: {cmd: 'echo $PIPE_STAGE $SLURM_JOB_ID >> ran.log; sleep ${2 + i}; echo ${i} > \${outputs.out}', outs: {out: text}}
`).join('')}`,
    });
    const { child, done } = start(dir, ['run', 'p.yaml']);
    const t0 = Date.now();
    while (doneCount(dir) < 1 && Date.now() - t0 < 60_000) await sleep(100);
    child.kill('SIGKILL');
    await done;
    const before = doneCount(dir);
    expect(before).toBeGreaterThanOrEqual(1);
    expect(before).toBeLessThan(n);
    const rowsBefore = jobRows(dir);
    const r = ok(await run(dir, 'run', 'p.yaml'));
    expect(summary(r)).toEqual({ ran: n - before, cached: before, failed: 0 });
    const adoptedMsg = /Slurm: (\d+) stage\(s\) submitted with \d+ sbatch call\(s\) \(the probe job included\), (\d+) adopted/.exec(r.stdout + r.stderr);
    expect(adoptedMsg, r.stdout + r.stderr).not.toBeNull();
    expect(Number(adoptedMsg![1]) + Number(adoptedMsg![2]) + before).toBe(n);
    expect(Number(adoptedMsg![1])).toBe(n - rowsBefore.length); // only what the killed run never submitted
    const rows = jobRows(dir);
    // every stage submitted exactly once, over both runs; each command ran once
    expect(rows.map((x) => x.stage_id).sort()).toEqual(Array.from({ length: n }, (_, i) => `s${i}`));
    expect(rows.slice(0, rowsBefore.length).map((x) => x.job_id)).toEqual(rowsBefore.map((x) => x.job_id));
    const ran = readFileSync(join(dir, 'ran.log'), 'utf8').trim().split('\n').map((l) => l.split(' ')[0]).sort();
    expect(ran).toEqual(Array.from({ length: n }, (_, i) => `s${i}`));
    if (rowsBefore.length === n) expect(r.stdout + r.stderr).not.toMatch(/Slurm job \d+(_\d+)? submitted/);
    for (let i = 0; i < n; i++) expect(readFileSync(join(dir, `artifacts/adopt/s${i}/out.txt`), 'utf8')).toBe(`${i}\n`);
  });

  it('the user config file picks the executor and its limits: max_queued caps the jobs queued at once, submit_rate paces sbatch', { timeout: 120_000 }, async () => {
    const dir = project({
      'p.yaml': `name: capped
stages:
${[0, 1, 2, 3, 4].map((i) => `  c${i}:
    kind: command
    params: {cmd: 'sleep 1; echo ${i} > \${outputs.out}', outs: {out: text}}
`).join('')}`,
      '.config/pipe/config.yaml': 'executor: slurm\nresources: {time: "4"}\nslurm: {max_queued: 2, submit_rate: 2}\n',
    });
    const r = ok(await run(dir, 'run', 'p.yaml'));
    expect(summary(r)).toEqual({ ran: 5, cached: 0, failed: 0 });
    const db = new Database(join(dir, 'cache/pipe.db'), { readonly: true });
    const rows = db.prepare('SELECT job_id, submitted, updated, state FROM slurm_jobs ORDER BY submitted').all() as { job_id: string; submitted: number; updated: number; state: string }[];
    db.close();
    expect(rows.length).toBe(5);
    expect(rows.every((x) => x.state === 'recorded')).toBe(true);
    // never more than two jobs between submission and recording
    for (const a of rows) expect(rows.filter((b) => b.submitted <= a.submitted && b.updated > a.submitted).length).toBeLessThanOrEqual(2);
    // at most 2 sbatch calls per second (calls start ≥ 500 ms apart; these are the times they returned)
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.submitted - rows[i - 1]!.submitted).toBeGreaterThanOrEqual(300);
    expect(scontrolTime(rows[rows.length - 1]!.job_id)).toBe('00:04:00'); // the config file's default
  });

  it('Ctrl-C cancels the run\'s queued jobs', { timeout: 120_000 }, async () => {
    const dir = project({
      'p.yaml': `name: cancel
executor: slurm
resources: {sbatch_args: ['--begin=now+600']}
stages:
  w:
    kind: command
    matrix: {i: [1, 2, 3]}
    params: {cmd: 'echo \${matrix.i} > \${outputs.out}', outs: {out: text}}
  x:
    kind: command
    params: {cmd: 'echo x > \${outputs.out}', outs: {out: text}}
`,
    });
    const { child, done } = start(dir, ['run', 'p.yaml']);
    const t0 = Date.now();
    const pending = () => { const r = jobRows(dir); return r.length === 4 && r.every((x) => x.slurm_state === 'PENDING'); };
    while (!pending() && Date.now() - t0 < 60_000) await sleep(100);
    const rows = jobRows(dir);
    expect(rows.length).toBe(4);
    // while the run is live, status and show name the jobs and their Slurm states
    const st = ok(await run(dir, 'status', 'p.yaml'));
    const w1 = rows.find((x) => x.stage_id === 'w[i=1]')!;
    expect(st.stdout).toMatch(new RegExp(`w\\[i=1\\] +never-run .*\\[Slurm job ${w1.job_id} PENDING\\]`));
    const sh = ok(await run(dir, 'show', 'w[i=1]', 'p.yaml'));
    expect(sh.stdout).toMatch(/running on Slurm/);
    expect(sh.stdout).toContain(`job ${w1.job_id} PENDING (attempt 1, run 1 is polling it)`);
    const ids = [...new Set(rows.map((x) => x.job_id))];
    const q = execFileSync('squeue', ['-h', '-r', '-t', 'all', '-j', ids.map((i) => i.split('_')[0]).join(','), '-o', '%i %T %r'], { encoding: 'utf8' });
    expect(q).toMatch(/PENDING/);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stdout).toMatch(/0 ran, 0 cached, 0 failed, 4 interrupted/);
    expect(r.stderr + r.stdout).toMatch(/cancelled Slurm jobs? /);
    const after = execFileSync('squeue', ['-h', '-r', '-t', 'all', '-j', ids.map((i) => i.split('_')[0]).join(','), '-o', '%i %T'], { encoding: 'utf8' });
    for (const id of ids) {
      const line = after.split('\n').find((l) => l.startsWith(`${id} `));
      expect(line ?? `${id} gone`, after).toMatch(/CANCELLED|gone/);
    }
    expect(jobRows(dir).every((x) => x.state === 'cancelled')).toBe(true);
  });
});

// after the concurrent cluster tests, on an idle node
describe.runIf(haveSlurm || required)('Slurm executor on a real cluster: preemption', () => {
  it('a job preempted by a higher-tier partition\'s job is resubmitted (PREEMPTED retry)', { timeout: 120_000 }, async () => {
    const dir = project({
      'p.yaml': `name: pre
executor: slurm
stages:
  low:
    kind: command
    resources: {partition: preempt, cpus: 2, time: "3", retries: 1}
    params: {cmd: 'echo attempt $PIPE_SLURM_ATTEMPT; sleep 6; echo $PIPE_SLURM_ATTEMPT > \${outputs.out}', outs: {out: text}}
`,
    });
    const { done } = start(dir, ['run', 'p.yaml']);
    const t0 = Date.now();
    while (!jobRows(dir).some((x) => x.slurm_state === 'RUNNING') && Date.now() - t0 < 60_000) await sleep(100);
    expect(jobRows(dir).map((x) => x.slurm_state)).toEqual(['RUNNING']);
    // a job of the higher-tier partition that needs the whole node
    execFileSync('sbatch', ['--parsable', '--partition=debug', '--cpus-per-task=2', '--time=1', '--output=/dev/null', '--job-name=pipe-test-preemptor', '--wrap', 'sleep 2']);
    const r = await done;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(readFileSync(join(dir, 'artifacts/pre/low/out.txt'), 'utf8')).toBe('2\n');
    expect(jobRows(dir).map((x) => [x.attempt, x.state, x.slurm_state])).toEqual([[1, 'failed', 'PREEMPTED'], [2, 'recorded', 'COMPLETED']]);
    expect(r.stdout + r.stderr).toMatch(/ended PREEMPTED.*retrying \(attempt 2 of 2\)/);
  });
});

describe.runIf(haveSlurm || required)('Slurm executor on a real cluster: node failure', () => {
  it('NODE_FAIL is retried excluding the failed node (here the only one: the retry cannot be placed and the stage fails saying so)', { timeout: 120_000 }, async () => {
    const node = execFileSync('sinfo', ['-h', '-N', '-o', '%N'], { encoding: 'utf8' }).trim().split('\n')[0]!;
    // an idle node first (jobs of the earlier tests, e.g. the preemptor, may still be ending)
    for (let i = 0; i < 600 && execFileSync('squeue', ['-h', '-o', '%i'], { encoding: 'utf8' }).trim(); i++) await sleep(100);
    const dir = project({
      'p.yaml': `name: nf
executor: slurm
stages:
  n:
    kind: command
    resources: {time: "3", retries: 1}
    params: {cmd: 'sleep 30; echo > \${outputs.out}', outs: {out: text}}
`,
    });
    const { done } = start(dir, ['run', 'p.yaml']);
    const t0 = Date.now();
    while (!jobRows(dir).some((x) => x.slurm_state === 'RUNNING') && Date.now() - t0 < 60_000) await sleep(100);
    try {
      expect(jobRows(dir).map((x) => x.slurm_state), 'the job never started: the node must run it before it is taken down').toContain('RUNNING');
      execFileSync('scontrol', ['update', `NodeName=${node}`, 'State=DOWN', 'Reason=pipe-test-node-fail']);
      const r = await done;
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stdout + r.stderr, JSON.stringify(jobRows(dir))).toMatch(new RegExp(`ended NODE_FAIL.*retrying \\(attempt 2 of 2\\) excluding ${node}`));
      expect(r.stderr).toMatch(/n failed: sbatch failed: .*Requested node configuration is not available/);
      expect(jobRows(dir).map((x) => [x.attempt, x.state, x.slurm_state])).toEqual([[1, 'failed', 'NODE_FAIL']]);
    } finally {
      // the node comes back (ReturnToService=2); make sure before the next test
      for (let i = 0; i < 50; i++) {
        const st = execFileSync('sinfo', ['-h', '-n', node, '-o', '%t'], { encoding: 'utf8' }).trim();
        if (/^(idle|mix|alloc)/.test(st)) break;
        try { execFileSync('scontrol', ['update', `NodeName=${node}`, 'State=RESUME']); } catch { /* not down yet */ }
        await sleep(200);
      }
    }
  });
});

// after the cluster tests (not concurrent with them): re-running the setup script with the
// daemons up rewrites nothing and restarts nothing
describe.runIf(haveSlurm && process.getuid?.() === 0)('scripts/setup-slurm.sh', () => {
  it('is idempotent: a re-run with the cluster up changes nothing', () => {
    const out = execFileSync('bash', [join(repoRoot, 'scripts/setup-slurm.sh')], { encoding: 'utf8', timeout: 60_000 });
    expect(out).not.toMatch(/writing|starting|installing|creating/);
    expect(out).toMatch(/setup-slurm: node \S+ is (idle|mix|alloc); partitions: debug\* preempt/);
  });
});

if (!haveSlurm && required) {
  describe('Slurm executor on a real cluster', () => {
    it('the cluster is there (required here: CI=true or PIPE_REQUIRE=slurm)', () => {
      expect(slurm.status, `${slurm.detail}; fix: ${slurm.fix}`).toBe('ok');
    });
  });
}

describe('Slurm executor: parsing and configuration (no cluster needed)', () => {
  it('parses squeue, sbatch --parsable, times and memory', () => {
    const q = parseSqueue('12|RUNNING|None|vm\n13_2|PENDING|Resources|\n14|COMPLETED|None|vm\n');
    expect(q.get('12')).toEqual({ state: 'RUNNING', reason: 'None', node: 'vm' });
    expect(q.get('13_2')).toEqual({ state: 'PENDING', reason: 'Resources', node: '' });
    expect(parseSbatch('42\n')).toBe('42');
    expect(parseSbatch('42;cluster\n')).toBe('42');
    expect(parseSbatch('sbatch: error: x\n')).toBeUndefined();
    expect(parseTime('5')).toBe(300);
    expect(parseTime('1:30')).toBe(90);
    expect(parseTime('1:00:00')).toBe(3600);
    expect(parseTime('2-03')).toBe(2 * 86400 + 3 * 3600);
    expect(formatTime(60)).toBe('00:01:00');
    expect(formatTime(61)).toBe('00:02:00');
    expect(formatTime(86400 + 3600)).toBe('1-01:00:00');
    expect(parseMem('2G')).toBe(2048);
    expect(parseMem('512')).toBe(512);
    expect(() => parseTime('soon')).toThrow(/not a Slurm time/);
    expect(sbatchArgs({ cpus: 2, mem: '1G', time: '10', retries: 2 }, { time: 2, mem: 1.5 })).toEqual(['--cpus-per-task=2', '--mem=1536M', '--time=00:20:00', '--no-requeue']);
    expect(sbatchArgs({ time: 10, mem: 512 }, { time: 3, mem: 2 })).toEqual(['--mem=1024M', '--time=00:30:00', '--no-requeue']);
    expect(sbatchArgs({ requeue: true, sbatch_args: ['--comment=a b'] }, { exclude: ['n1'] })).toEqual(['--exclude=n1', '--requeue', '--comment=a b']);
  });

  it('bad resources in the pipeline, in --set and in the user config are errors at file:line:col', async () => {
    const dir = project({
      'p.yaml': `name: bad
stages:
  a:
    kind: command
    resources: {time: soon, cpus: 2}
    params: {cmd: 'true'}
`,
      'q.yaml': `name: q
executor: slurmm
stages:
  a:
    kind: command
    resources: {cpu: 2}
    params: {cmd: 'true'}
`,
      'ok.yaml': `name: okp
stages:
  a:
    kind: command
    params: {cmd: 'true'}
`,
      '.config/pipe/config.yaml': 'executor: slurm\nresources:\n  mem: lots\nslurm: {max_queud: 3}\n',
    });
    const r = await run(dir, 'status', 'p.yaml');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/p\.yaml:5:23: stages\.a\.resources\.time: 'soon' is not a Slurm time/);
    const q = await run(dir, 'status', 'q.yaml');
    expect(q.code).toBe(2);
    expect(q.stderr).toMatch(/q\.yaml:2:11: executor must be one of "local", "slurm"/);
    expect(q.stderr).toMatch(/q\.yaml:6:17: unknown field 'cpu' in stages\.a\.resources/);
    const s = await run(dir, 'status', 'ok.yaml', '--set', 'stages.a.resources.time=never');
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/ok\.yaml:\d+:\d+: stages\.a\.resources\.time: 'never' is not a Slurm time/);
    const c = await run(dir, 'run', 'ok.yaml');
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/config\.yaml:4:9: config: unknown field 'max_queud' in slurm/);
    // no Slurm on PATH: a clear error before anything runs (a dry run still works)
    const noSlurm = await pipeWithEnv(dir, { XDG_CONFIG_HOME: join(dir, 'none'), PIPE_CONFIG: undefined, PATH: '/nonexistent' }, 'run', 'ok.yaml', '--executor', 'slurm');
    expect(noSlurm.code).toBe(2);
    expect(noSlurm.stderr).toMatch(/--executor slurm: sbatch not found \(not a Slurm submit host\); fix: bash scripts\/setup-slurm\.sh/);
    expect(existsSync(join(dir, 'cache/slurm'))).toBe(false);
    const dry = await pipeWithEnv(dir, { XDG_CONFIG_HOME: join(dir, 'none'), PIPE_CONFIG: undefined, PATH: '/nonexistent' }, 'run', 'ok.yaml', '--executor', 'slurm', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    writeFileSync(join(dir, '.config/pipe/config.yaml'), 'resources:\n  mem: lots\n');
    const c2 = await run(dir, 'run', 'ok.yaml');
    expect(c2.code).toBe(2);
    expect(c2.stderr).toMatch(/config\.yaml:2:8: resources\.mem: 'lots' is not a Slurm memory size/);
  });
});

/**
 * Additional unit tests of the executor's judgement with a scripted stand-in for sbatch/squeue/
 * sacct (the proof is the real cluster above). The "jobs" here run pipe's real worker locally.
 */
describe('Slurm executor: judging jobs with a scripted scheduler (no cluster needed)', () => {
  type Scenario = 'ok' | 'vanish' | 'transient' | 'tamper' | 'oom-acct';
  async function runOne(scenario: Scenario) {
    const { CacheDb } = await import('../../src/engine/cache/db.js');
    const { SlurmExecutor } = await import('../../src/engine/exec/slurm.js');
    const { workerEntry } = await import('../../src/engine/exec/pool.js');
    const dir = project({});
    mkdirSync(join(dir, 'cache'), { recursive: true });
    const db = new CacheDb(join(dir, 'cache/pipe.db'));
    const calls: string[][] = [];
    let sbatchFails = scenario === 'transient' ? 2 : 0;
    const finished = new Set<string>();
    let next = 100;
    const runner = async (cmd: string, args: string[]) => {
      calls.push([cmd, ...args]);
      if (cmd === 'sbatch') {
        if (args.includes('--job-name=pipe-probe')) {
          const d = args[args.length - 3]!;
          writeFileSync(join(d, 'seen'), `${readFileSync(join(d, 'token'), 'utf8')}\nfakehost\n`);
          return { code: 0, stdout: `${next++}\n`, stderr: '' };
        }
        if (sbatchFails-- > 0) return { code: 1, stdout: '', stderr: 'sbatch: error: Batch job submission failed: Socket timed out on send/recv operation' };
        const id = String(next++);
        const jobDir = args[args.length - 1]!;
        if (scenario === 'oom-acct') finished.add(id); // killed before it wrote anything
        else if (scenario !== 'vanish') {
          execFileSync(process.execPath, [workerEntry, '--slurm-element', join(jobDir, 'element-0.json')], { stdio: 'ignore' });
          if (scenario === 'tamper') {
            const el = JSON.parse(readFileSync(join(jobDir, 'element-0.json'), 'utf8')) as string[];
            writeFileSync(join(el[0]!, 'out', 'out.txt'), 'tampered\n');
          }
          finished.add(id);
        }
        return { code: 0, stdout: `${id}\n`, stderr: '' };
      }
      if (cmd === 'squeue') {
        const ids = args[args.indexOf('-j') + 1]!.split(',');
        const lines = ids.filter((i) => finished.has(i) && scenario !== 'oom-acct').map((i) => `${i}|COMPLETED|None|fakehost`);
        return { code: 0, stdout: lines.join('\n'), stderr: '' };
      }
      if (cmd === 'sacct') {
        if (scenario !== 'oom-acct') return { code: 1, stdout: '', stderr: 'Slurm accounting storage is disabled' };
        const j = args[args.indexOf('-j') + 1]!;
        return { code: 0, stdout: j === '1' ? '' : `${j}|OUT_OF_MEMORY\n`, stderr: '' };
      }
      return { code: 0, stdout: '', stderr: '' };
    };
    const said: string[] = [];
    const ex = new SlurmExecutor(db, join(dir, 'cache'), (m) => said.push(m), { poll_min: 0.02, poll_max: 0.05, submit_rate: 1000, array_window_ms: 0 }, runner);
    const taskDir = ex.newTaskDir('t');
    const task = {
      id: 't', kind: 'command', params: { cmd: 'echo hi > ${outputs.out}', outs: { out: 'text' }, deps: [], env: {}, shell: '/bin/sh' }, matrix: {}, seed: 0,
      runtime: {}, inputs: {}, outputs: { out: { path: join(taskDir, 'out', 'out.txt'), type: 'text' as const } }, tmpDir: join(taskDir, 'scratch'), projectDir: dir,
    };
    const log: string[] = [];
    const res = await ex.run(task, { onLog: (l) => log.push(...l) }, new AbortController().signal, {
      pipeline: 'p', stageId: 't', base: 't', fingerprint: 'f'.repeat(64), runId: 1, resources: { time: '5' }, taskDir,
    });
    await ex.close();
    const rows = db.slurmJobsOf('t');
    db.close();
    return { res, calls, said, log, rows };
  }

  it('a job that completes with a verified marker is a success', async () => {
    const { res, calls } = await runOne('ok');
    expect(res.ok, JSON.stringify(res)).toBe(true);
    expect(calls.filter((c) => c[0] === 'squeue').length).toBeGreaterThanOrEqual(1);
  });

  it('a job that vanished without a marker is never a success (state UNKNOWN)', async () => {
    const { res } = await runOne('vanish');
    expect(res.ok).toBe(false);
    expect(!res.ok && res.error).toMatch(/vanished from the queue without writing its result marker \(state unknown/);
  });

  it('transient sbatch errors are retried with backoff; the stage then runs', async () => {
    const { res, calls, said } = await runOne('transient');
    expect(res.ok, JSON.stringify(res)).toBe(true);
    expect(calls.filter((c) => c[0] === 'sbatch').length).toBe(4); // probe + 2 failures + 1
    expect(said.filter((m) => /sbatch failed \(.*Socket timed out.*\); retrying in/.test(m)).length).toBe(2);
  });

  it('outputs that do not match the marker\'s hashes fail the stage', async () => {
    const { res } = await runOne('tamper');
    expect(res.ok).toBe(false);
    expect(!res.ok && res.error).toMatch(/does not match its recorded hash/);
  });

  it('with accounting, a job gone from squeue is looked up with sacct (here OUT_OF_MEMORY)', async () => {
    const { res, said, calls } = await runOne('oom-acct');
    expect(said.some((m) => /accounting is enabled/.test(m))).toBe(true);
    expect(calls.some((c) => c[0] === 'sacct' && c.includes('JobID,State'))).toBe(true);
    expect(res.ok).toBe(false);
    expect(!res.ok && res.error).toMatch(/ended OUT_OF_MEMORY .*without a result/);
  });
});
