/**
 * The browser builds of vega, vega-lite and vega-embed, read from node_modules and inlined into
 * report pages (the machines that open reports may have no internet: no CDN).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BUILDS = [
  ['vega', 'build/vega.min.js'],
  ['vega-lite', 'build/vega-lite.min.js'],
  ['vega-embed', 'build/vega-embed.min.js'],
] as const;

function findPackageFile(pkg: string, file: string): string {
  const starts = [dirname(fileURLToPath(import.meta.url)), process.cwd()];
  for (const start of starts) {
    let d = start;
    for (;;) {
      const p = join(d, 'node_modules', pkg, file);
      if (existsSync(p)) return p;
      const up = dirname(d);
      if (up === d) break;
      d = up;
    }
  }
  throw new Error(`report: cannot find ${pkg}/${file} in any node_modules above ${starts.join(' or ')}; run npm install`);
}

let cached: string | undefined;

/** `<script>` elements with vega, vega-lite and vega-embed (UMD globals vega, vegaLite, vegaEmbed). */
export function vegaScripts(): string {
  cached ??= BUILDS.map(([pkg, file]) => `<script>/* ${pkg} */\n${scriptSafe(readFileSync(findPackageFile(pkg, file), 'utf8').replace(/\/\/# sourceMappingURL=\S+\s*$/, ''))}\n</script>`).join('\n');
  return cached;
}

/** Makes JS text safe inside a <script> element. */
export function scriptSafe(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

/** JSON for a <script type="application/json"> element (no '<' at all). */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export function esc(s: unknown): string {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
