/**
 * `pipe report --compare`: one self-contained HTML page comparing runs — the diff table (params
 * and metrics, values per run, Δ / %Δ against the first, better/worse by goal) with toggles for
 * "differences only" and "transpose", the stages that differ and why, and the runs' per-epoch
 * curves overlaid (vega-lite; one chart per stage and curve column, one colour per run, one
 * line per matrix instance). vega, vega-lite and vega-embed are inlined (no network).
 */
import { formatReasons } from '../engine/cache/reasons.js';
import { esc, jsonForScript, scriptSafe, vegaScripts } from '../lib/report/assets.js';
import type { CurveTable, DiffResult } from './diff.js';
import { fmtTime, fmtValue, runLabel } from './model.js';
import { meanStd } from '../lib/stats.js';
import { fmtSigned } from './gate.js';
import { baseOf } from './model.js';

export interface ComparePage {
  diff: DiffResult;
  curves: CurveTable[];
  title?: string;
  /** `--group-by`: per run and value of these matrix keys, the mean curve over the instances with a ±1 std band */
  groupBy?: string[];
}

/** The matrix values in an instance id: `train[fold=0,model=relu]` → {fold: '0', model: 'relu'}. */
export function matrixOfId(id: string): Record<string, string> {
  const m = /\[(.*)\]$/.exec(id);
  if (!m) return {};
  return Object.fromEntries(m[1]!.split(',').map((kv) => { const i = kv.indexOf('='); return [kv.slice(0, i), kv.slice(i + 1)]; }));
}

/**
 * vega-lite specs: one per (base stage, curve column), lines coloured by run, one per instance.
 * Columns with a declared goal come first; columns constant in every run are left out.
 */
export function curveSpecs(runs: DiffResult['runs'], curves: CurveTable[], goals: Record<string, string> = {}, groupBy: string[] = []): { id: string; title: string; spec: unknown }[] {
  const label = new Map(runs.map((r) => [r.id, runLabel(r)]));
  const byChart = new Map<string, { base: string; col: string; x: string; values: Record<string, unknown>[] }>();
  for (const t of curves) {
    const base = baseOf(t.stage);
    for (const [col, ys] of Object.entries(t.columns)) {
      if (col === t.x) continue;
      const k = `${base}\u0000${col}`;
      const c = byChart.get(k) ?? { base, col, x: t.x, values: [] };
      const xs = t.columns[t.x] ?? ys.map((_, i) => i);
      ys.forEach((y, i) => { if (Number.isFinite(y)) c.values.push({ run: label.get(t.run) ?? `#${t.run}`, instance: t.stage, line: `${t.run} ${t.stage}`, [t.x]: xs[i], [col]: y }); });
      byChart.set(k, c);
    }
  }
  const order = runs.map((r) => label.get(r.id)!);
  const varies = (c: { col: string; values: Record<string, unknown>[] }) => c.values.some((v) => v[c.col] !== c.values[0]![c.col]);
  const declared = (c: { base: string; col: string }) => (goals[`${c.base}.${c.col}`] ?? goals[c.col] ? 0 : 1);
  const charts = [...byChart.values()].filter((c) => c.values.length && varies(c)).sort((a, b) => declared(a) - declared(b));
  if (groupBy.length) return charts.map((c, i) => ({ id: `curve-${i}`, title: `${c.base} · ${c.col}`, spec: bandSpec(c, groupBy, order) }));
  return charts.map((c, i) => ({
    id: `curve-${i}`,
    title: `${c.base} · ${c.col}`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      width: 420, height: 240,
      title: `${c.base}: ${c.col}`,
      data: { values: c.values },
      mark: { type: 'line', point: c.values.length <= 200, strokeWidth: 1.8 },
      encoding: {
        x: { field: c.x, type: 'quantitative', title: c.x },
        y: { field: c.col, type: 'quantitative', title: c.col, scale: { zero: false } },
        color: { field: 'run', type: 'nominal', title: 'run', sort: order },
        detail: { field: 'line', type: 'nominal' },
        tooltip: [{ field: 'run' }, { field: 'instance' }, { field: c.x, type: 'quantitative' }, { field: c.col, type: 'quantitative', format: '.4g' }],
      },
    },
  }));
}

/** Per run and group (values of `groupBy`), the mean over the instances at each x with a ±1 sample-std band. */
function bandSpec(c: { base: string; col: string; x: string; values: Record<string, unknown>[] }, groupBy: string[], order: string[]): unknown {
  const acc = new Map<string, { run: string; group: string; x: unknown; ys: number[]; instances: Set<unknown> }>();
  for (const v of c.values) {
    const mx = matrixOfId(String(v.instance));
    const g = groupBy.map((k) => `${k}=${mx[k] ?? '—'}`).join(', ');
    const key = `${v.run}\u0000${g}\u0000${v[c.x]}`;
    const a = acc.get(key) ?? { run: String(v.run), group: g, x: v[c.x], ys: [], instances: new Set() };
    a.ys.push(v[c.col] as number);
    a.instances.add(v.instance);
    acc.set(key, a);
  }
  const rows = [...acc.values()].map((a) => {
    const { mean, std } = meanStd(a.ys);
    return { run: a.run, group: a.group, series: `${a.run} · ${a.group}`, [c.x]: a.x, mean, lo: mean - std, hi: mean + std, n: a.ys.length };
  });
  const series = [...new Set(rows.map((r) => r.series))].sort((a, b) => order.indexOf(a.split(' · ')[0]!) - order.indexOf(b.split(' · ')[0]!) || a.localeCompare(b));
  const color = { field: 'series', type: 'nominal', title: `run · ${groupBy.join(', ')}`, sort: series };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 420, height: 240,
    title: { text: `${c.base}: ${c.col}`, subtitle: `mean over the instances per run and ${groupBy.join(', ')}, band ±1 std` },
    data: { values: rows },
    layer: [
      { mark: { type: 'area', opacity: 0.2 }, encoding: { x: { field: c.x, type: 'quantitative', title: c.x }, y: { field: 'lo', type: 'quantitative', title: c.col, scale: { zero: false } }, y2: { field: 'hi' }, color } },
      {
        mark: { type: 'line', strokeWidth: 1.8 },
        encoding: {
          x: { field: c.x, type: 'quantitative' }, y: { field: 'mean', type: 'quantitative' }, color,
          strokeDash: { field: 'run', type: 'nominal', sort: order, title: 'run' },
          tooltip: [{ field: 'run' }, { field: 'group' }, { field: c.x, type: 'quantitative' }, { field: 'mean', type: 'quantitative', format: '.4g' }, { field: 'lo', type: 'quantitative', format: '.4g', title: 'mean − std' }, { field: 'hi', type: 'quantitative', format: '.4g', title: 'mean + std' }, { field: 'n', title: 'instances' }],
        },
      },
    ],
  };
}

export function compareHtml(p: ComparePage): string {
  const d = p.diff;
  const n = d.runs.length;
  const table = {
    runs: d.runs.map((r) => runLabel(r)),
    rows: d.rows.map((r) => ({
      id: r.id + (r.goal === 'max' ? ' ↑' : r.goal === 'min' ? ' ↓' : '') + (r.group && r.n[0] !== undefined ? ` (mean ± std, n=${r.n[0]})` : ''),
      changed: r.changed,
      instance: r.instance,
      values: r.values.map((v, i) => fmtValue(v, { std: r.std[i] })),
      delta: r.delta.map((x, i) => (i === 0 || x === undefined || x === 0 ? '' : fmtSigned(x))),
      pct: r.pct.map((x, i) => (i === 0 || x === undefined || r.delta[i] === 0 ? '' : `${fmtSigned(Number(x.toPrecision(3)))}%`)),
      better: r.better,
    })),
  };
  const specs = curveSpecs(d.runs, p.curves, d.goals, p.groupBy ?? []);
  const runsList = d.runs.map((r) => `<tr><td><b>${esc(runLabel(r))}</b></td><td>${esc(fmtTime(r.started))}</td><td>${esc(r.state)}</td><td><code>${esc(r.overrides.join(' ') || '—')}</code></td><td>${r.record?.git ? `<code>${esc(r.record.git.commit.slice(0, 10))}</code>${r.record.git.dirty ? ' (dirty)' : ''}` : ''}</td></tr>`).join('\n');
  const stages = d.stages.map((s) => `<h3>Stages that differ, #${s.from} → #${s.to} <span class="muted">(${s.differ.length} of ${s.differ.length + s.same})</span></h3>` + (s.differ.length
    ? `<table class="grid stages"><tr><th>stage</th><th>in #${s.to}</th><th>why</th></tr>${s.differ.map((x) => `<tr><td><code>${esc(x.stage)}</code></td><td>${esc(x.change === 'removed' ? `only in #${s.from}` : x.outcome === 'cached' ? `cached (computed in #${x.computedIn ?? '?'})` : `${x.outcome}${x.durationMs !== undefined ? ` (${(x.durationMs / 1000).toFixed(1)}s)` : ''}`)}</td><td>${esc(x.change === 'added' ? `not in #${s.from} (new in the pipeline, or left out by --only)` : x.change === 'removed' ? `not in #${s.to} (removed from the pipeline, or left out by --only)` : formatReasons(x.reasons))}</td></tr>`).join('\n')}</table>`
    : '<p class="muted">none: every stage has the same fingerprint</p>')).join('\n');
  const figures = specs.map((s) => `<figure id="${s.id}" data-spec="${s.id}-spec"><figcaption>${esc(s.title)}</figcaption><div class="chart"></div><script type="application/json" id="${s.id}-spec">${jsonForScript(s.spec)}</script></figure>`).join('\n');
  const title = p.title ?? `Runs compared: ${d.runs.map(runLabel).join(' · ')}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><link rel="icon" href="data:,">
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; } h2 { font-size: 17px; margin-top: 28px; } h3 { font-size: 15px; }
.muted { color: #777; font-weight: normal; }
table.grid { border-collapse: collapse; margin: 8px 0; }
table.grid td, table.grid th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
table.grid th { background: #f6f6f6; }
#diff td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
#diff tr.same td { color: #888; }
#diff tr.instance td:first-child { padding-left: 22px; }
td.better { background: #e3f6e3; color: #176117; } td.worse { background: #fbe4e4; color: #8a1c1c; }
.controls label { margin-right: 16px; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
figure { margin: 0; border: 1px solid #eee; padding: 8px; } figcaption { font-weight: 600; }
</style></head>
<body data-charts="${specs.length ? 'pending' : 'done'}">
<h1>${esc(title)}</h1>
<p class="muted">pipeline <code>${esc(d.runs[0]!.pipeline)}</code> · ${n} runs · Δ and %Δ against ${esc(runLabel(d.runs[0]!))}; green is better and red worse by the metric's goal (↑ max, ↓ min)</p>
<table class="grid"><tr><th>run</th><th>started</th><th>state</th><th>overrides</th><th>git</th></tr>${runsList}</table>
<h2>Params and metrics</h2>
<div class="controls"><label><input type="checkbox" id="diff-only" checked> differences only</label><label><input type="checkbox" id="transpose"> transpose</label><span class="muted" id="row-count"></span></div>
<div id="diff"></div>
<script type="application/json" id="diff-data">${jsonForScript(table)}</script>
<h2>Stages</h2>
${stages}
<h2>Curves</h2>
${specs.length ? `<div class="charts">${figures}</div>` : '<p class="muted">no per-epoch curves in these runs</p>'}
${d.curvesMissing.length ? `<p class="muted">curves no longer in the cache: ${esc(d.curvesMissing.join(', '))}</p>` : ''}
${specs.length ? vegaScripts() : ''}
<script>${scriptSafe(TABLE_JS)}</script>
${specs.length ? `<script>${scriptSafe(EMBED_JS)}</script>` : ''}
</body></html>
`;
}

/** Draws the diff table from its JSON; the two checkboxes redraw it. */
const TABLE_JS = `
(function () {
  var data = JSON.parse(document.getElementById('diff-data').textContent);
  var host = document.getElementById('diff');
  var only = document.getElementById('diff-only');
  var tr = document.getElementById('transpose');
  function el(tag, text, cls) { var e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; }
  function cls(row, i) { var b = row.better[i]; return b === true ? 'num better' : b === false ? 'num worse' : 'num'; }
  function draw() {
    var rows = data.rows.filter(function (r) { return !only.checked || r.changed; });
    var n = data.runs.length;
    // columns: the runs' values, then Δ and %Δ for each later run
    var cols = [];
    data.runs.forEach(function (name, i) { cols.push({ head: name, cell: function (r) { return [r.values[i], cls(r, i)]; } }); });
    for (var i = 1; i < n; i++) (function (i) {
      var tag = n > 2 ? ' ' + data.runs[i].split(' ')[0] : '';
      cols.push({ head: 'Δ' + tag, cell: function (r) { return [r.delta[i], cls(r, i)]; } });
      cols.push({ head: '%Δ' + tag, cell: function (r) { return [r.pct[i], cls(r, i)]; } });
    })(i);
    var t = el('table', undefined, 'grid');
    var head = el('tr');
    if (!tr.checked) {
      head.appendChild(el('th', 'param / metric'));
      cols.forEach(function (c) { head.appendChild(el('th', c.head)); });
      t.appendChild(head);
      rows.forEach(function (r) {
        var x = el('tr', undefined, (r.changed ? 'changed' : 'same') + (r.instance ? ' instance' : ''));
        x.appendChild(el('td', r.id));
        cols.forEach(function (c) { var v = c.cell(r); x.appendChild(el('td', v[0], v[1])); });
        t.appendChild(x);
      });
    } else {
      head.appendChild(el('th', ''));
      rows.forEach(function (r) { head.appendChild(el('th', r.id)); });
      t.appendChild(head);
      cols.forEach(function (c) {
        var x = el('tr');
        x.appendChild(el('th', c.head));
        rows.forEach(function (r) { var v = c.cell(r); x.appendChild(el('td', v[0], v[1])); });
        t.appendChild(x);
      });
    }
    host.innerHTML = '';
    host.appendChild(t);
    host.setAttribute('data-rows', String(rows.length));
    host.setAttribute('data-transposed', tr.checked ? '1' : '0');
    document.getElementById('row-count').textContent = rows.length + ' of ' + data.rows.length + ' rows';
  }
  only.addEventListener('change', draw);
  tr.addEventListener('change', draw);
  draw();
})();
`;

const EMBED_JS = `
(function () {
  var figs = document.querySelectorAll('figure[data-spec]');
  if (typeof vegaEmbed !== 'function') { console.error('vega-embed did not load'); return; }
  var opts = { actions: { export: true, source: false, compiled: false, editor: false }, renderer: 'svg', tooltip: true };
  var chain = Promise.resolve();
  Array.prototype.forEach.call(figs, function (fig) {
    chain = chain.then(function () {
      var spec = JSON.parse(document.getElementById(fig.getAttribute('data-spec')).textContent);
      return vegaEmbed(fig.querySelector('.chart'), spec, opts).then(function () { fig.classList.add('interactive'); })
        .catch(function (err) { console.error('chart ' + fig.id + ' could not be drawn: ' + err); });
    });
  });
  chain.then(function () { document.body.setAttribute('data-charts', 'done'); });
})();
`;
