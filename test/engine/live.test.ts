/**
 * The terminal while a run works: the live display drawn in a real terminal (tmux) leaves no
 * stale frame and ends with the summary; its frame always fits the terminal; `--progress json`
 * is a parseable event stream whose ETA comes from recorded durations.
 */
import { describe, it, expect } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import stringWidth from 'string-width';
import { LiveReporter, instanceLabel } from '../../src/engine/ui/live.js';
import type { PlannedStage } from '../../src/engine/front/graph.js';
import { pipe, pipeBin, project, sleep } from './helpers.js';

// a project kind that sleeps, reports progress and chatters on stdout/stderr like a library banner
const noisyKind = `
interface Ctx {
  params: { ms: number; n: number; g: number };
  progress(p: { done: number; total: number; unit?: string; message?: string }): void;
  output(name: string): { writeText(text: string): Promise<void> };
}
export default {
  kind: 'noisy', version: '1', description: 'sleeps, reports progress, chatters on stdout/stderr',
  paramsSchema: { type: 'object', properties: { ms: { type: 'integer', default: 300 }, n: { type: 'integer', default: 0 }, g: { type: 'integer', default: 0 } }, additionalProperties: false },
  inputs: { x: { type: 'any', optional: true, multiple: true } },
  outputs: { out: { type: 'text' } },
  async run(ctx: Ctx): Promise<void> {
    console.warn('BANNER: looks like you are running a chatty library in Node.js');
    process.stdout.write('STRAY stdout line\\n');
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, ctx.params.ms / 5));
      ctx.progress({ done: i + 1, total: 5, unit: 'step', message: 'loss ' + (1 / (i + 1)).toFixed(3) });
    }
    await ctx.output('out').writeText('g=' + ctx.params.g + ' n=' + ctx.params.n + '\\n');
  },
};
`;

/** `groups` chained stage groups of 3 instances each (long names, so lines must be truncated). */
function tallPipeline(groups: number, ms: number): string {
  const L = ['name: tall', 'params: {ms: ' + ms + '}', 'stages:'];
  for (let i = 1; i <= groups; i++) {
    const name = `group_${String(i).padStart(2, '0')}_with_a_rather_long_stage_name`;
    L.push(`  ${name}:`, '    kind: noisy', '    matrix: {n: [1, 2, 3]}');
    if (i > 1) L.push(`    inputs: {x: 'group_${String(i - 1).padStart(2, '0')}_with_a_rather_long_stage_name[*].out'}`);
    L.push(`    params: {ms: '\${params.ms}', n: '\${matrix.n}', g: ${i}}`);
  }
  return L.join('\n') + '\n';
}

const haveTmux = spawnSync('tmux', ['-V']).status === 0;
if (!haveTmux) {
  if (process.env.CI === 'true') throw new Error('tmux is required on CI for the live-display test (scripts/setup-system.sh --with-test-deps installs it)');
  console.warn('test/engine/live: the tmux test is SKIPPED: tmux is not installed (apt-get install tmux)');
}

// the two CLI runs below mostly wait on their stages' sleeps: they run side by side
describe.concurrent('CLI runs', () => {
  describe.skipIf(!haveTmux)('the live display in a real terminal (tmux, 80×12)', () => {
    it('redraws cleanly: no stale frame, no worker chatter, a taller-than-the-terminal list collapses, the summary stays', async () => {
      const dir = project({ 'pipelines/tall.yaml': tallPipeline(14, 300), 'stages/noisy.ts': noisyKind });
      const session = `pipe-live-${process.pid}`;
      const env = Object.entries({ FORCE_COLOR: '0', TERM: 'xterm-256color' }).map(([k, v]) => `${k}=${v}`).join(' ');
      // CI is unset inside the terminal: this is the interactive display a user sees
      const cmd = `cd ${dir} && env -u CI ${env} ${process.execPath} ${pipeBin} run pipelines/tall.yaml --jobs 3; echo "EXIT=$?"; sleep 120`;
      execFileSync('tmux', ['-L', session, 'new-session', '-d', '-s', session, '-x', '80', '-y', '12', cmd]);
      const capture = () => execFileSync('tmux', ['-L', session, 'capture-pane', '-p', '-J', '-t', session, '-S', '-500'], { encoding: 'utf8' });
      try {
        let mid = '';
        let screen = '';
        for (let i = 0; i < 300; i++) {
          await sleep(100);
          screen = capture();
          if (!mid && /ETA/.test(screen) && /groups done/.test(screen)) mid = screen;
          if (/EXIT=\d+/.test(screen)) break;
        }
        expect(screen, screen).toMatch(/EXIT=0/);
        // while running: the overall line with counts and ETA, collapsed groups, truncated lines
        expect(mid, 'no mid-run frame with collapsed groups seen').toMatch(/tall · \d+\/42 done \(\d+ ran, \d+ cached\) · \d+ running · \d+ to run · .* · ETA/);
        for (const line of mid.split('\n')) expect(stringWidth(line)).toBeLessThanOrEqual(80);
        const lines = screen.split('\n').filter((l) => l.trim());
        // the final screen (with its scrollback): the ran groups once each, the summary, nothing else
        expect(lines.filter((l) => /^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/.test(l)), screen).toEqual([]); // no frame left behind
        expect(screen).not.toMatch(/ETA|to run|groups done|BANNER|STRAY|step \d\/5/);
        for (let i = 1; i <= 14; i++) expect(lines.filter((l) => l.includes(`group_${String(i).padStart(2, '0')}_`))).toHaveLength(1);
        expect(lines.at(-2)).toMatch(/^42 ran, 0 cached, 0 failed \(\d+\.\ds\)$/);
        // the chatter went to the stage's log
        const show = await pipe(dir, 'show', 'pipelines/tall.yaml', 'group_01_with_a_rather_long_stage_name[n=1]');
        expect(show.stdout + show.stderr).toMatch(/\[stderr\] BANNER[\s\S]*STRAY stdout line/);
      } finally {
        spawnSync('tmux', ['-L', session, 'kill-server']);
      }
    }, 90_000);
  });

  describe('--progress json', () => {
    it('one JSON event per line: run, start/progress/end per stage with the reason, summary; the ETA from recorded durations', async () => {
      const dir = project({ 'pipelines/tall.yaml': tallPipeline(3, 400), 'stages/noisy.ts': noisyKind });
      const parse = (stdout: string) => stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
      const r1 = await pipe(dir, 'run', 'pipelines/tall.yaml', '--jobs', '2', '--progress', 'json');
      expect(r1.code, r1.stderr).toBe(0);
      const ev = parse(r1.stdout);
      expect(ev[0]).toMatchObject({ event: 'run', pipeline: 'tall', stages: 9, to_run: 9, jobs: 2 });
      expect(ev.at(-1)).toMatchObject({ event: 'summary', ran: 9, cached: 0, failed: 0 });
      const ids = [...new Set(ev.filter((e) => e.id).map((e) => e.id))];
      expect(ids).toHaveLength(9);
      for (const id of ids) {
        const mine = ev.filter((e) => e.id === id).map((e) => e.event);
        expect(mine[0]).toBe('start');
        expect(mine.at(-1)).toBe('end');
        expect(mine.filter((e) => e === 'progress').length).toBeGreaterThanOrEqual(1);
      }
      // the same reason codes as `pipe status --json`: data, with the words alongside
      expect(ev.find((e) => e.event === 'start')!.reasons).toEqual([{ code: 'never-run', text: 'never run' }]);
      expect(ev.find((e) => e.event === 'progress')).toMatchObject({ total: 5, unit: 'step' });
      expect(ev.every((e, i) => typeof e.t_s === 'number' && (i === 0 || e.t_s >= ev[i - 1]!.t_s))).toBe(true);
      expect(ev.filter((e) => e.event === 'end').at(-1)!.eta_s).toBe(0);
      // worker chatter never reaches stdout: every line above parsed as JSON

      // the same run again: nothing to run, nothing to wait for
      const r2 = parse((await pipe(dir, 'run', 'pipelines/tall.yaml', '--progress', 'json')).stdout);
      expect(r2[0]).toMatchObject({ event: 'run', to_run: 0, eta_s: 0 });
      // change the first group's params: all 9 rerun, each expected to take what it took last time
      const last = new Map(ev.filter((e) => e.event === 'end').map((e) => [e.id, e.duration_ms as number]));
      const r3 = parse((await pipe(dir, 'run', 'pipelines/tall.yaml', '--jobs', '2', '--set', 'ms=420', '--progress', 'json')).stdout);
      const sum = [...last.values()].reduce((a, b) => a + b, 0);
      expect(r3[0]).toMatchObject({ event: 'run', to_run: 9 });
      expect(r3[0]!.eta_s).toBeGreaterThan((sum / 2 / 1000) * 0.8);
      expect(r3[0]!.eta_s).toBeLessThan((sum / 2 / 1000) * 1.25 + 0.3);
    }, 90_000);
  });
});

describe('LiveReporter frame', () => {
  const stages = (groups: number, per: number): PlannedStage[] => {
    const out: PlannedStage[] = [];
    for (let g = 0; g < groups; g++) for (let i = 0; i < per; i++) out.push({ id: per > 1 ? `stage_number_${g}_long_name[fold=${i},model=relu]` : `stage_number_${g}_long_name`, base: `stage_number_${g}_long_name`, kind: { kind: 'train' } } as unknown as PlannedStage);
    return out;
  };

  it('fits any terminal: lines truncated to the width, finished and waiting groups collapsed, extra running instances counted', () => {
    const all = stages(12, 6);
    const rep = new LiveReporter({ pipeline: 'p', jobs: 6, color: false, interval: 1e9, stream: { columns: 50, rows: 10, write: () => true } as unknown as NodeJS.WriteStream });
    const saved = { out: process.stdout.write, err: process.stderr.write };
    try {
      rep.on({ type: 'run-start', runId: 1, stages: all });
      for (const s of all.slice(0, 30)) rep.on({ type: 'stage-end', id: s.id, outcome: 'ran', durationMs: 10 }); // groups 0–4 done
      for (const s of all.slice(30, 36)) { rep.on({ type: 'stage-start', id: s.id, reasons: [{ code: 'params-changed', path: 'params.lr', change: 'changed', before: 0.1, after: 0.2 }] }); rep.on({ type: 'stage-progress', id: s.id, progress: { done: 3, total: 20, unit: 'epoch', message: 'val_accuracy 0.871' } }); }
      const f = rep.frame(10_000, 50, 10);
      expect(f.length).toBeLessThanOrEqual(8);
      for (const l of f) expect(stringWidth(l)).toBeLessThanOrEqual(49);
      expect(f[0]).toMatch(/^. p · 30\/72 done \(30 ran, 0 cached\) · 6 running/);
      expect(f.some((l) => /5 groups done: stage_number_0_long_name/.test(l))).toBe(true);
      expect(f.some((l) => /6 groups waiting/.test(l))).toBe(true);
      expect(f.some((l) => /… \d more running/.test(l))).toBe(true);
      expect(f.some((l) => /fold 0 · relu {3}epoch 3\/20/.test(l))).toBe(true);
      // a tall terminal shows every group on its own line
      const tall = rep.frame(10_000, 200, 60);
      expect(tall.filter((l) => /stage_number_\d+_long_name/.test(l))).toHaveLength(12);
      expect(tall.find((l) => l.includes('fold=0') || l.includes('fold 0 · relu'))).toMatch(/epoch 3\/20 · val_accuracy 0\.871 · .* · params\.lr changed 0\.1 → 0\.2$/);
    } finally {
      process.stdout.write = saved.out;
      process.stderr.write = saved.err;
    }
  });

  it('a resumed stage says so: resumed at N', () => {
    const all = stages(1, 1);
    const rep = new LiveReporter({ pipeline: 'p', jobs: 1, color: false, interval: 1e9, stream: { columns: 120, rows: 10, write: () => true } as unknown as NodeJS.WriteStream });
    rep.on({ type: 'run-start', runId: 1, stages: all });
    rep.on({ type: 'stage-start', id: all[0]!.id, reasons: [] });
    rep.on({ type: 'stage-resumed', id: all[0]!.id, epoch: 37, total: 100 });
    rep.on({ type: 'stage-progress', id: all[0]!.id, progress: { done: 47, total: 100, unit: 'epoch' } });
    const f = rep.frame(Date.now(), 120, 10).join('\n');
    expect(f).toMatch(/epoch 47\/100 · resumed at 37 · /);
  });

  it('labels instances by their matrix values', () => {
    expect(instanceLabel('train[dataset=adult,fold=3,model=gelu]')).toBe('adult · fold 3 · gelu');
    expect(instanceLabel('results')).toBe('results');
  });
});
