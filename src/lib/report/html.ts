/**
 * Report pages.
 *
 * writeReport(data, outDir): one self-contained HTML page per pipeline run (index.html: the
 * interactive DAG with stage states, results tables of metrics, every figure — vega-lite specs
 * embedded and interactive, PNG fallbacks inline —, table previews, the params, links to the
 * artifacts) and REPORT.md for reading on GitHub (PNG/GIF figures copied to figures/, the DAG
 * as dag.svg). Nothing is loaded from the network: vega, vega-lite and vega-embed are inlined.
 *
 * dagHtml(data): the interactive DAG alone (`pipe graph --format html`).
 *
 * Figures are found by output type: a `json` output holding a vega-lite spec (the `spec` output
 * of `plot`) is drawn interactively, with the same stage's `png` output as its fallback; `png`,
 * `gif` and `svg` outputs without a spec are shown as images.
 */
import { fmtCell, fmtMs } from '../format.js';
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DAG_JS, dagSvg } from './dag.js';
import { esc, jsonForScript, scriptSafe, vegaScripts } from './assets.js';
import type { ReportData, ReportOutput, ReportStage, ReportState } from './types.js';

export type { ReportData, ReportStage, ReportOutput, ReportState } from './types.js';

export interface ReportOptions {
  /** Page title (default: the pipeline name). */
  title?: string;
  /** Draw the DAG section (default true). */
  dag?: boolean;
  /** Link artifacts by path relative to outDir (default true). */
  links?: boolean;
  /** Table preview size. */
  maxRows?: number;
  maxColumns?: number;
}

const STATES: ReportState[] = ['fresh', 'stale', 'never-run', 'failed', 'running'];
const COLORS: Record<ReportState, string> = { fresh: '#2e7d32', stale: '#f9a825', 'never-run': '#9e9e9e', failed: '#c62828', running: '#1565c0' };
const INLINE_LIMIT = 8 * 1024 * 1024;
const TABLE_PREVIEW_LIMIT = 64 * 1024 * 1024;

interface Figure {
  stage: ReportStage;
  title: string;
  spec?: Record<string, any>;
  specName?: string;
  image?: ReportOutput;
  mime?: string;
  /** CSS size to show the image at. */
  width?: number;
  height?: number;
  /** Name of the copy under figures/ (PNG/GIF, for REPORT.md). */
  copy?: string;
  others: ReportOutput[];
}

interface TablePreview {
  stage: ReportStage;
  output: ReportOutput;
  columns: string[];
  rows: Record<string, unknown>[];
  numRows: number;
  numCols: number;
  note?: string;
}

const MIME: Record<string, string> = { png: 'image/png', gif: 'image/gif', svg: 'image/svg+xml' };

const fmt = fmtCell;
const duration = fmtMs;

function sanitize(s: string): string {
  return s.replace(/[^A-Za-z0-9._=-]+/g, '_').replace(/^_+|_+$/g, '') || 'x';
}

function pngSize(buf: Buffer): { width: number; height: number } | undefined {
  if (buf.length > 24 && buf.readUInt32BE(0) === 0x89504e47) return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
  if (buf.length > 10 && buf.subarray(0, 3).toString('latin1') === 'GIF') return { width: buf.readUInt16LE(6), height: buf.readUInt16LE(8) };
  return undefined;
}

async function exists(p: string): Promise<number | undefined> {
  try {
    return (await stat(p)).size;
  } catch {
    return undefined;
  }
}

function isVegaLite(v: unknown): v is Record<string, any> {
  return !!v && typeof v === 'object' && typeof (v as any).$schema === 'string' && /vega-lite/.test((v as any).$schema);
}

function specTitle(spec: Record<string, any>): string | undefined {
  const t = spec.title;
  if (typeof t === 'string') return t;
  if (t && typeof t.text === 'string') return t.text;
  return undefined;
}

/** Groups stages by base, keeping first-appearance order. */
function byBase(stages: ReportStage[]): [string, ReportStage[]][] {
  const m = new Map<string, ReportStage[]>();
  for (const s of stages) {
    if (!m.has(s.base)) m.set(s.base, []);
    m.get(s.base)!.push(s);
  }
  return [...m.entries()];
}

async function collectFigures(data: ReportData): Promise<Figure[]> {
  const figs: Figure[] = [];
  for (const s of data.stages) {
    const outs = s.outputs ?? [];
    const specs: { o: ReportOutput; spec: Record<string, any> }[] = [];
    for (const o of outs.filter((x) => x.type === 'json')) {
      const size = await exists(o.path);
      if (size === undefined || size > INLINE_LIMIT) continue;
      try {
        const v = JSON.parse(await readFile(o.path, 'utf8'));
        if (isVegaLite(v)) specs.push({ o, spec: v });
      } catch { /* not JSON: shown as a link */ }
    }
    const images = outs.filter((x) => x.type in MIME);
    const pngs = images.filter((x) => x.type === 'png');
    const used = new Set<ReportOutput>();
    specs.forEach(({ o, spec }, i) => {
      // the fallback: a PNG of the same name stem, else the i-th PNG
      const png = pngs.find((p) => p.name === o.name.replace(/spec$/, 'png')) ?? pngs[i] ?? (specs.length === 1 ? pngs[0] : undefined);
      if (png) used.add(png);
      used.add(o);
      const svg = images.find((x) => x.type === 'svg' && !used.has(x));
      const others = svg ? [svg] : [];
      if (svg) used.add(svg);
      const meta = spec.usermeta?.pipe as { width?: number; height?: number } | undefined;
      figs.push({ stage: s, title: specTitle(spec) ?? `${s.id} · ${o.name}`, spec, specName: o.name, image: png, mime: png ? MIME.png : undefined, width: meta?.width ?? (typeof spec.width === 'number' ? spec.width : undefined), height: meta?.height, others });
    });
    for (const img of images) {
      if (used.has(img)) continue;
      // an SVG next to a PNG of the same stage is the same figure: link it, don't repeat it
      if (img.type === 'svg' && images.some((x) => x.type === 'png')) continue;
      figs.push({ stage: s, title: img.name === img.type ? s.id : `${s.id} · ${img.name}`, image: img, mime: MIME[img.type], others: images.filter((x) => x.type === 'svg' && x !== img && img.type === 'png') });
    }
  }
  // per-epoch curves (a `curves` table output): one interactive chart per stage
  const { curvesCharts } = await import('./curves.js');
  for (const c of await curvesCharts(data.stages, exists)) figs.push({ stage: c.stage, title: c.title, spec: c.spec, others: [] });
  // display sizes and copies
  const names = new Set<string>();
  for (const f of figs) {
    if (!f.image) continue;
    const size = await exists(f.image.path);
    if (size === undefined) { f.image = undefined; continue; }
    if (f.image.type !== 'svg') {
      const head = Buffer.alloc(32);
      const fh = await import('node:fs/promises').then((m) => m.open(f.image!.path, 'r'));
      try { await fh.read(head, 0, 32, 0); } finally { await fh.close(); }
      const d = pngSize(head);
      if (d && f.width === undefined) {
        const scale = f.image.type === 'png' && d.width > 1000 ? 2 : 1;
        f.width = Math.round(d.width / scale);
        f.height = Math.round(d.height / scale);
      } else if (d && f.height === undefined && f.width) f.height = Math.round((d.height * f.width) / d.width);
    }
    const stem = sanitize(f.image.name) === f.image.type ? sanitize(f.stage.id) : `${sanitize(f.stage.id)}.${sanitize(f.image.name)}`;
    let name = `${stem}.${f.image.type}`;
    for (let i = 2; names.has(name); i++) name = `${stem}-${i}.${f.image.type}`;
    names.add(name);
    f.copy = name;
  }
  return figs;
}

async function collectTables(data: ReportData, o: ReportOptions): Promise<TablePreview[]> {
  const { readTable } = await import('../../sdk/table.js');
  const { tableRows } = await import('../plot/data.js');
  const out: TablePreview[] = [];
  for (const s of data.stages) {
    for (const t of (s.outputs ?? []).filter((x) => x.type === 'table')) {
      const size = await exists(t.path);
      if (size === undefined) { out.push({ stage: s, output: t, columns: [], rows: [], numRows: 0, numCols: 0, note: 'artifact missing' }); continue; }
      if (size > TABLE_PREVIEW_LIMIT || out.length >= 40) { out.push({ stage: s, output: t, columns: [], rows: [], numRows: 0, numCols: 0, note: 'not previewed (too large or too many tables)' }); continue; }
      try {
        const table = await readTable(t.path);
        const cols = table.schema.fields.map((f) => f.name);
        const shown = cols.slice(0, o.maxColumns ?? 12);
        const rows = tableRows(table.slice(0, o.maxRows ?? 12).select(shown) as any);
        out.push({ stage: s, output: t, columns: shown, rows, numRows: table.numRows, numCols: cols.length });
      } catch (e) {
        out.push({ stage: s, output: t, columns: [], rows: [], numRows: 0, numCols: 0, note: (e as Error).message });
      }
    }
  }
  return out;
}

function href(outDir: string, path: string): string {
  const rel = relative(outDir, path);
  return rel.split(sep).map(encodeURIComponent).join('/');
}

const CSS = `
*{box-sizing:border-box}
body{font-family:"DejaVu Sans",Verdana,system-ui,sans-serif;margin:0;color:#222;background:#fafafa;font-size:14px;line-height:1.45}
header{background:#263238;color:#fff;padding:18px 28px}
header h1{margin:0 0 4px;font-size:22px}
header a{color:#cfd8dc}
header .meta{color:#cfd8dc;font-size:13px}
nav{margin-top:8px}
nav a{margin-right:16px;color:#fff;text-decoration:none;font-size:13px;border-bottom:1px dotted #90a4ae}
main{padding:8px 28px 40px;max-width:1500px}
section{margin-top:26px}
h2{font-size:18px;border-bottom:2px solid #e0e0e0;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 8px}
.muted{color:#777;font-weight:normal}
.state-badge{display:inline-block;color:#fff;border-radius:9px;padding:0 8px;font-size:12px;margin-right:4px;white-space:nowrap}
.dag{display:block}
.dag-canvas{overflow:auto;max-width:100%;max-height:75vh;background:#fff;border:1px solid #ddd;border-radius:6px;padding:6px;display:block;width:fit-content;box-sizing:border-box}
.dag.fit .dag-canvas svg.dag-svg{max-width:100%;height:auto;display:block}
.dag-tools{margin:0 0 6px}
figure.fig.headline-fig{width:fit-content}
figure.fig.headline-fig img{max-width:min(100%,760px);height:auto}
.dag-tools button{font:inherit;font-size:12px;padding:2px 10px;border:1px solid #bbb;background:#f7f7f7;border-radius:4px;cursor:pointer;margin-right:4px}
.dag-tools button[aria-pressed=true]{background:#1f5fbf;color:#fff;border-color:#1f5fbf}
.dag-details{margin-top:12px;background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px 14px;max-height:70vh;overflow:auto;max-width:100%}
.dag-details td{white-space:nowrap}
.dag-details h3{margin-top:4px}
.dag-node:hover rect:nth-of-type(1){stroke-width:2}
table.grid{border-collapse:collapse;background:#fff;font-size:13px;margin:4px 0 10px}
table.grid th,table.grid td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
table.grid th{background:#f1f3f4}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.scroll{overflow-x:auto;max-width:100%}
.figs{display:flex;flex-wrap:wrap;gap:18px}
figure.fig{margin:0;background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px;max-width:100%}
figure.fig .chart{overflow-x:auto;max-width:100%}
figure.fig img{max-width:100%;height:auto;display:block}
figcaption{font-size:12px;color:#555;margin-top:6px}
figcaption a{margin-left:8px}
pre{background:#f5f5f5;border:1px solid #e3e3e3;padding:8px;overflow:auto;max-height:420px;font-size:12px}
pre.error{background:#fdecea;border-color:#f5c6cb;color:#8a1c1c}
ul.reasons{margin:4px 0 8px;padding-left:20px;color:#555}
details summary{cursor:pointer}
.stale-note{background:#fff8e1;border:1px solid #f9a825;border-left:6px solid #f9a825;border-radius:4px;padding:6px 10px;margin:6px 0 10px;color:#5d4300}
figure.fig.not-current{border:2px dashed #f9a825;opacity:.75}
figure.fig.not-current .stale-note{margin:0 0 6px}
td.not-current{color:#999;font-style:italic;text-decoration:line-through}
.vega-embed{padding-right:0 !important}
`;

interface PageParts {
  data: ReportData;
  figures: Figure[];
  tables: TablePreview[];
  outDir: string;
  o: ReportOptions;
}

function stateCounts(stages: ReportStage[]): string {
  const c: Partial<Record<ReportState, number>> = {};
  for (const s of stages) c[s.state] = (c[s.state] ?? 0) + 1;
  return STATES.filter((s) => c[s]).map((s) => `<span class="state-badge" style="background:${COLORS[s]}">${c[s]} ${s}</span>`).join(' ');
}

/** Whether a stage's outputs and metrics are those of the configuration the page describes. */
export function isCurrent(s: ReportStage): boolean {
  return s.state === 'fresh';
}

/** The in-place note for an output that is not the current configuration's. */
function staleNote(s: ReportStage): string {
  const why = s.state === 'never-run' ? 'never ran under this configuration'
    : s.state === 'failed' ? 'failed under this configuration'
      : s.state === 'running' ? 'is running under this configuration'
        : 'is stale: built under an earlier configuration';
  return `<div class="stale-note"><b>not current</b> — <code>${esc(s.id)}</code> ${why}${s.reasons.length ? ` (${esc(s.reasons.slice(0, 3).join('; '))}${s.reasons.length > 3 ? '; …' : ''})` : ''}. Run the pipeline with this configuration to see its result.</div>`;
}

/** Page-top warning when some results are not the current configuration's. */
function staleBanner(stages: ReportStage[]): string {
  const bad = stages.filter((s) => !isCurrent(s));
  if (!bad.length) return '';
  const withOld = bad.filter((s) => s.outputs.length || (s.metrics && Object.keys(s.metrics).length));
  return `<div class="stale-note" id="not-current"><b>${bad.length} of ${stages.length} stage instance${stages.length === 1 ? '' : 's'} not current</b> under this configuration (${esc(bad.slice(0, 4).map((s) => `${s.id}: ${s.state}`).join(', '))}${bad.length > 4 ? ', …' : ''}).${withOld.length ? ' Their earlier outputs are left out of the summary and marked <i>not current</i> where shown (dashed figures, struck-through metrics).' : ''}</div>`;
}

/** Client-side stage data for the DAG (params, metrics, links). */
function dagClientData(data: ReportData, link: ((path: string) => string) | null) {
  return {
    stages: data.stages.map((s) => ({
      id: s.id, base: s.base, kind: s.kind, state: s.state, reasons: s.reasons, params: s.params, matrix: s.matrix, deps: s.deps,
      metrics: s.metrics ?? {}, durationMs: s.durationMs ?? null, error: s.error ?? null,
      outputs: (s.outputs ?? []).map((x) => ({ name: x.name, type: x.type, hash: x.hash, href: link ? link(x.path) : null })),
    })),
  };
}

function dagSection(data: ReportData): string {
  return `<div class="dag fit" id="dag"><div class="dag-tools" role="group" aria-label="graph zoom"><button type="button" data-zoom="fit" aria-pressed="true">Fit to width</button><button type="button" data-zoom="full" aria-pressed="false">Actual size</button></div><div class="dag-canvas">${dagSvg(data)}</div><div class="dag-details"><p class="muted">Click a stage for its state, params, metrics and outputs; click ± to expand a matrix group.</p></div></div>`;
}

function resultsSection(data: ReportData): string {
  const parts: string[] = [];
  for (const [base, list] of byBase(data.stages)) {
    const withMetrics = list.filter((s) => s.metrics && Object.keys(s.metrics).length);
    if (!withMetrics.length) continue;
    const mkeys = [...new Set(list.flatMap((s) => Object.keys(s.matrix ?? {})))];
    const metricKeys = [...new Set(withMetrics.flatMap((s) => Object.keys(s.metrics!)))].slice(0, 24);
    const long = list.length > 15;
    parts.push(`<h3>${esc(base)} <span class="muted">(${esc(list[0]!.kind)})</span></h3>${long ? `<details><summary>${list.length} instances</summary>` : ''}<div class="scroll"><table class="grid"><tr>${list.length > 1 ? '<th>instance</th>' : ''}${mkeys.map((k) => `<th>${esc(k)}</th>`).join('')}<th>state</th>${metricKeys.map((k) => `<th>${esc(k)}</th>`).join('')}</tr>`);
    for (const s of list) {
      parts.push(`<tr>${list.length > 1 ? `<td>${esc(s.id)}</td>` : ''}${mkeys.map((k) => `<td>${esc(fmt(s.matrix?.[k]))}</td>`).join('')}<td><span class="state-badge" style="background:${COLORS[s.state]}">${esc(s.state)}</span></td>${metricKeys.map((k) => (isCurrent(s) || s.metrics?.[k] === undefined ? `<td class="num">${esc(fmt(s.metrics?.[k]))}</td>` : `<td class="num not-current" title="not current: from an earlier configuration">${esc(fmt(s.metrics?.[k]))}</td>`)).join('')}</tr>`);
    }
    parts.push(`</table></div>${long ? '</details>' : ''}`);
  }
  return parts.length ? parts.join('\n') : '<p class="muted">No stage reported metrics yet.</p>';
}

/** An image inlined as a data: URL (up to INLINE_LIMIT bytes), else linked by relative path (or '' without links). */
async function imageSrc(p: PageParts, path: string, mime: string | undefined, size: number): Promise<string> {
  if (size <= INLINE_LIMIT) return `data:${mime};base64,${(await readFile(path)).toString('base64')}`;
  return p.o.links !== false ? href(p.outDir, path) : '';
}

async function figuresSection(p: PageParts): Promise<{ html: string; specs: string[] }> {
  const specs: string[] = [];
  if (!p.figures.length) return { html: '<p class="muted">No figures.</p>', specs };
  const groups = new Map<string, Figure[]>();
  for (const f of p.figures) {
    if (!groups.has(f.stage.base)) groups.set(f.stage.base, []);
    groups.get(f.stage.base)!.push(f);
  }
  const parts: string[] = [];
  let n = 0;
  for (const [base, figs] of groups) {
    parts.push(`<h3>${esc(base)}</h3><div class="figs">`);
    for (const f of figs) {
      const id = `fig-${n++}`;
      let img = '';
      if (f.image) {
        const src = await imageSrc(p, f.image.path, f.mime, (await exists(f.image.path)) ?? 0);
        const dims = f.width ? ` width="${f.width}"${f.height ? ` height="${f.height}"` : ''}` : '';
        img = src ? `<img src="${src}"${dims} alt="${esc(f.title)}">` : '';
      }
      if (f.spec) {
        specs.push(`<script type="application/json" id="${id}-spec">${jsonForScript(f.spec)}</script>`);
      }
      const links: string[] = [];
      if (p.o.links !== false) {
        if (f.image) links.push(`<a href="${esc(href(p.outDir, f.image.path))}">${esc(f.image.type.toUpperCase())}</a>`);
        for (const x of f.others) links.push(`<a href="${esc(href(p.outDir, x.path))}">${esc(x.type.toUpperCase())}</a>`);
      }
      const caption = `<figcaption><b>${esc(f.title)}</b>${f.title === f.stage.id ? '' : ` · <code>${esc(f.stage.id)}</code>`}${links.join('')}</figcaption>`;
      const cur = isCurrent(f.stage);
      parts.push(`<figure class="fig${cur ? '' : ' not-current'}" id="${id}"${f.spec ? ` data-spec="${id}-spec"` : ''}>${cur ? '' : staleNote(f.stage)}<div class="chart">${img || (f.spec ? '<p class="muted">interactive chart</p>' : '')}</div>${caption}</figure>`);
    }
    parts.push('</div>');
  }
  return { html: parts.join('\n'), specs };
}

function tableHtml(p: PageParts, t: PageParts['tables'][number]): string {
  const parts: string[] = [];
  const link = p.o.links !== false ? ` <a href="${esc(href(p.outDir, t.output.path))}">${esc(basename(t.output.path))}</a>` : '';
  parts.push(`<h3>${esc(t.stage.id)} · ${esc(t.output.name)} <span class="muted">${t.note ? esc(t.note) : `${t.numRows} rows × ${t.numCols} columns`}</span>${link}</h3>`);
  if (!t.columns.length) return parts.join('\n');
  parts.push(`<div class="scroll"><table class="grid"><tr>${t.columns.map((c) => `<th>${esc(c)}</th>`).join('')}${t.numCols > t.columns.length ? '<th>…</th>' : ''}</tr>`);
  for (const r of t.rows) parts.push(`<tr>${t.columns.map((c) => `<td class="${typeof r[c] === 'number' ? 'num' : ''}">${esc(fmt(r[c]).slice(0, 80))}</td>`).join('')}${t.numCols > t.columns.length ? '<td></td>' : ''}</tr>`);
  if (t.numRows > t.rows.length) parts.push(`<tr><td colspan="${t.columns.length + (t.numCols > t.columns.length ? 1 : 0)}" class="muted">… ${t.numRows - t.rows.length} more rows</td></tr>`);
  parts.push('</table></div>');
  return parts.join('\n');
}

function tablesSection(p: PageParts): string {
  if (!p.tables.length) return '';
  return p.tables.map((t) => tableHtml(p, t)).join('\n');
}

/** A JSON object of scalars only (a metrics file): drawn as a key/value table. */
function isFlatObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => x === null || typeof x !== 'object');
}

/** The outputs named by `report: {headline}`, in order, each drawn by its type. */
async function headlineSection(p: PageParts): Promise<string> {
  const parts: string[] = [];
  const byId = new Map(p.data.stages.map((s) => [s.id, s]));
  for (const h of p.data.headline ?? []) {
    for (const it of h.items) {
      const s = byId.get(it.stage);
      const o = s?.outputs.find((x) => x.name === it.output);
      const title = `<code>${esc(it.stage)}</code> · ${esc(it.output)}`;
      const size = o ? await exists(o.path) : undefined;
      if (!s || !o || size === undefined) { parts.push(`<h3>${title}</h3><p class="muted">not produced yet${s ? ` (${esc(s.state)})` : ''}</p>`); continue; }
      // an output of an earlier configuration is never shown as the answer: left out, with a note
      if (!isCurrent(s)) { parts.push(`<h3>${title}</h3>${staleNote(s)}`); continue; }
      if (o.type in MIME) {
        const src = await imageSrc(p, o.path, MIME[o.type], size);
        parts.push(`<h3>${title}</h3><figure class="fig headline-fig"><div class="chart"><img src="${src}" alt="${esc(it.stage)} ${esc(it.output)}"></div></figure>`);
      } else if (o.type === 'table') {
        const t = p.tables.find((x) => x.output.path === o.path);
        parts.push(t ? tableHtml(p, t) : `<h3>${title}</h3><p class="muted">table not previewed</p>`);
      } else if ((o.type === 'text' || o.type === 'json' || o.type === 'any' || o.type === 'file') && size <= 256 * 1024) {
        const text = await readFile(o.path, 'utf8');
        if (/^\|[\s:|-]+\|?$/m.test(text)) { parts.push(`<h3>${title}</h3>${markdownTablesHtml(text)}`); continue; }
        let v: unknown;
        try { v = JSON.parse(text); } catch { v = undefined; }
        if (isFlatObject(v)) {
          parts.push(`<h3>${title}</h3><div class="scroll"><table class="grid">${Object.entries(v).map(([k, x]) => `<tr><th>${esc(k)}</th><td class="${typeof x === 'number' ? 'num' : ''}">${esc(fmt(x))}</td></tr>`).join('')}</table></div>`);
        } else parts.push(`<h3>${title}</h3><pre>${esc(v === undefined ? text : JSON.stringify(v, null, 2))}</pre>`);
      } else {
        parts.push(`<h3>${title}</h3><p>${p.o.links !== false ? `<a href="${esc(href(p.outDir, o.path))}">${esc(basename(o.path))}</a>` : esc(basename(o.path))} <span class="muted">${esc(o.type)}, ${size} bytes</span></p>`);
      }
    }
  }
  return parts.join('\n');
}

async function otherOutputsSection(p: PageParts): Promise<string> {
  const shown = new Set<string>();
  for (const f of p.figures) {
    if (f.image) shown.add(f.image.path);
    if (f.spec) shown.add(f.stage.outputs.find((o) => o.name === f.specName)?.path ?? '');
  }
  const parts: string[] = [];
  for (const s of p.data.stages) {
    for (const o of s.outputs ?? []) {
      if (shown.has(o.path) || o.type === 'table' || o.type in MIME) continue;
      if (o.type !== 'json' && o.type !== 'text') continue;
      const size = await exists(o.path);
      if (size === undefined || size > 32 * 1024) continue;
      let text = await readFile(o.path, 'utf8');
      if (o.type === 'json') { try { text = JSON.stringify(JSON.parse(text), null, 2); } catch { /* raw */ } }
      parts.push(`<details><summary><code>${esc(s.id)}</code> · ${esc(o.name)} <span class="muted">${o.type}</span></summary><pre>${esc(text)}</pre></details>`);
    }
  }
  return parts.join('\n');
}

function stagesSection(p: PageParts): string {
  const rows = p.data.stages.map((s) => {
    const outs = (s.outputs ?? []).map((o) => (p.o.links !== false ? `<a href="${esc(href(p.outDir, o.path))}">${esc(o.name)}</a>` : esc(o.name))).join(', ');
    return `<tr><td><code>${esc(s.id)}</code></td><td>${esc(s.kind)}</td><td><span class="state-badge" style="background:${COLORS[s.state]}">${esc(s.state)}</span></td><td>${esc(s.reasons.join('; '))}${s.error ? `<pre class="error">${esc(s.error)}</pre>` : ''}</td><td class="num">${esc(duration(s.durationMs))}</td><td>${outs}</td><td><details><summary>params</summary><pre>${esc(JSON.stringify(s.params, null, 2))}</pre></details></td></tr>`;
  });
  const table = `<div class="scroll"><table class="grid"><tr><th>stage</th><th>kind</th><th>state</th><th>reasons</th><th>time</th><th>outputs</th><th>params</th></tr>${rows.join('\n')}</table></div>`;
  return rows.length > 20 ? `<details><summary>${rows.length} stage instances</summary>${table}</details>` : table;
}

const EMBED_JS = `
(function () {
  var figs = document.querySelectorAll('figure[data-spec]');
  if (!figs.length) return;
  if (typeof vegaEmbed !== 'function') { console.error('vega-embed did not load'); return; }
  var opts = { actions: { export: true, source: false, compiled: false, editor: false }, renderer: 'svg', tooltip: true };
  var chain = Promise.resolve();
  Array.prototype.forEach.call(figs, function (fig) {
    chain = chain.then(function () {
      var chart = fig.querySelector('.chart');
      var fallback = chart.innerHTML;
      var spec = JSON.parse(document.getElementById(fig.getAttribute('data-spec')).textContent);
      var box = document.createElement('div');
      return vegaEmbed(box, spec, opts).then(function () {
        chart.innerHTML = '';
        chart.appendChild(box);
        fig.classList.add('interactive');
      }).catch(function (err) {
        chart.innerHTML = fallback;
        console.error('chart ' + fig.id + ' could not be drawn: ' + err);
      });
    });
  });
  chain.then(function () { document.body.setAttribute('data-charts', 'done'); });
})();
`;

/**
 * Markdown text with tables (an `aggregate` stage's `table`: mean ± std per group and the paired
 * differences) as HTML: table blocks become tables, other blocks paragraphs.
 */
export function markdownTablesHtml(md: string): string {
  const out: string[] = [];
  for (const block of md.split(/\n\s*\n/).map((b) => b.trim()).filter(Boolean)) {
    const lines = block.split('\n');
    if (lines.length >= 2 && lines.every((l) => l.trim().startsWith('|')) && /^\|[\s:|-]+\|?$/.test(lines[1]!.trim())) {
      const cells = (l: string) => l.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());
      const right = cells(lines[1]!).map((c) => c.endsWith(':'));
      const row = (l: string, tag: string) => `<tr>${cells(l).map((c, i) => `<${tag}${right[i] ? ' class="num"' : ''}>${esc(c)}</${tag}>`).join('')}</tr>`;
      out.push(`<div class="scroll"><table class="grid">${row(lines[0]!, 'th')}${lines.slice(2).map((l) => row(l, 'td')).join('')}</table></div>`);
    } else out.push(`<p>${esc(block).replace(/\*\*([^*]+)\*\*/g, '<b>$1</b>')}</p>`);
  }
  return out.join('\n');
}

/** Markdown table outputs (`.md` text with a table) of the stages, for the top of the report. */
async function resultTables(p: PageParts): Promise<{ stage: ReportStage; name: string; text: string }[]> {
  const found: { stage: ReportStage; name: string; text: string }[] = [];
  for (const s of p.data.stages) {
    for (const o of s.outputs ?? []) {
      if (o.type !== 'text' || !o.path.endsWith('.md')) continue;
      const size = await exists(o.path);
      if (size === undefined || size > 64 * 1024) continue;
      const text = await readFile(o.path, 'utf8');
      if (/^\|[\s:|-]+\|?$/m.test(text)) found.push({ stage: s, name: o.name, text });
    }
  }
  return found;
}

async function buildPage(p: PageParts): Promise<string> {
  const { data, o } = p;
  const title = o.title ?? data.pipeline.name;
  const fig = await figuresSection(p);
  const tables = tablesSection(p);
  const others = await otherOutputsSection(p);
  const mdTables = await resultTables(p);
  const headline = data.headline?.length ? await headlineSection(p) : '';
  const showDag = o.dag !== false;
  const hasResults = showDag || data.stages.some((s) => s.metrics && Object.keys(s.metrics).length);
  const nav = [headline || mdTables.length ? '<a href="#summary">Summary</a>' : '', showDag ? '<a href="#graph">Graph</a>' : '', hasResults ? '<a href="#results">Results</a>' : '', '<a href="#figures">Figures</a>', tables ? '<a href="#tables">Tables</a>' : '', showDag ? '<a href="#stages">Stages</a>' : '', showDag ? '<a href="#params">Params</a>' : ''].filter(Boolean).join('');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${esc(title)} · pipe report</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${esc(title)}</h1>
<div class="meta">${data.pipeline.file ? `pipeline <code>${esc(data.pipeline.file)}</code> · ` : ''}${data.generatedAt ? `generated ${esc(data.generatedAt)} · ` : ''}${data.stages.length} stage${data.stages.length === 1 ? '' : 's'} ${stateCounts(data.stages)}</div>
<nav>${nav}</nav>
</header>
<main>
${staleBanner(data.stages)}
${headline ? `<section id="summary"><h2>Summary</h2>${headline}</section>` : mdTables.length ? `<section id="summary"><h2>Summary</h2>${mdTables.map((t) => `<h3><code>${esc(t.stage.id)}</code> · ${esc(t.name)}</h3>${isCurrent(t.stage) ? markdownTablesHtml(t.text) : staleNote(t.stage)}`).join('\n')}</section>` : ''}
${showDag ? `<section id="graph"><h2>Pipeline graph</h2>${dagSection(data)}</section>` : ''}
${hasResults ? `<section id="results"><h2>Results</h2>${resultsSection(data)}</section>` : ''}
<section id="figures"><h2>Figures</h2>${fig.html}</section>
${tables ? `<section id="tables"><h2>Tables</h2>${tables}</section>` : ''}
${others ? `<section id="outputs"><h2>Other outputs</h2>${others}</section>` : ''}
${showDag ? `<section id="stages"><h2>Stages</h2>${stagesSection(p)}</section>
<section id="params"><h2>Pipeline params</h2><pre>${esc(JSON.stringify(data.pipeline.params ?? {}, null, 2))}</pre></section>` : ''}
</main>
${fig.specs.join('\n')}
${showDag ? `<script type="application/json" id="report-data">${jsonForScript(dagClientData(data, o.links !== false ? (x) => href(p.outDir, x) : null))}</script>` : ''}
${fig.specs.length ? vegaScripts() : ''}
<script>
${scriptSafe(DAG_JS)}
${showDag ? "initDag(document.getElementById('dag'), JSON.parse(document.getElementById('report-data').textContent));" : ''}
${scriptSafe(EMBED_JS)}
</script>
</body>
</html>
`;
}

function staleMd(s: ReportStage): string {
  return `> **not current** — \`${s.id}\` is ${s.state}${s.reasons.length ? ` (${s.reasons.slice(0, 3).join('; ')})` : ''}: its earlier output is left out. Run the pipeline with this configuration to see its result.`;
}

function mdCell(v: unknown): string {
  return fmt(v).replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** REPORT.md's opening: the headline outputs (Markdown tables as they are, figures from figures/, flat JSON as a table). */
async function headlineMarkdown(p: PageParts): Promise<string[]> {
  const L: string[] = [];
  const byId = new Map(p.data.stages.map((s) => [s.id, s]));
  for (const h of p.data.headline ?? []) {
    for (const it of h.items) {
      const st = byId.get(it.stage);
      const o = st?.outputs.find((x) => x.name === it.output);
      const size = o ? await exists(o.path) : undefined;
      L.push(`## ${it.stage} · ${it.output}`, '');
      if (!o || size === undefined) { L.push('_not produced yet_', ''); continue; }
      if (!isCurrent(st!)) { L.push(staleMd(st!), ''); continue; }
      const fig = p.figures.find((f) => f.image?.path === o.path && f.copy);
      if (fig) { L.push(`![${it.stage} ${it.output}](figures/${encodeURIComponent(fig.copy!)})`, ''); continue; }
      if ((o.type === 'text' || o.type === 'json') && size <= 256 * 1024) {
        const text = await readFile(o.path, 'utf8');
        if (o.type === 'text') { L.push(text.trim(), ''); continue; }
        try {
          const v = JSON.parse(text) as unknown;
          if (isFlatObject(v)) {
            L.push('| | |', '| --- | ---: |', ...Object.entries(v).map(([k, x]) => `| ${mdCell(k)} | ${mdCell(x)} |`), '');
            continue;
          }
        } catch { /* linked below */ }
      }
      L.push(p.o.links !== false ? `[${basename(o.path)}](${href(p.outDir, o.path)})` : basename(o.path), '');
    }
  }
  return L;
}

async function buildMarkdown(p: PageParts, dagFile: string | undefined): Promise<string> {
  const { data, o } = p;
  const L: string[] = [];
  const c: Partial<Record<ReportState, number>> = {};
  for (const s of data.stages) c[s.state] = (c[s.state] ?? 0) + 1;
  L.push(`# ${o.title ?? data.pipeline.name}`, '');
  L.push(`${data.pipeline.file ? `Pipeline \`${data.pipeline.file}\` · ` : ''}${data.generatedAt ? `generated ${data.generatedAt} · ` : ''}${data.stages.length} stages: ${STATES.filter((s) => c[s]).map((s) => `${c[s]} ${s}`).join(', ')}`, '');
  const notCurrent = data.stages.filter((s) => !isCurrent(s)).length;
  if (notCurrent) L.push(`> **${notCurrent} of ${data.stages.length} stage instances are not current under this configuration**: their earlier outputs are left out of the summary and struck through in the results.`, '');
  if (data.headline?.length) L.push(...(await headlineMarkdown(p)));
  else for (const t of await resultTables(p)) L.push(`## ${t.stage.id} · ${t.name}`, '', isCurrent(t.stage) ? t.text.trim() : staleMd(t.stage), '');
  if (dagFile) L.push(`![pipeline graph](${dagFile})`, '');
  const results = byBase(data.stages).filter(([, l]) => l.some((s) => s.metrics && Object.keys(s.metrics).length));
  if (results.length) {
    L.push('## Results', '');
    for (const [base, list] of results) {
      const mkeys = [...new Set(list.flatMap((s) => Object.keys(s.matrix ?? {})))];
      const metricKeys = [...new Set(list.flatMap((s) => Object.keys(s.metrics ?? {})))].slice(0, 12);
      L.push(`### ${base}`, '');
      const head = [...(list.length > 1 ? ['instance'] : []), ...mkeys, 'state', ...metricKeys];
      L.push(`| ${head.join(' | ')} |`, `| ${head.map((h) => (metricKeys.includes(h) ? '---:' : '---')).join(' | ')} |`);
      for (const s of list) L.push(`| ${[...(list.length > 1 ? [s.id] : []), ...mkeys.map((k) => s.matrix?.[k]), s.state, ...metricKeys.map((k) => s.metrics?.[k])].map(mdCell).map((c, i) => (isCurrent(s) || i < head.length - metricKeys.length || c === '' ? c : `~~${c}~~`)).join(' | ')} |`);
      if (list.some((s) => !isCurrent(s) && s.metrics && Object.keys(s.metrics).length)) L.push('', '~~Struck-through~~ metrics are not current: from an earlier configuration.');
      L.push('');
    }
  }
  const figs = p.figures.filter((f) => f.copy);
  if (figs.length) {
    L.push('## Figures', '');
    let lastBase = '';
    for (const f of figs) {
      if (f.stage.base !== lastBase) { L.push(`### ${f.stage.base}`, ''); lastBase = f.stage.base; }
      L.push(`**${f.title.replace(/[*_]/g, (m) => `\\${m}`)}** (\`${f.stage.id}\`)`, '', `![${f.title.replace(/[[\]]/g, '')}](figures/${encodeURIComponent(f.copy!)})`, '');
    }
  }
  if (p.tables.length) {
    L.push('## Tables', '');
    for (const t of p.tables) L.push(`- \`${t.stage.id}\` · ${t.output.name}: ${t.note ?? `${t.numRows} rows × ${t.numCols} columns`}${o.links !== false ? ` — [${basename(t.output.path)}](${href(p.outDir, t.output.path)})` : ''}`);
    L.push('');
  }
  if (o.dag !== false) {
    L.push('## Stages', '', '| stage | kind | state | time | reasons |', '| --- | --- | --- | ---: | --- |');
    for (const s of data.stages) L.push(`| \`${s.id}\` | ${s.kind} | ${s.state} | ${duration(s.durationMs)} | ${mdCell(s.reasons.join('; '))} |`);
    L.push('', '## Pipeline params', '', '```json', JSON.stringify(data.pipeline.params ?? {}, null, 2), '```', '');
  }
  L.push('The interactive version of this report is `index.html` next to this file.', '');
  return L.join('\n');
}

/**
 * Writes index.html (self-contained) and REPORT.md (+ figures/*.png|gif and dag.svg) into
 * outDir; returns their paths.
 */
export async function writeReport(data: ReportData, outDir: string, options: ReportOptions = {}): Promise<{ html: string; markdown: string }> {
  await mkdir(outDir, { recursive: true });
  const figures = await collectFigures(data);
  const tables = await collectTables(data, options);
  const parts: PageParts = { data, figures, tables, outDir, o: options };
  const copies = figures.filter((f) => f.copy && f.image && f.image.type !== 'svg');
  if (copies.length) await mkdir(join(outDir, 'figures'), { recursive: true });
  for (const f of figures) {
    if (!f.copy || !f.image) continue;
    if (f.image.type === 'svg') { f.copy = undefined; continue; }
    await copyFile(f.image.path, join(outDir, 'figures', f.copy));
  }
  let dagFile: string | undefined;
  if (options.dag !== false && data.stages.length) {
    dagFile = 'dag.svg';
    await writeFile(join(outDir, dagFile), dagSvg(data, true));
  }
  const html = join(outDir, 'index.html');
  const markdown = join(outDir, 'REPORT.md');
  await writeFile(html, await buildPage(parts));
  await writeFile(markdown, await buildMarkdown(parts, dagFile));
  return { html, markdown };
}

/** Self-contained interactive DAG page (`pipe graph --format html`). */
export function dagHtml(data: ReportData): string {
  const title = `${data.pipeline.name} · pipeline graph`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${esc(title)}</title>
<style>${CSS}
.dag-canvas{max-height:80vh}
</style>
</head>
<body>
<header>
<h1>${esc(data.pipeline.name)}</h1>
<div class="meta">${data.pipeline.file ? `pipeline <code>${esc(data.pipeline.file)}</code> · ` : ''}${esc(data.generatedAt)} · ${data.stages.length} stage${data.stages.length === 1 ? '' : 's'} ${stateCounts(data.stages)}</div>
</header>
<main>
<section id="graph">${dagSection(data)}</section>
</main>
<script type="application/json" id="report-data">${jsonForScript(dagClientData(data, (x) => pathToFileURL(x).href))}</script>
<script>
${scriptSafe(DAG_JS)}
initDag(document.getElementById('dag'), JSON.parse(document.getElementById('report-data').textContent));
</script>
</body>
</html>
`;
}
