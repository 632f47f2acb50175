/**
 * What pipe needs from the machine, checked the same way by `pipe doctor` and by the preflight
 * of `pipe run`: each requirement has a name (what a stage kind's `needs` lists), a check that
 * says ok / missing / degraded with a one-line detail, and the exact command that fixes it.
 *
 * Checks are cheap (a dlopen, a stat, a 40×20 render) and memoised per process; `resetChecks()`
 * forgets them (tests). Nothing here throws: a failed probe is a `missing` result.
 */
import { existsSync, accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { familyRequirement } from './families.js';
export { addRequirementFamily, requirementRoot, useRequirementRoot } from './families.js';

// child_process is loaded by the first check that runs a program (most need none)
const childProcess = () => createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');

export type CheckStatus = 'ok' | 'missing' | 'degraded';

export interface CheckResult {
  /** Requirement name, e.g. `libxgboost`. */
  name: string;
  /** What it is, for humans. */
  title: string;
  status: CheckStatus;
  /** Version, path or the reason it is missing. */
  detail: string;
  /** The exact command (or setting) that fixes it; absent when ok. */
  fix?: string;
}

export interface Requirement {
  name: string;
  title: string;
  /** Optional extras (e.g. tfjs-node): reported, never a reason for `doctor` to fail unless a stage needs them. */
  optional?: boolean;
  check(): Promise<Omit<CheckResult, 'name' | 'title'>>;
}

const SETUP = 'bash scripts/setup-system.sh';

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0]!.slice(0, 240);
}

/** An optional npm package providing a TF.js backend: reported with its version, never required unless a stage asks for it. */
function optionalPackage(name: string, pkg: string, backend: string, note: string, fixNote: string): Requirement {
  return {
    name,
    title: `${pkg} (optional backend \`${backend}\`)`,
    optional: true,
    async check() {
      const { packageVersion } = await import('../ml/backend.js');
      const v = packageVersion(pkg);
      return v ? { status: 'ok', detail: v } : { status: 'missing', detail: `not installed (${note})`, fix: `npm install ${pkg} (${fixNote})` };
    },
  };
}

const REQUIREMENTS: Requirement[] = [
  {
    name: 'node',
    title: 'Node.js ≥ 20',
    async check() {
      const major = Number(process.versions.node.split('.')[0]);
      return major >= 20
        ? { status: 'ok', detail: `v${process.versions.node}` }
        : { status: 'missing', detail: `v${process.versions.node} is too old`, fix: 'install Node.js 20 or newer (https://nodejs.org, or nvm install 20)' };
    },
  },
  {
    name: 'blas',
    title: 'native blas training backend (OpenBLAS)',
    async check() {
      const { blasStatus, blasNative } = await import('../ml/blas/native.js');
      const st = blasStatus();
      if (!st.available) {
        return {
          status: 'missing',
          detail: `${st.reason.replace(/^blas backend unavailable: /, '')}; the auto backend falls back to wasm (≈10× slower)`,
          fix: process.env.PIPE_BLAS_DISABLE && process.env.PIPE_BLAS_DISABLE !== '0'
            ? 'unset PIPE_BLAS_DISABLE'
            : `${SETUP} (Debian: apt-get install libopenblas-dev gcc libc6-dev), then node native/build.mjs`,
        };
      }
      const cfg = blasNative().openblasConfig;
      const kernel = cfg.split(/\s+/).slice(2).find((w) => /^[A-Z][A-Za-z0-9]+$/.test(w) && !/^(NO_|USE_|DYNAMIC_ARCH|MAX_THREADS)/.test(w));
      return { status: 'ok', detail: `OpenBLAS ${st.openblas}${kernel ? `, ${kernel} kernels` : ''} (${st.path})` };
    },
  },
  {
    name: 'libxgboost',
    title: 'XGBoost library (libxgboost)',
    async check() {
      const { openXgboost, candidates } = await import('../ml/xgboost.js');
      try {
        const a = openXgboost(candidates());
        return { status: 'ok', detail: `XGBoost ${a.version} (${a.path})` };
      } catch (e) {
        const env = process.env.PIPE_LIBXGBOOST;
        return {
          status: 'missing',
          detail: env ? `PIPE_LIBXGBOOST=${env} does not load` : 'libxgboost.so.0 not found',
          fix: env ? 'point PIPE_LIBXGBOOST at a libxgboost shared library, or unset it' : 'apt-get install libxgboost0, or set PIPE_LIBXGBOOST to a libxgboost.so',
        };
      }
    },
  },
  {
    name: 'fonts',
    title: 'fonts for plot text (DejaVu Sans, drawn by resvg)',
    async check() {
      let dir: string;
      try {
        const { fontDir } = await import('../plot/fonts.js');
        dir = fontDir();
      } catch (e) {
        return { status: 'missing', detail: 'DejaVu Sans not found; resvg would draw plots without text', fix: 'apt-get install fonts-dejavu-core, or set PIPE_FONT_DIR to a directory holding DejaVuSans.ttf' };
      }
      // draw one word and count the inked pixels: a font resvg cannot use leaves the image blank
      try {
        const { fontFiles } = await import('../plot/fonts.js');
        const { Resvg } = await import('@resvg/resvg-js');
        const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="60" height="24"><rect width="60" height="24" fill="#fff"/><text x="2" y="18" font-family="DejaVu Sans" font-size="16" fill="#000">Ag</text></svg>';
        const r = new Resvg(svg, { font: { fontFiles: fontFiles(), loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans' } }).render();
        const px = r.pixels;
        let ink = 0;
        for (let i = 0; i < px.length; i += 4) if (px[i]! < 128) ink++;
        if (ink < 10) return { status: 'degraded', detail: `fonts in ${dir}, but resvg drew no text with them`, fix: 'reinstall fonts-dejavu-core (apt-get install --reinstall fonts-dejavu-core)' };
      } catch (e) {
        return { status: 'degraded', detail: `fonts in ${dir}, but the test render failed: ${firstLine(e)}`, fix: 'npm ci (reinstalls @resvg/resvg-js)' };
      }
      return { status: 'ok', detail: dir };
    },
  },
  {
    name: 'spawner',
    title: 'native process spawner for script and command stages (Linux)',
    optional: true,
    async check() {
      const { fastSpawnUnavailable, SPAWN_LIBRARY } = await import('../script/fast-spawn.js');
      const why = fastSpawnUnavailable();
      if (why === null) return { status: 'ok', detail: SPAWN_LIBRARY };
      return {
        status: 'degraded',
        detail: `${why}; stages are spawned by Node under setpriv (the same guarantees, more CPU per process)`,
        fix: process.env.PIPE_FAST_SPAWN === '0' ? 'unset PIPE_FAST_SPAWN' : `${SETUP} (Debian: apt-get install gcc libc6-dev), then node native/build-spawn.mjs`,
      };
    },
  },
  optionalPackage('tfjs-node', '@tensorflow/tfjs-node', 'tensorflow', 'optional', 'its install downloads libtensorflow'),
  optionalPackage('tfjs-node-gpu', '@tensorflow/tfjs-node-gpu', 'tensorflow-gpu', 'optional; needs CUDA', 'needs CUDA and cuDNN'),
  {
    name: 'slurm',
    title: 'Slurm client and a controller that answers (only for `--executor slurm`)',
    optional: true,
    async check() {
      const run = (cmd: string, args: string[]) => childProcess().execFileSync(cmd, args, { encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'pipe'] });
      let version: string;
      try {
        version = run('sbatch', ['--version']).trim();
      } catch (e) {
        return { status: 'missing', detail: 'sbatch not found (not a Slurm submit host)', fix: 'bash scripts/setup-slurm.sh (a one-node cluster on this machine), or run pipe on a Slurm submit host' };
      }
      try {
        const parts = run('sinfo', ['-h', '-o', '%P %a %D %t']).trim().split('\n').filter(Boolean);
        if (!parts.length) return { status: 'missing', detail: `${version}, but sinfo lists no partitions`, fix: 'bash scripts/setup-slurm.sh, or ask the cluster admins' };
        return { status: 'ok', detail: `${version}; partitions: ${parts.map((l) => l.split(' ').slice(0, 2).join(' ')).join(', ')}` };
      } catch (e) {
        return { status: 'missing', detail: `${version}, but the controller does not answer: ${firstLine((e as { stderr?: string }).stderr || e)}`, fix: 'bash scripts/setup-slurm.sh (starts munged, slurmctld, slurmd)' };
      }
    },
  },
  {
    name: 'chromium',
    title: 'Chromium (only for the HTML-report browser test)',
    optional: true,
    async check() {
      const bin = chromiumPath();
      if (!bin) return { status: 'missing', detail: 'not found (only the report test needs it)', fix: `${SETUP} --with-test-deps (Debian: apt-get install chromium)` };
      try {
        const v = childProcess().execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
        return { status: 'ok', detail: `${v} (${bin})` };
      } catch (e) {
        return { status: 'degraded', detail: `${bin} does not start: ${firstLine(e)}`, fix: 'apt-get install --reinstall chromium' };
      }
    },
  },
];

/** Debian's Chromium, or $PIPE_CHROMIUM. */
export function chromiumPath(): string | null {
  const c = [process.env.PIPE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((x): x is string => !!x);
  return c.find((p) => existsSync(p)) ?? null;
}

export function requirementNames(): string[] {
  return REQUIREMENTS.map((r) => r.name);
}

export function requirement(name: string): Requirement | undefined {
  const fixed = REQUIREMENTS.find((r) => r.name === name);
  if (fixed) return fixed;
  return familyRequirement(name) as Requirement | undefined;
}

const memo = new Map<string, Promise<CheckResult>>();

/** The result of checking one requirement (memoised per process). Unknown names throw. */
export function checkRequirement(name: string): Promise<CheckResult> {
  const r = requirement(name);
  if (!r) throw new Error(`unknown requirement '${name}' (known: ${requirementNames().join(', ')})`);
  let p = memo.get(name);
  if (!p) {
    p = r.check().then(
      (c) => ({ name: r.name, title: r.title, ...c }),
      (e) => ({ name: r.name, title: r.title, status: 'missing' as const, detail: `check failed: ${firstLine(e)}` }),
    );
    memo.set(name, p);
  }
  return p;
}

export function resetChecks(): void {
  memo.clear();
}

/** A directory exists and this process can create files in it (or in its nearest existing parent). */
export function writableDir(dir: string): boolean {
  let d = dir;
  for (let i = 0; i < 64; i++) {
    if (existsSync(d)) {
      try { accessSync(d, constants.W_OK); return true; } catch { return false; }
    }
    const up = d.replace(/\/[^/]*\/?$/, '') || '/';
    if (up === d) return false;
    d = up;
  }
  return false;
}

/** Datasets present in a data-mirror directory laid out like ../shared/datasets. */
export function mirrorDatasets(dir: string): { present: string[]; missing: string[] } {
  const expected: Record<string, string[]> = {
    adult: ['adult/adult.data', 'adult/adult.test'],
    magic: ['magic/magic04.data'],
    ccpp: ['ccpp/Folds5x2_pp.xlsx'],
    mnist: ['mnist/train-images-idx3-ubyte.gz', 'mnist/train-labels-idx1-ubyte.gz', 'mnist/t10k-images-idx3-ubyte.gz', 'mnist/t10k-labels-idx1-ubyte.gz'],
  };
  const present: string[] = [], missing: string[] = [];
  for (const [ds, files] of Object.entries(expected)) (files.every((f) => existsSync(`${dir}/${f}`)) ? present : missing).push(ds);
  return { present, missing };
}
