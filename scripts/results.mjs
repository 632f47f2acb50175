#!/usr/bin/env node
/**
 * `npm run results`: regenerates the README's result tables from the pipelines' artifacts, so the
 * numbers cannot drift from what the pipelines produced. Every generated block sits between
 * `<!-- results:<name> -->` and `<!-- /results:<name> -->` in README.md; a block whose artifacts
 * are missing is left as it is (and named on stderr).
 *
 *   node scripts/results.mjs [--artifacts DIR] [--readme FILE] [--check]
 *
 * --check: change nothing, exit 1 when a block would change (the README is stale).
 * Blocks: playground (activation_playground), hebbian (hebbian_mlp), agf (group_agf), actmix (actmix_cv),
 * infomax_relu and infomax (infomax_sweep), actmix_single (actmix, the seed's single run),
 * actmix_quick (actmix_quick: the paired statistics at smoke size).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const ART = opt('--artifacts', 'artifacts');
const README = opt('--readme', 'README.md');
const CHECK = args.includes('--check');

const json = (...p) => JSON.parse(readFileSync(join(ART, ...p), 'utf8'));
const has = (...p) => existsSync(join(ART, ...p));
const f4 = (v) => (v == null || !Number.isFinite(v) ? '—' : v.toFixed(4));
const num = (v, d) => (Math.abs(v) >= 1e6 ? v.toExponential(2) : v.toFixed(d));
const pm = (m, d = 4) => (m && m.n ? `${num(m.mean, d)} ± ${num(m.std, d)}` : '—');
const int = (v) => (v == null ? '—' : Math.round(v).toLocaleString('en-US'));
const sig = (v, d = 3) => (v == null || !Number.isFinite(v) ? '—' : Number(v.toPrecision(d)).toString());

// seed-systems.md §C.4: the repo's own benchmark run (best MSE), the reference the GD cells are compared with
const C4 = {
  linear_pos: [0.1862, 0.6642, 2.1210, 0.2797, 0.1060, 0.0000],
  quadratic_u: [1.2770, 0.9606, 1.2744, 1.2756, 1.2737, 1.2752],
  cubic_s: [3.5832, 1.4974, 10.9220, 1.4163, 3.8689, 3.1867],
  cubic_neg: [3.7740, 3.0506, 10.9407, 3.0051, 3.2844, 1.7560],
  quartic_w: [0.1765, 0.1815, 0.1818, 0.1542, 0.1848, 0.1806],
};
const ACTS = ['tanh', 'relu', 'sigmoid', 'leaky_relu', 'sine', 'identity'];

function playground() {
  const dir = 'activation_playground';
  if (!has(dir, `fit[polynomial=cubic_s,activation=relu]`, 'metrics.json')) return null;
  const out = [];
  let same = 0, total = 0, stream = null;
  out.push('| polynomial | Var(y) | ' + ACTS.join(' | ') + ' |', '|--|--:|' + ACTS.map(() => '--:').join('|') + '|');
  for (const [poly, ref] of Object.entries(C4)) {
    const cells = ACTS.map((a, k) => {
      const m = json(dir, `fit[polynomial=${poly},activation=${a}]`, 'metrics.json');
      stream ??= `${m.init_stream}, rng ${m.init_rng ?? 'pipe'}`;
      total++;
      if (m.best_mse.toFixed(4) === ref[k].toFixed(4)) same++;
      return { m, text: `${f4(m.best_mse)} / ${f4(m.optimum_mse)}` };
    });
    out.push(`| ${poly} | ${f4(cells[0].m.var_y)} | ${cells.map((c) => c.text).join(' | ')} |`);
  }
  out.push('');
  out.push(`GD best MSE equal to the §C.4 table at 4 dp: **${same} of ${total}** cells (init: ${stream}).`);
  const extra = [];
  for (const a of ['tanh', 'sigmoid', 'sine', 'relu', 'leaky_relu']) if (has(dir, `adam[activation=${a}]`, 'metrics.json')) extra.push(`${a} ${f4(json(dir, `adam[activation=${a}]`, 'metrics.json').best_mse)}`);
  if (extra.length) out.push(`Adam, 6000 epochs on cubic_s (\`adam\`): ${extra.join(', ')}.`);
  const one = (s, what) => (has(dir, s, 'metrics.json') ? `${what} ${f4(json(dir, s, 'metrics.json').best_mse)}` : null);
  const ex = [one('relu_fit', 'ReLU on cubic_s, single-neuron schedule (1200 epochs)'), one('sigmoid_fit', 'σ(wx) (800 epochs, lr 5e-3)'), one('mlp_fit', 'tiny tanh MLP [8], Adam')].filter(Boolean);
  if (ex.length) out.push(`Explorations: ${ex.join('; ')}.`);
  return out.join('\n');
}

function hebbian() {
  const dir = 'hebbian_mlp';
  if (!has(dir, 'comparison', 'results.json')) return null;
  const out = [];
  const cmp = json(dir, 'comparison', 'results.json');
  const name = (g) => (!g.hebbian ? (g.meta ? '+ meta-tuner' : 'plain backprop') : `+ Hebbian, γ = ${g.decay}${g.decay === 0 ? ' (the seed\'s default)' : ' (Oja)'}${g.meta ? ' + meta-tuner' : ''}`);
  const count = (m) => (m && m.n ? `${Math.round(m.mean * m.n)}/${m.n}` : '—');
  const paired = (g, metric) => cmp.paired.find((p) => p.metric === metric && JSON.stringify(p.group) === JSON.stringify(g.group));
  out.push('| study arm (lr 0.05, EMA momentum, α 0.02, 25 epochs) | accuracy | BCE (median) | diverged | blew up after the best epoch | paired Δ accuracy vs plain (better in) |', '|---|---:|---:|---:|---:|---:|');
  const order = (g) => (g.group.hebbian ? 2 : 0) + (g.group.decay ? 2 : 0) + (g.group.meta ? 1 : 0);
  for (const g of [...cmp.groups].sort((a, b) => order(a) - order(b))) {
    const m = g.metrics, p = paired(g, 'accuracy');
    const bce = m.bce?.values?.length ? [...m.bce.values].sort((a, b) => a - b)[Math.floor((m.bce.values.length - 1) / 2)] : null;
    out.push(`| ${name(g.group)} | ${pm(m.accuracy)} | ${sig(bce)} | ${count(m.diverged)} | ${count(m.diverged_after_best)} | ${p ? `${p.mean >= 0 ? '+' : ''}${p.mean.toFixed(4)} ± ${p.std.toFixed(4)} (${p.better}/${p.n})` : '—'} |`);
  }
  if (has(dir, 'study_recipe_effect', 'results.json')) {
    const r = json(dir, 'study_recipe_effect', 'results.json');
    const fixed = r.groups.find((g) => g.group.restore_best === true), last = r.groups.find((g) => g.group.restore_best === false);
    const p = r.paired.find((x) => x.metric === 'accuracy');
    out.push('', "The seed's study recipe (Hebbian α 0.02, γ 0, meta-tuner; every epoch run as in the seed's loop):", '',
      '| scored from | accuracy | diverged | blew up after the best epoch |', '|---|---:|---:|---:|',
      `| the restored best-validation weights (the fix, decision 5) | ${pm(fixed?.metrics.accuracy)} | ${count(fixed?.metrics.diverged)} | ${count(fixed?.metrics.diverged_after_best)} |`,
      `| the last epoch's weights (the seed's aliasing bug) | ${pm(last?.metrics.accuracy)} | ${count(last?.metrics.diverged)} | — |`);
    if (p) out.push('', `Paired, fix − no fix: ${p.mean >= 0 ? '+' : ''}${p.mean.toFixed(4)} ± ${p.std.toFixed(4)} accuracy (better in ${p.better}/${p.n}).`);
  }
  if (has(dir, 'restore_effect', 'results.json')) {
    const r = json(dir, 'restore_effect', 'results.json');
    const fixed = r.groups.find((g) => g.group.restore_best === true), last = r.groups.find((g) => g.group.restore_best === false);
    const p = r.paired.find((x) => x.metric === 'accuracy');
    out.push('', `Health Adam recipe, fix vs last epoch: ${pm(fixed?.metrics.accuracy)} vs ${pm(last?.metrics.accuracy)}${p ? `, paired ${p.mean >= 0 ? '+' : ''}${p.mean.toFixed(4)} ± ${p.std.toFixed(4)} (better in ${p.better}/${p.n})` : ''}.`);
  }
  const rec = [];
  if (has(dir, 'study', 'metrics.json')) { const m = json(dir, 'study', 'metrics.json'); rec.push(`study (the recipe, rep 0) ${f4(m.test.accuracy)} (best epoch ${m.best_epoch}${m.diverged ? `, blew up at epoch ${m.diverged_epoch}` : ''})`); }
  if (has(dir, 'health', 'metrics.json')) rec.push(`health (Adam, lr 0.03, wd 5e-4) ${f4(json(dir, 'health', 'metrics.json').test.accuracy)}`);
  if (has(dir, 'health_mt', 'metrics.json')) { const m = json(dir, 'health_mt', 'metrics.json'); rec.push(`health multi-task (8 epochs, w_mt 0.25) ${f4(m.test.accuracy)} with risk-score MSE ${f4(m.test.mse)}`); }
  if (rec.length) out.push('', `README recipes on rep 0's data: ${rec.join('; ')}.`);
  return out.join('\n');
}

function agf() {
  const dir = 'group_agf';
  if (!has(dir, 'analyze_1d', 'summary.json')) return null;
  const out = [];
  const row = (train, analyze, what) => {
    if (!has(dir, analyze, 'summary.json')) return;
    const s = json(dir, analyze, 'summary.json'), m = has(dir, train, 'metrics.json') ? json(dir, train, 'metrics.json') : null;
    const lv = s.levels.slice(0, 5).map((x) => x.toPrecision(3)).join(', ');
    const visits = s.plateaus.filter((v) => v.status !== 'not reached').map((v) => `L${v.m} ${v.status === 'rested' ? `rested ${int(v.restFrom)}–${int(v.restTo)}` : `passed through at ${int(v.passedAt)}`}`).join('; ');
    const near = s.levels[s.nearest_level];
    const fin = near > 0 ? `${sig(s.final_loss, 4)} = ${(s.final_loss / near).toFixed(3)} × L${s.nearest_level}` : `${sig(s.final_loss, 4)} (${(s.final_loss / s.levels[0]).toExponential(1)} × L0; last level 0)`;
    out.push(`| ${what} | ${lv} | ${visits} | ${fin} | ${s.frequencies_acquired.join(', ')} (${s.alive} of ${s.neurons} neurons alive)${m ? `, ${int(m.steps)} steps` : ''} |`);
  };
  out.push('| run | levels L₀ … L₄ (predicted) | plateaus: rested on (steps) / passed through | final loss | modes learned |', '|---|---|---|---:|---|');
  row('rnn_1d', 'analyze_1d', '1D C_100, k = 3, fourier (5 modes), QuadraticRNN d = 200, Adam 1e-3');
  row('mlp_2d', 'analyze_2d', '2D C_10×C_10, k = 3, MNIST "4", SequentialMLP d = 600, per-neuron SGD lr 1');
  for (const lr of ['0.1', '0.01']) row(`clean[lr=${lr}]`, `analyze_clean[lr=${lr}]`, `clean case: C_10, k = 2, fourier (2 modes), SequentialMLP d = 12, per-neuron SGD lr ${lr}`);
  const sweep = (name, title, label) => {
    if (!has(dir, name, 'results.json')) return;
    const r = json(dir, name, 'results.json');
    out.push('', title, '', '| ' + label + ' | runs | final loss | plateaus passed (of 3) | steps to L₁ | steps to L₂ |', '|---|---:|---:|---:|---:|---:|');
    for (const g of r.groups) {
      const m = g.metrics, key = Object.entries(g.group).filter(([, v]) => v !== null).map(([k, v]) => `${k} ${v}`).join(', ');
      const reached = (x) => (x && x.n ? `${int(x.mean)} (${x.n}/${m.final_loss.n})` : `— (0/${m.final_loss.n})`);
      out.push(`| ${key} | ${m.final_loss.n} | ${pm(m.final_loss, 3)} | ${pm(m.plateaus_passed, 2)} | ${reached(m.steps_to_L1)} | ${reached(m.steps_to_L2)} |`);
    }
  };
  sweep('hidden_summary', 'Hidden width (C_10, fourier 3 modes, SequentialMLP, k = 3, per-neuron lr 1, 4,000 steps, 3 seeds):', 'width');
  sweep('lr_summary', 'Learning rate (QuadraticRNN d = 24, k = 3):', 'optimizer');
  sweep('size_summary', 'Model size (SequentialMLP, per-neuron lr 1):', 'k, d');
  return out.join('\n');
}

function actmix(name = 'actmix_cv') {
  if (!has(name, 'results', 'results.json')) return null;
  const r = json(name, 'results', 'results.json');
  const out = [];
  const order = ['adult', 'magic', 'ccpp'], models = ['actmix', 'relu', 'gelu', 'prelu', 'xgboost'];
  const rank = (g) => order.indexOf(g.group.dataset) * 10 + models.indexOf(g.group.model);
  const mmx = (m, d) => (m && m.n ? `${m.mean.toFixed(d)} ± ${m.std.toFixed(d)} (${m.min.toFixed(d)}–${m.max.toFixed(d)})` : '—');
  out.push('| dataset | model | accuracy / RMSE | ROC-AUC / R² |', '|---|---|---|---|');
  for (const g of [...r.groups].sort((a, b) => rank(a) - rank(b))) {
    const m = g.metrics;
    const cls = m.accuracy && m.accuracy.n;
    out.push(`| ${g.group.dataset} | ${g.group.model} | ${cls ? mmx(m.accuracy, 4) : `RMSE ${mmx(m.rmse, 3)}`} | ${cls ? (m.roc_auc ? m.roc_auc.mean.toFixed(4) : '—') : (m.r2 ? m.r2.mean.toFixed(4) : '—')} |`);
  }
  // paired: one table per task type, ActMix named once; Δ [95% t interval] (folds ActMix is better), p Holm-adjusted
  const signed = (v, d = 4) => (v == null || !Number.isFinite(v) ? '—' : `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(d)}`);
  const pval = (p) => (p == null || !Number.isFinite(p) ? '—' : p < 0.001 ? '<0.001' : p.toFixed(3));
  const pd = (x) => (x ? `${signed(x.mean)}${x.ci_low != null ? ` [${signed(x.ci_low)}, ${signed(x.ci_high)}]` : ` ± ${x.std.toFixed(4)}`} (${x.better}/${x.n})` : '—');
  const pairs = new Map();
  for (const x of r.paired ?? []) {
    const key = `${x.group.dataset}|${x.baseline.model}`;
    if (!pairs.has(key)) pairs.set(key, {});
    pairs.get(key)[x.metric] = x;
  }
  const sorted = [...pairs].sort(([a], [b]) => rank({ group: { dataset: a.split('|')[0], model: a.split('|')[1] } }) - rank({ group: { dataset: b.split('|')[0], model: b.split('|')[1] } }));
  const howOf = (any) => (any && any.p_adj !== undefined
    ? `mean difference [${Math.round((any.level ?? 0.95) * 100)}% t interval] (folds where ActMix is better / n), p: ${any.test === 'wilcoxon' ? 'Wilcoxon signed-rank' : any.test === 'sign-flip' ? 'exact sign-flip' : 'paired t'}${any.correction && any.correction !== 'none' ? `, ${any.correction === 'bh' ? 'Benjamini–Hochberg' : 'Holm'}-adjusted over the comparisons of each column` : ''}`
    : 'mean ± population std of the difference (folds where ActMix is better / n)');
  for (const [title, a, b, la, lb] of [['classification', 'accuracy', 'roc_auc', 'Δ accuracy', 'Δ ROC-AUC'], ['regression', 'rmse', 'r2', 'Δ RMSE (lower is better)', 'Δ R²']]) {
    const rows = sorted.filter(([, v]) => v[a] || v[b]);
    if (!rows.length) continue;
    const how = howOf(rows.flatMap(([, v]) => [v[a], v[b]]).find((x) => x && x.p_adj !== undefined) ?? rows[0][1][a] ?? rows[0][1][b]);
    out.push('', `**ActMix − each baseline, ${title}**, paired by fold: ${how}:`, '',
      `| dataset | − model | ${la} | p | ${lb} | p |`, '|---|---|---:|---:|---:|---:|');
    for (const [key, v] of rows) {
      const [ds, model] = key.split('|');
      out.push(`| ${ds} | ${model} | ${pd(v[a])} | ${pval(v[a]?.p_adj)} | ${pd(v[b])} | ${pval(v[b]?.p_adj)} |`);
    }
  }
  return out.join('\n');
}

// seed-systems.md §B.7: the seed's published ReLU, K = 16 run (v1 model, one run)
const B7 = { tc: 4.78, weight_redundancy: 2.21, output_correlation: 3.13, eff_rank: 15.14, final_loss: -202.07 };

function infomaxRelu(name = 'infomax_sweep') {
  if (!has(name, 'summary_by_width', 'results.json')) return null;
  const runs = [];
  for (let seed = 0; seed < 1000; seed++) {
    if (!has(name, `train[activation=relu,hidden=16,seed=${seed}]`, 'metrics.json')) continue;
    runs.push({ seed, m: json(name, `train[activation=relu,hidden=16,seed=${seed}]`, 'metrics.json').final });
  }
  if (!runs.length) return null;
  const cols = ['tc', 'weight_redundancy', 'output_correlation', 'eff_rank', 'final_loss'];
  const f2 = (v) => (v < 0 ? `−${(-v).toFixed(2)}` : v.toFixed(2));
  const out = ['| | TC | redundancy | output corr | eff rank (PR) | final loss |', '|---|---:|---:|---:|---:|---:|'];
  out.push(`| seed (§B.7, one run) | ${cols.map((c) => f2(B7[c])).join(' | ')} |`);
  for (const r of runs.slice(0, 2)) out.push(`| pipe, seed ${r.seed} | ${cols.map((c) => f2(r.m[c])).join(' | ')} |`);
  const st = (c) => { const v = runs.map((r) => r.m[c]); const mean = v.reduce((a, b) => a + b, 0) / v.length; return { mean, std: Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length), min: Math.min(...v), max: Math.max(...v) }; };
  out.push(`| **pipe, ${runs.length} seeds: mean ± std** | ${cols.map((c) => `${f2(st(c).mean)} ± ${st(c).std.toFixed(2)}`).join(' | ')} |`);
  out.push(`| pipe, ${runs.length} seeds: min – max | ${cols.map((c) => `${f2(st(c).min)} – ${f2(st(c).max)}`).join(' | ')} |`);
  const inside = cols.filter((c) => B7[c] >= st(c).min && B7[c] <= st(c).max);
  out.push('', `The seed's run lies inside pipe's ${runs.length}-seed range on ${inside.length} of ${cols.length} metrics${inside.length ? ` (${inside.map((c) => ({ tc: 'TC', weight_redundancy: 'redundancy', output_correlation: 'output corr', eff_rank: 'eff rank', final_loss: 'final loss' })[c]).join(', ')})` : ''}.`);
  return out.join('\n');
}

function infomax(name = 'infomax_sweep') {
  if (!has(name, 'summary_by_width', 'results.json')) return null;
  const r = json(name, 'summary_by_width', 'results.json');
  const cols = ['eff_rank', 'erank_rv', 'weight_redundancy', 'dead_units', 'output_correlation', 'tc', 'final_loss'];
  const out = ['| activation | K | runs | eff_rank (PR) | erank (Roy–Vetterli) | redundancy | dead | output corr | TC | final loss |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|'];
  const groups = [...r.groups].sort((a, b) => (a.group.activation < b.group.activation ? -1 : a.group.activation > b.group.activation ? 1 : a.group.hidden - b.group.hidden));
  for (const g of groups) out.push(`| ${g.group.activation} | ${g.group.hidden} | ${g.metrics.eff_rank?.n ?? 0} | ${cols.map((c) => pm(g.metrics[c], 3)).join(' | ')} |`);
  return out.join('\n');
}

function actmixSingle(name = 'actmix') {
  if (!has(name, 'train', 'metrics.json') || !has(name, 'analyze[checkpoint=best]', 'stats.json')) return null;
  const m = json(name, 'train', 'metrics.json');
  const t = m.test;
  const out = [];
  out.push(`* ${m.stopped_early ? `Early stopping after ${m.epochs_run} epochs` : `${m.epochs_run} epochs`}, best epoch ${m.best_epoch} (0-based; T = ${m.temperature_at_best.toFixed(3)}): test accuracy **${t.accuracy.toFixed(4)}**,`,
    `  ROC-AUC ${t.roc_auc.toFixed(4)}, macro F1 ${t.f1_macro.toFixed(3)}, log loss ${t.log_loss.toFixed(3)}.`);
  out.push('* The two checkpoints the analysis shows, each labelled in every figure title',
    "  (`analyze[checkpoint=last]` is the seed README's `last.ckpt`, `analyze[checkpoint=best]` the",
    '  restored best-val-loss model that was tested):', '');
  out.push('| checkpoint | after epochs | T | mean entropy of α (layer 0 / 1) | ReLU mass fraction | neurons dominated by ReLU |', '|---|---|---|---|---|---|');
  const rows = {};
  for (const [c, after] of [['last', m.epochs_run], ['best', m.best_epoch + 1]]) {
    if (!has(name, `analyze[checkpoint=${c}]`, 'stats.json')) continue;
    const s = json(name, `analyze[checkpoint=${c}]`, 'stats.json');
    const layers = Object.keys(s).sort();
    const frac = (l) => { const b = s[l].basis_mass; return b.relu / Object.values(b).reduce((x, y) => x + y, 0); };
    rows[c] = { after, entropy: layers.map((l) => s[l].mean_entropy) };
    out.push(`| ${c} | ${after} | ${s[layers[0]].temperature.toFixed(3)} | ${layers.map((l) => s[l].mean_entropy.toFixed(3)).join(' / ')} | ${layers.map((l) => frac(l).toFixed(3)).join(' / ')} | ${layers.map((l) => s[l].dominance_counts.relu).join(' / ')} |`);
  }
  if (rows.last && rows.best) {
    const ratio = Math.max(...rows.last.entropy.map((e, i) => e / rows.best.entropy[i]));
    out.push('', `  The seed's analysis of \`last.ckpt\` therefore describes a model ${rows.last.after - rows.best.after} epochs past the one it`,
      `  tested: far more specialised (mean entropy of α ≤ ${ratio.toFixed(2)}× per layer) than the network whose accuracy it reports.`);
  }
  return out.join('\n');
}

const blocks = { playground, hebbian, agf, actmix: () => actmix('actmix_cv'), actmix_quick: () => actmix('actmix_quick'), infomax_relu: () => infomaxRelu(), infomax: () => infomax(), actmix_single: () => actmixSingle() };
let text = readFileSync(README, 'utf8');
let stale = [];
for (const [name, build] of Object.entries(blocks)) {
  const open = `<!-- results:${name} -->`, close = `<!-- /results:${name} -->`;
  const a = text.indexOf(open), b = text.indexOf(close);
  if (a < 0 || b < a) { process.stderr.write(`results: README has no ${open} … ${close} block\n`); continue; }
  const body = build();
  if (body === null) { process.stderr.write(`results: ${name}: artifacts missing under ${ART}, block left as it is\n`); continue; }
  const next = text.slice(0, a + open.length) + '\n' + body + '\n' + text.slice(b);
  if (next !== text) stale.push(name);
  text = next;
}
if (CHECK) {
  if (stale.length) { process.stderr.write(`results: README blocks out of date: ${stale.join(', ')} (run npm run results)\n`); process.exit(1); }
} else {
  writeFileSync(README, text);
  process.stderr.write(`results: ${stale.length ? `updated ${stale.join(', ')}` : 'README already up to date'}\n`);
}
