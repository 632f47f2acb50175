#!/usr/bin/env node
// Summarizes a k-fold preparation as a Markdown table: rows and class balance per part, and how
// much the per-fold standardization statistics vary (they are fit on each fold's training part).
// Usage: summarize-folds.mjs <split info.json>… -- <standardize stats.json>…
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const cut = args.indexOf('--');
const infos = args.slice(0, cut).map((f) => JSON.parse(readFileSync(f, 'utf8')));
const stats = args.slice(cut + 1).map((f) => JSON.parse(readFileSync(f, 'utf8')));

const lines = ['| fold | train | val | test | test class balance |', '|---:|---:|---:|---:|---|'];
for (const i of infos) {
  const cc = i.class_counts?.test ?? [];
  const tot = cc.reduce((a, b) => a + b, 0) || 1;
  lines.push(`| ${i.fold} | ${i.sizes.train} | ${i.sizes.val} | ${i.sizes.test} | ${cc.map((c) => (c / tot).toFixed(3)).join(' / ')} |`);
}
const cols = Object.keys(stats[0]?.columns ?? {});
lines.push('', '| feature | mean (fold range) | std (fold range) |', '|---|---|---|');
for (const c of cols) {
  const m = stats.map((s) => s.columns[c].mean);
  const s = stats.map((s) => s.columns[c].std);
  const r = (a) => `${Math.min(...a).toFixed(3)} … ${Math.max(...a).toFixed(3)}`;
  lines.push(`| ${c} | ${r(m)} | ${r(s)} |`);
}
console.log(lines.join('\n'));
