/**
 * The pipeline DAG as an interactive SVG: one node per base stage (matrix instances grouped,
 * with a bar of their states and a count), click a group's ± to expand it into its instances,
 * click any node for its details (state and reasons, params, metrics, outputs). Stays readable
 * with 40+ instances because groups start collapsed.
 *
 * The layout and drawing code is plain browser JS (DAG_JS), inlined into the pages; the server
 * runs the very same code (new Function) for the no-script fallback and the SVG in REPORT.md.
 */
import type { ReportData } from './types.js';
import { fmtCell, fmtMs, fmtNum } from '../format.js';

export const DAG_JS = `${fmtNum.toString()}
${fmtCell.toString()}
${fmtMs.toString()}
` + String.raw`
var DAG_COLORS = { fresh: '#2e7d32', stale: '#f9a825', 'never-run': '#9e9e9e', failed: '#c62828', running: '#1565c0' };
var DAG_ORDER = ['failed', 'running', 'stale', 'never-run', 'fresh'];
function dagEsc(s) { return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;'); }
function dagTrunc(s, n) { s = String(s); return s.length > n ? s.slice(0, n - 1) + '\u2026' : s; }
function dagMatrixLabel(m) { var k = Object.keys(m || {}); return k.length ? k.map(function (x) { return x + '=' + m[x]; }).join(',') : ''; }

/** Visible nodes and edges given which bases are expanded. */
function dagVisible(stages, expanded) {
  var bases = [], byBase = {};
  stages.forEach(function (s) { if (!byBase[s.base]) { byBase[s.base] = []; bases.push(s.base); } byBase[s.base].push(s); });
  var nodes = [], keyOf = {};
  bases.forEach(function (b) {
    var list = byBase[b];
    var single = list.length === 1 && Object.keys(list[0].matrix || {}).length === 0;
    if (single) {
      var s = list[0];
      nodes.push({ key: s.id, base: b, kind: s.kind, label: s.id, sub: s.kind, states: [s.state], ids: [s.id], group: false, instance: false });
      keyOf[s.id] = s.id;
    } else if (expanded[b]) {
      list.forEach(function (s) {
        nodes.push({ key: s.id, base: b, kind: s.kind, label: dagMatrixLabel(s.matrix) || s.id, sub: b + ' \u00b7 ' + s.kind, states: [s.state], ids: [s.id], group: false, instance: true });
        keyOf[s.id] = s.id;
      });
    } else {
      var key = 'group:' + b;
      nodes.push({ key: key, base: b, kind: list[0].kind, label: b, sub: list[0].kind + ' \u00b7 ' + list.length + ' instances', states: list.map(function (s) { return s.state; }), ids: list.map(function (s) { return s.id; }), group: true, instance: false });
      list.forEach(function (s) { keyOf[s.id] = key; });
    }
  });
  var edges = [], seen = {};
  stages.forEach(function (s) {
    (s.deps || []).forEach(function (d) {
      var a = keyOf[d], b = keyOf[s.id];
      if (!a || !b || a === b || seen[a + '\u0000' + b]) return;
      seen[a + '\u0000' + b] = 1;
      edges.push([a, b]);
    });
  });
  return { nodes: nodes, edges: edges };
}

/** Layered left-to-right layout: longest-path layers, barycentre ordering. */
function layoutDag(vis) {
  var W = 224, H = 58, GX = 76, GY = 16, PAD = 16;
  var idx = {}, preds = {}, succs = {};
  vis.nodes.forEach(function (n, i) { idx[n.key] = i; preds[n.key] = []; succs[n.key] = []; });
  vis.edges.forEach(function (e) { preds[e[1]].push(e[0]); succs[e[0]].push(e[1]); });
  var layer = {}, indeg = {}, queue = [];
  vis.nodes.forEach(function (n) { indeg[n.key] = preds[n.key].length; if (!indeg[n.key]) queue.push(n.key); layer[n.key] = 0; });
  var order = [];
  while (queue.length) {
    var k = queue.shift(); order.push(k);
    succs[k].forEach(function (t) { layer[t] = Math.max(layer[t], layer[k] + 1); if (--indeg[t] === 0) queue.push(t); });
  }
  vis.nodes.forEach(function (n) { if (order.indexOf(n.key) < 0) order.push(n.key); });
  var layers = [];
  order.forEach(function (k) { var l = layer[k]; (layers[l] = layers[l] || []).push(k); });
  for (var l = 0; l < layers.length; l++) layers[l] = layers[l] || [];
  var pos = {};
  function setPos() { layers.forEach(function (ks) { ks.forEach(function (k, i) { pos[k] = i; }); }); }
  setPos();
  function bary(k, nb) { var p = nb[k]; if (!p.length) return pos[k]; var s = 0; p.forEach(function (q) { s += pos[q]; }); return s / p.length; }
  for (var it = 0; it < 6; it++) {
    var down = it % 2 === 0;
    for (var li = down ? 1 : layers.length - 2; down ? li < layers.length : li >= 0; li += down ? 1 : -1) {
      var ks = layers[li];
      var b = {};
      ks.forEach(function (k) { b[k] = bary(k, down ? preds : succs); });
      ks.sort(function (x, y) { return b[x] - b[y] || idx[x] - idx[y]; });
      ks.forEach(function (k, i) { pos[k] = i; });
    }
  }
  var hOf = {}; vis.nodes.forEach(function (n) { hOf[n.key] = n.instance ? 44 : H; });
  function colH(ks) { var h = 0; ks.forEach(function (k, i) { h += hOf[k] + (i ? (hOf[k] < H ? 8 : GY) : 0); }); return h; }
  var maxH = 0; layers.forEach(function (ks) { maxH = Math.max(maxH, colH(ks)); });
  var height = PAD * 2 + maxH;
  var out = {};
  layers.forEach(function (ks, li) {
    var y = PAD + (maxH - colH(ks)) / 2;
    ks.forEach(function (k, i) {
      if (i) y += hOf[k] < H ? 8 : GY;
      out[k] = { x: PAD + li * (W + GX), y: Math.round(y), w: W, h: hOf[k] };
      y += hOf[k];
    });
  });
  return { pos: out, width: PAD * 2 + layers.length * W + Math.max(0, layers.length - 1) * GX, height: height };
}

function renderDagSvg(vis, lay, selected, standalone) {
  var o = [];
  o.push('<svg ' + (standalone ? 'xmlns="http://www.w3.org/2000/svg" ' : '') + 'class="dag-svg" width="' + lay.width + '" height="' + lay.height + '" viewBox="0 0 ' + lay.width + ' ' + lay.height + '" font-family="DejaVu Sans, Verdana, sans-serif" role="img" aria-label="pipeline graph">');
  o.push('<defs><marker id="dag-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#777"/></marker></defs>');
  if (standalone) o.push('<rect width="100%" height="100%" fill="white"/>');
  vis.edges.forEach(function (e) {
    var a = lay.pos[e[0]], b = lay.pos[e[1]];
    var x1 = a.x + a.w, y1 = a.y + a.h / 2, x2 = b.x - 2, y2 = b.y + b.h / 2, mx = (x1 + x2) / 2;
    o.push('<path class="dag-edge" d="M' + x1 + ',' + y1 + 'C' + mx + ',' + y1 + ' ' + mx + ',' + y2 + ' ' + x2 + ',' + y2 + '" fill="none" stroke="#999" stroke-width="1.4" marker-end="url(#dag-arrow)"/>');
  });
  vis.nodes.forEach(function (n) {
    var p = lay.pos[n.key];
    var counts = {}; n.states.forEach(function (s) { counts[s] = (counts[s] || 0) + 1; });
    var main = DAG_ORDER.filter(function (s) { return counts[s]; })[0] || 'never-run';
    var sel = selected === n.key;
    o.push('<g class="dag-node" data-key="' + dagEsc(n.key) + '" transform="translate(' + p.x + ',' + p.y + ')" style="cursor:pointer">');
    o.push('<title>' + dagEsc(n.group ? n.base + ': ' + DAG_ORDER.filter(function (s) { return counts[s]; }).map(function (s) { return counts[s] + ' ' + s; }).join(', ') : n.ids[0] + ': ' + n.states[0]) + '</title>');
    if (n.group) o.push('<rect x="4" y="4" width="' + p.w + '" height="' + p.h + '" rx="7" fill="#f3f3f3" stroke="#bbb"/>');
    o.push('<rect width="' + p.w + '" height="' + p.h + '" rx="7" fill="' + (sel ? '#eef4ff' : 'white') + '" stroke="' + (sel ? '#1f5fbf' : '#888') + '" stroke-width="' + (sel ? 2.2 : 1.2) + '"/>');
    o.push('<rect x="0" y="0" width="7" height="' + p.h + '" rx="3" fill="' + DAG_COLORS[main] + '"/>');
    if (n.instance) {
      o.push('<text x="16" y="18" font-size="11.5" font-weight="bold" fill="#222">' + dagEsc(dagTrunc(n.label, 24)) + '</text>');
      o.push('<text x="16" y="35" font-size="11" fill="#555">' + dagEsc(dagTrunc(n.sub, 22)) + '</text>');
    } else {
      o.push('<text x="16" y="22" font-size="13" font-weight="bold" fill="#222">' + dagEsc(dagTrunc(n.label, n.group ? 21 : 17)) + '</text>');
      o.push('<text x="16" y="40" font-size="11" fill="#555">' + dagEsc(dagTrunc(n.sub, 31)) + '</text>');
    }
    if (n.group) {
      var x = 16, bw = p.w - 60, total = n.states.length;
      DAG_ORDER.forEach(function (s) {
        if (!counts[s]) return;
        var w = Math.max(1, (bw * counts[s]) / total);
        o.push('<rect x="' + x.toFixed(1) + '" y="' + (p.h - 11) + '" width="' + w.toFixed(1) + '" height="5" fill="' + DAG_COLORS[s] + '"/>');
        x += w;
      });
    } else {
      o.push('<text x="' + (p.w - (n.instance ? 34 : 10)) + '" y="' + (n.instance ? 35 : 22) + '" font-size="11" text-anchor="end" fill="' + DAG_COLORS[main] + '">' + dagEsc(main) + '</text>');
    }
    if (n.group || n.instance) {
      var cy = n.group ? p.h / 2 + 4 : p.h / 2, r = n.group ? 10 : 9;
      o.push('<g class="dag-toggle" data-toggle="' + dagEsc(n.base) + '"><circle cx="' + (p.w - 18) + '" cy="' + cy + '" r="' + r + '" fill="#f0f0f0" stroke="#888"/><text x="' + (p.w - 18) + '" y="' + (cy + 5) + '" font-size="15" text-anchor="middle" fill="#333">' + (n.group ? '+' : '\u2212') + '</text><title>' + (n.group ? 'expand ' : 'collapse ') + dagEsc(n.base) + '</title></g>');
    }
    o.push('</g>');
  });
  o.push('</svg>');
  return o.join('');
}

/** Wires an interactive DAG into root (elements .dag-canvas and .dag-details inside it). */
function initDag(root, data) {
  var expanded = {}, selected = null;
  var byId = {}; data.stages.forEach(function (s) { byId[s.id] = s; });
  var canvas = root.querySelector('.dag-canvas'), details = root.querySelector('.dag-details');
  function draw() {
    var vis = dagVisible(data.stages, expanded);
    if (selected && !vis.nodes.some(function (n) { return n.key === selected; })) selected = null;
    canvas.innerHTML = renderDagSvg(vis, layoutDag(vis), selected, false);
    showDetails(vis);
  }
  var fmt = fmtCell, dur = fmtMs;
  function badge(s) { return '<span class="state-badge" style="background:' + DAG_COLORS[s] + '">' + dagEsc(s) + '</span>'; }
  function stageLink(id) { return '<a href="#" class="dag-select" data-id="' + dagEsc(id) + '">' + dagEsc(id) + '</a>'; }
  function showDetails(vis) {
    if (!selected) { details.innerHTML = '<p class="muted">Click a stage for its state, params, metrics and outputs; click \u00b1 to expand or collapse a matrix group.</p>'; return; }
    var n = vis.nodes.filter(function (x) { return x.key === selected; })[0];
    var h = [];
    if (n && n.group) {
      h.push('<h3>' + dagEsc(n.base) + ' <span class="muted">(' + dagEsc(n.kind) + ', ' + n.ids.length + ' instances)</span></h3>');
      var mkeys = []; n.ids.forEach(function (id) { Object.keys(byId[id].matrix || {}).forEach(function (k) { if (mkeys.indexOf(k) < 0) mkeys.push(k); }); });
      var metricKeys = []; n.ids.forEach(function (id) { Object.keys(byId[id].metrics || {}).forEach(function (k) { if (metricKeys.indexOf(k) < 0 && metricKeys.length < 6) metricKeys.push(k); }); });
      h.push('<table class="grid"><tr><th>instance</th>' + mkeys.map(function (k) { return '<th>' + dagEsc(k) + '</th>'; }).join('') + '<th>state</th><th>time</th>' + metricKeys.map(function (k) { return '<th>' + dagEsc(k) + '</th>'; }).join('') + '</tr>');
      n.ids.forEach(function (id) {
        var s = byId[id];
        h.push('<tr><td>' + stageLink(id) + '</td>' + mkeys.map(function (k) { return '<td>' + dagEsc(s.matrix[k] == null ? '' : s.matrix[k]) + '</td>'; }).join('') + '<td>' + badge(s.state) + '</td><td>' + dur(s.durationMs) + '</td>' + metricKeys.map(function (k) { return '<td class="num">' + dagEsc(s.metrics && s.metrics[k] != null ? fmt(s.metrics[k]) : '') + '</td>'; }).join('') + '</tr>');
      });
      h.push('</table>');
    } else {
      var s = byId[n ? n.ids[0] : selected];
      if (!s) { details.innerHTML = ''; return; }
      h.push('<h3>' + dagEsc(s.id) + ' <span class="muted">(' + dagEsc(s.kind) + ')</span> ' + badge(s.state) + '</h3>');
      if (s.reasons && s.reasons.length) h.push('<ul class="reasons">' + s.reasons.map(function (r) { return '<li>' + dagEsc(r) + '</li>'; }).join('') + '</ul>');
      if (s.error) h.push('<pre class="error">' + dagEsc(s.error) + '</pre>');
      if (s.durationMs != null) h.push('<p>took ' + dur(s.durationMs) + '</p>');
      if (s.deps && s.deps.length) h.push('<p>depends on: ' + s.deps.map(stageLink).join(', ') + '</p>');
      if (s.metrics && Object.keys(s.metrics).length) h.push('<table class="grid"><tr><th>metric</th><th>value</th></tr>' + Object.keys(s.metrics).map(function (k) { return '<tr><td>' + dagEsc(k) + '</td><td class="num">' + dagEsc(fmt(s.metrics[k])) + '</td></tr>'; }).join('') + '</table>');
      if (s.outputs && s.outputs.length) h.push('<p>outputs:</p><ul>' + s.outputs.map(function (x) { return '<li>' + (x.href ? '<a href="' + dagEsc(x.href) + '">' + dagEsc(x.name) + '</a>' : dagEsc(x.name)) + ' <span class="muted">' + dagEsc(x.type) + ' ' + dagEsc(String(x.hash || '').slice(0, 12)) + '</span></li>'; }).join('') + '</ul>');
      h.push('<details open><summary>params</summary><pre>' + dagEsc(JSON.stringify(s.params, null, 2)) + '</pre></details>');
    }
    details.innerHTML = h.join('');
  }
  canvas.addEventListener('click', function (ev) {
    var t = ev.target;
    var tog = t.closest ? t.closest('[data-toggle]') : null;
    if (tog) { var b = tog.getAttribute('data-toggle'); expanded[b] = !expanded[b]; selected = expanded[b] ? null : 'group:' + b; draw(); return; }
    var g = t.closest ? t.closest('[data-key]') : null;
    if (g) { selected = g.getAttribute('data-key'); draw(); }
  });
  // zoom: fit the graph to the page width (default) or show it at its actual size (scrolls)
  Array.prototype.forEach.call(root.querySelectorAll('[data-zoom]'), function (b) {
    b.addEventListener('click', function () {
      var fit = b.getAttribute('data-zoom') === 'fit';
      root.classList.toggle('fit', fit);
      Array.prototype.forEach.call(root.querySelectorAll('[data-zoom]'), function (x) { x.setAttribute('aria-pressed', String(x === b)); });
    });
  });
  details.addEventListener('click', function (ev) {
    var a = ev.target.closest ? ev.target.closest('.dag-select') : null;
    if (!a) return;
    ev.preventDefault();
    var id = a.getAttribute('data-id'), s = byId[id];
    if (s && !(s.matrix && Object.keys(s.matrix).length === 0 && data.stages.filter(function (x) { return x.base === s.base; }).length === 1)) expanded[s.base] = true;
    selected = id; draw();
  });
  draw();
}
`;

interface DagModule {
  dagVisible(stages: unknown[], expanded: Record<string, boolean>): { nodes: unknown[]; edges: unknown[] };
  layoutDag(vis: unknown): { width: number; height: number };
  renderDagSvg(vis: unknown, lay: unknown, selected: string | null, standalone: boolean): string;
}

let mod: DagModule | undefined;
function dagModule(): DagModule {
  mod ??= new Function(`${DAG_JS}\nreturn { dagVisible, layoutDag, renderDagSvg };`)() as DagModule;
  return mod;
}

/** The DAG (groups collapsed) as SVG: inline in a page, or a standalone file (REPORT.md). */
export function dagSvg(data: ReportData, standalone = false): string {
  const m = dagModule();
  const vis = m.dagVisible(data.stages, {});
  return m.renderDagSvg(vis, m.layoutDag(vis), null, standalone);
}
