/**
 * `python`: run a Python script of the project as a stage.
 *
 *   train_torch:
 *     kind: python
 *     matrix: {fold: {range: 3}}
 *     inputs: {train: prep.train, test: prep.test}
 *     params:
 *       script: scripts/train.py          # its local imports are tracked as code, transitively
 *       args: [--verbose]                 # optional command-line arguments
 *       formats: {train: npz, test: npz}  # table inputs as csv | npy | npz | parquet | arrow
 *       outs: {model: file, predictions: csv}   # outputs; table formats are converted to Arrow
 *       params: {epochs: 20, lr: 0.001}   # the script's own params (manifest `params`)
 *       schema: scripts/train.schema.json # optional JSON Schema for them
 *
 * The script gets the stage manifest ($PIPE_MANIFEST) and speaks the line protocol on fd 3;
 * `import pipe_stage` (pipe's helper, on its PYTHONPATH) does both. See src/lib/script/exec.ts.
 * Runtime facts in the fingerprint: the interpreter's version and the versions of the
 * third-party packages the script (and its local modules) import.
 */
import { defineStage } from '../sdk/stage.js';
import { addRequirementFamily, requirementRoot } from '../lib/system/families.js';
import { runScriptStage, scriptInputs, scriptOutputs, SCRIPT_COMMON_SCHEMA, type ScriptCommon } from '../lib/script/exec.js';
import { choosePython, pythonPath } from '../lib/script/python.js';
import { pythonClosure, PROBE } from '../lib/script/pyimports.js';

interface PythonParams extends ScriptCommon {
  script: string;
  args: string[];
  python?: string;
  schema?: string;
}

const probes = new Map<string, Promise<{ python: string; modules: Record<string, string> }>>();

/** Interpreter version and third-party module versions (memoized per interpreter and module list). */
export function probePython(python: string, modules: string[], root: string): Promise<{ python: string; modules: Record<string, string> }> {
  const key = python + '\u0000' + modules.join(',');
  let p = probes.get(key);
  if (!p) {
    p = (async () => {
      const { execFile } = await import('node:child_process');
      return new Promise<{ python: string; modules: Record<string, string> }>((res, rej) => {
        const child = execFile(python, ['-c', PROBE], { cwd: root, timeout: 60_000, env: { ...process.env, PYTHONPATH: pythonPath() } }, (err, stdout, stderr) => {
          if (err) return rej(new Error((err as NodeJS.ErrnoException).code === 'ENOENT' ? `Python interpreter '${python}' not found` : `Python interpreter '${python}' failed: ${String(stderr).trim().split('\n').pop() ?? err.message}`));
          try { res(JSON.parse(String(stdout))); } catch { rej(new Error(`Python interpreter '${python}': unexpected probe output ${String(stdout).slice(0, 200)}`)); }
        });
        child.stdin!.end(JSON.stringify(modules));
      });
    })();
    probes.set(key, p);
    p.catch(() => probes.delete(key));
  }
  return p;
}

/** `python:<script>[@<interpreter>]`: the interpreter a Python stage runs and the modules its code imports. */
addRequirementFamily('python:', (arg, name) => {
  const at = arg.lastIndexOf('@');
  const script = at > 0 ? arg.slice(0, at) : arg;
  const stagePython = at > 0 ? arg.slice(at + 1) : undefined;
  return {
    name, title: `Python for ${script}`,
    async check() {
      const root = requirementRoot();
      const py = choosePython(root, stagePython);
      let external: string[];
      try { external = pythonClosure(root, script).external; } catch (e) { return { status: 'missing' as const, detail: (e as Error).message, fix: `create ${script}, or fix the stage's script:` }; }
      let probe;
      try { probe = await probePython(py.path, external, root); } catch (e) {
        return { status: 'missing' as const, detail: (e as Error).message, fix: `install Python 3, or point PIPE_PYTHON (or python: in pipe.config.json, or the stage's python:) at an interpreter; a project .venv is found automatically` };
      }
      const missing = Object.entries(probe.modules).filter(([, v]) => v === 'missing').map(([k]) => k);
      const found = Object.entries(probe.modules).filter(([, v]) => v !== 'missing').map(([, v]) => v);
      const detail = `Python ${probe.python} (${py.path}, from ${py.source})${found.length ? `; ${found.join(', ')}` : ''}`;
      if (missing.length) return { status: 'missing' as const, detail: `${script} imports ${missing.join(', ')}, which ${py.path} (from ${py.source}) cannot import`, fix: `${py.path} -m pip install ${missing.join(' ')} (or point PIPE_PYTHON / the stage's python: at an environment that has ${missing.length > 1 ? 'them' : 'it'})` };
      return { status: 'ok' as const, detail };
    },
  };
});

export default defineStage<PythonParams>({
  kind: 'python',
  version: '1',
  description: 'Run a Python script of the project (manifest, line protocol, pipe_stage helper, tracked local imports)',
  paramsSchema: {
    type: 'object',
    properties: {
      script: { type: 'string', minLength: 1, description: 'the script, relative to the project root' },
      args: { type: 'array', items: { type: 'string' }, default: [], description: 'command-line arguments' },
      python: { type: 'string', description: 'the interpreter (default: PIPE_PYTHON, pipe.config.json, the project .venv, the active env, python3)' },
      ...SCRIPT_COMMON_SCHEMA,
    },
    required: ['script'],
    additionalProperties: false,
  },
  inputs: (p) => scriptInputs(p),
  outputs: (p) => scriptOutputs(p),
  nonResultParams: ['python'],
  needs: (p) => [`python:${p.script}${p.python ? `@${p.python}` : ''}`],
  fileDeps: (p) => [...(p.deps ?? []), ...(p.schema ? [p.schema] : [])],
  codeFiles: (p, root) => pythonClosure(root, p.script).files,
  async runtime(p, root) {
    const py = choosePython(root, p.python);
    const { external } = pythonClosure(root, p.script);
    const probe = await probePython(py.path, external, root);
    const missing = Object.entries(probe.modules).filter(([, v]) => v === 'missing').map(([k]) => k);
    if (missing.length) throw new Error(`${p.script} imports ${missing.join(', ')}, which ${py.path} (from ${py.source}) cannot import`);
    return { python: probe.python, ...Object.fromEntries(Object.entries(probe.modules).map(([k, v]) => [`py:${k}`, v])) };
  },
  async run(ctx) {
    const p = ctx.params;
    const py = choosePython(ctx.projectDir, p.python);
    return runScriptStage(ctx, {
      kind: 'python', file: py.path, args: ['-u', p.script, ...p.args], what: `${p.script} (${py.path})`,
      env: { PYTHONPATH: pythonPath(), PYTHONUNBUFFERED: '1' },
    });
  },
});
