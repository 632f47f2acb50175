import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codeClosure, importsOf } from '../../src/engine/cache/code.js';
import { CacheDb } from '../../src/engine/cache/db.js';
import { repoRoot } from './helpers.js';

describe('code closure of a kind', () => {
  it('finds relative static and literal dynamic imports, not type-only imports or packages', () => {
    const src = [
      "import { a } from './a.js';",
      "import type { T } from './types.js';",
      "export type { U } from './u.js';",
      "import {\n  b,\n  type C,\n} from '../lib/b.js';",
      "export { d } from './d.js';",
      "import './side-effect.js';",
      "import x from 'apache-arrow';",
      "const m = await import('./lazy.js');",
      "const n = await import(name);",
    ].join('\n');
    expect(importsOf(src).sort()).toEqual(['../lib/b.js', './a.js', './d.js', './lazy.js', './side-effect.js']);
  });

  it('train: its lib modules (also the dynamically imported ones) and the native sources; hashed from src/ for src and dist alike', () => {
    const c = codeClosure(join(repoRoot, 'src/stages/train.ts'), repoRoot);
    const files = Object.keys(c.files);
    expect(files).toContain('src/stages/train.ts');
    expect(files).toContain('src/lib/ml/trainer.ts'); // import('../lib/ml/trainer.js') inside run
    expect(files).toContain('src/lib/ml/blas/native.ts');
    expect(files).toContain('native/pipe_blas.c');
    expect(files).toContain('native/pb.h');
    expect(files.every((f) => !f.includes('node_modules'))).toBe(true);
    expect(c.staleBuild).toEqual([]);
    // the CLI runs dist/stages/train.js: same closure, same hashes (the TS sources are hashed)
    expect(existsSync(join(repoRoot, 'dist/stages/train.js')), 'run `npm run build` first').toBe(true);
    const d = codeClosure(join(repoRoot, 'dist/stages/train.js'), repoRoot);
    expect(d.files).toEqual(c.files);
  });

  it('command: only its own module, the stage API it imports a value from, and the protocol spawn it runs with', () => {
    const c = codeClosure(join(repoRoot, 'src/stages/command.ts'), repoRoot);
    // the line protocol (metrics, curves, progress from any command) — not the script stages' formats or manifest;
    // the spawner module, but not its C source: how a process is started (native or setpriv) changes no result
    expect(Object.keys(c.files)).toEqual(['src/lib/script/fast-spawn.ts', 'src/lib/script/protocol.ts', 'src/lib/script/spawn.ts', 'src/sdk/stage.ts', 'src/stages/command.ts']);
  });

  it('hashes code, not text: comments and formatting of a real module change nothing, one token does', async () => {
    const { codeText } = await import('../../src/engine/cache/code.js');
    const { readFileSync } = await import('node:fs');
    const file = join(repoRoot, 'src/sdk/stage.ts');
    const src = readFileSync(file, 'utf8');
    const base = codeText(src, file);
    expect(base.length).toBeGreaterThan(100);
    const commented = '// header\n' + src.replace(/\n/g, '\n\n').replace('export function defineStage', '/** a new doc comment */\nexport   function defineStage');
    expect(codeText(commented, file)).toBe(base);
    expect(codeText(src.replace('return kind;', 'return { ...kind };'), file)).not.toBe(base);
    // a renamed identifier is a change too; a string's content is code
    expect(codeText(src.replace(/\bresolvePorts\b/g, 'resolvePortz'), file)).not.toBe(base);
    expect(codeText(src.replace("table: '.arrow'", "table: '.arrow2'"), file)).not.toBe(base);
    // JS too; something esbuild cannot parse is hashed as written
    expect(codeText('export const a = 1; // x\n', 'k.mjs')).toBe(codeText('export const a = 1;\n', 'k.mjs'));
    expect(codeText('this is ( not code', 'k.ts')).toBe('this is ( not code');
  });

  it('a file edit changes exactly that hash; the per-file cache (size, mtime, inode) is used and invalidated', () => {
    const root = mkdtempSync(join(tmpdir(), 'pipe-code-'));
    writeFileSync(join(root, 'package.json'), '{}');
    mkdirSync(join(root, 'stages', 'lib'), { recursive: true });
    writeFileSync(join(root, 'stages/k.ts'), "import { f } from './lib/f.js';\nexport default f;\n");
    writeFileSync(join(root, 'stages/lib/f.ts'), 'export const f = 1;\n');
    writeFileSync(join(root, 'stages/lib/g.ts'), 'export const g = 1;\n');
    const db = new CacheDb(join(root, 'pipe.db'));
    const a = codeClosure(join(root, 'stages/k.ts'), root, db);
    expect(Object.keys(a.files)).toEqual(['stages/k.ts', 'stages/lib/f.ts']);
    expect(db.getCodeFile(join(root, 'stages/k.ts'))!.imports).toBe('["./lib/f.js"]');
    writeFileSync(join(root, 'stages/lib/f.ts'), 'export const f = 2;\n');
    const b = codeClosure(join(root, 'stages/k.ts'), root, db);
    expect(b.files['stages/k.ts']).toBe(a.files['stages/k.ts']);
    expect(b.files['stages/lib/f.ts']).not.toBe(a.files['stages/lib/f.ts']);
    // a new import is followed even when the cached row of the importer was stale
    writeFileSync(join(root, 'stages/k.ts'), "import { f } from './lib/f.js';\nimport { g } from './lib/g.js';\nexport default f + g;\n");
    const t = new Date(Date.now() + 5000);
    utimesSync(join(root, 'stages/k.ts'), t, t);
    expect(Object.keys(codeClosure(join(root, 'stages/k.ts'), root, db).files)).toEqual(['stages/k.ts', 'stages/lib/f.ts', 'stages/lib/g.ts']);
    db.close();
  });

  it('in a checkout, a dist build older than its TypeScript source is reported as a stale build', () => {
    const root = mkdtempSync(join(tmpdir(), 'pipe-code-'));
    writeFileSync(join(root, 'package.json'), '{}');
    mkdirSync(join(root, '.git'));
    mkdirSync(join(root, 'src/stages'), { recursive: true });
    mkdirSync(join(root, 'dist/stages'), { recursive: true });
    writeFileSync(join(root, 'dist/stages/k.js'), 'export default 1;\n');
    writeFileSync(join(root, 'src/stages/k.ts'), 'export default 1;\n');
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(root, 'dist/stages/k.js'), old, old);
    const c = codeClosure(join(root, 'dist/stages/k.js'), root);
    expect(Object.keys(c.files)).toEqual(['src/stages/k.ts']);
    expect(c.staleBuild).toEqual(['dist/stages/k.js']);
    // an installed package (no .git): mtimes are extraction times, no build check
    const inst = mkdtempSync(join(tmpdir(), 'pipe-code-'));
    writeFileSync(join(inst, 'package.json'), '{}');
    mkdirSync(join(inst, 'src/stages'), { recursive: true });
    mkdirSync(join(inst, 'dist/stages'), { recursive: true });
    writeFileSync(join(inst, 'dist/stages/k.js'), 'export default 1;\n');
    writeFileSync(join(inst, 'src/stages/k.ts'), 'export default 1;\n');
    utimesSync(join(inst, 'dist/stages/k.js'), old, old);
    expect(codeClosure(join(inst, 'dist/stages/k.js'), inst).staleBuild).toEqual([]);
  });
});
