/**
 * Step 5 — plan: fingerprints, what is fresh or stale, and why.
 *
 * A stage is `fresh` when a done, non-invalidated execution with its exact fingerprint exists
 * and every output object is intact. Its fingerprint can only be known once every upstream
 * stage is fresh (inputs are content hashes); a stage below a stale one is stale "because its
 * input will be recomputed" — the run then decides (early cutoff may still keep it cached).
 */
import { codeClosure, type CodeClosure } from './code.js';
import type { CacheDb, ExecutionRow, OutputRow } from './db.js';
import { explainChange, fingerprint, FINGERPRINT_FORMAT, type FingerprintData } from './fingerprint.js';
import type { ContentHash, FingerprintHash } from '../../lib/hash.js';
import type { PipelineGraph, PlannedStage } from '../front/graph.js';
import type { StaleReason } from './reasons.js';
import { kindOrigin } from '../front/registry.js';
import type { StageKind } from '../../sdk/stage.js';
import { hashProjectPath, type ObjectStore } from './store.js';

/** Runtime facts every fingerprint carries: results may differ across Node majors and platforms. */
export const BASELINE_RUNTIME: Readonly<Record<string, string>> = Object.freeze({
  node: process.versions.node.split('.')[0]!,
  platform: `${process.platform}-${process.arch}`,
});

const closures = new Map<StageKind, CodeClosure>();

/** The code closure of a kind loaded through the registry (memoized per process); empty for other kinds. */
export function kindCode(k: StageKind, db?: CacheDb): CodeClosure {
  let c = closures.get(k);
  if (!c) {
    const o = kindOrigin(k);
    c = o ? codeClosure(o.file, o.root, db) : { files: {}, staleBuild: [] };
    Object.freeze(c.files); // shared by every fingerprint of the kind (serialized once, fingerprint.ts)
    closures.set(k, c);
  }
  return c;
}

export type StageState = 'fresh' | 'stale' | 'never-run' | 'failed';

export interface StageStatus {
  id: string;
  state: StageState;
  reasons: StaleReason[];
  fp?: FingerprintHash;
  fpData?: FingerprintData;
  /** The execution whose outputs satisfy the stage (when fresh). */
  hit?: ExecutionRow;
  outputs?: OutputRow[];
}

export interface HitCheck {
  row?: ExecutionRow;
  outputs?: OutputRow[];
  /** Why a recorded execution with this fingerprint cannot be used. */
  problems: StaleReason[];
}

export class Planner {
  private runtimeMemo = new Map<string, Promise<Record<string, string>>>();
  /** The runtime facts already known, by the same key (for `fingerprintNow`). */
  private runtimeKnown = new Map<string, Record<string, string>>();
  private latest?: Map<string, { last?: ExecutionRow; lastDone?: ExecutionRow }>;
  private lastOutputs?: ReturnType<CacheDb['lastDoneOutputs']>;

  constructor(readonly g: PipelineGraph, readonly db: CacheDb, readonly store: ObjectStore, readonly root: string) {}

  private latestOf(id: string): { last?: ExecutionRow; lastDone?: ExecutionRow } {
    this.latest ??= this.db.latestAll(this.g.pipeline.name);
    return this.latest.get(id) ?? {};
  }

  /**
   * The newest done execution of a stage in this pipeline as the run started (one query for all
   * stages, not one per stage): a run records each stage once, so its own records never change it.
   */
  lastDone(id: string): ExecutionRow | undefined {
    return this.latestOf(id).lastDone;
  }

  /** Forget cached "latest execution" facts (after the run recorded something). */
  refresh(): void {
    this.latest = undefined;
    this.lastOutputs = undefined;
  }

  runtime(st: PlannedStage): Promise<Record<string, string>> {
    if (!st.kind.runtime) return Promise.resolve(BASELINE_RUNTIME);
    const key = runtimeKey(st);
    let r = this.runtimeMemo.get(key);
    if (!r) {
      r = Promise.resolve(st.kind.runtime(st.params, this.root)).then((own) => {
        const facts = Object.freeze({ ...BASELINE_RUNTIME, ...own });
        this.runtimeKnown.set(key, facts);
        return facts;
      });
      this.runtimeMemo.set(key, r);
    }
    return r;
  }

  async fileHashes(st: PlannedStage): Promise<Record<string, ContentHash>> {
    const files: Record<string, ContentHash> = {};
    for (const f of st.kind.fileDeps?.(st.params) ?? []) {
      const h = await hashProjectPath(this.db, this.root, f);
      if (!h) throw new Error(`stage ${st.id}: dependency file '${f}' does not exist (relative to ${this.root})`);
      files[f] = h;
    }
    return files;
  }

  /** Content hashes of the project files a kind names as code (`codeFiles`: a script and its local imports). */
  async projectCode(st: PlannedStage): Promise<Record<string, ContentHash>> {
    const out: Record<string, ContentHash> = {};
    if (!st.kind.codeFiles) return out;
    for (const f of await st.kind.codeFiles(st.params, this.root)) {
      const h = await hashProjectPath(this.db, this.root, f);
      if (!h) throw new Error(`stage ${st.id}: code file '${f}' does not exist (relative to ${this.root})`);
      out[f] = h;
    }
    return out;
  }

  /** The kind's code closure, plus the project files it names for this stage (the shared frozen closure when there are none). */
  private async codeOf(st: PlannedStage): Promise<Record<string, ContentHash>> {
    const kindFiles = kindCode(st.kind, this.db).files;
    if (!st.kind.codeFiles) return kindFiles;
    const own = await this.projectCode(st);
    return Object.keys(own).length ? { ...kindFiles, ...own } : kindFiles;
  }

  /** The full cache key, given the content hashes of the stage's inputs. */
  async fingerprintOf(st: PlannedStage, inputs: Record<string, ContentHash[]>): Promise<{ fp: FingerprintHash; data: FingerprintData }> {
    return keyOf(st, await this.codeOf(st), inputs, await this.fileHashes(st), await this.runtime(st));
  }

  /**
   * The same key without waiting, when nothing of it is asynchronous: the kind names no project
   * files (`codeFiles`, `fileDeps`) and its runtime facts are known (none declared, or already
   * asked this run). Undefined otherwise — `fingerprintOf` then computes it.
   */
  fingerprintNow(st: PlannedStage, inputs: Record<string, ContentHash[]>): { fp: FingerprintHash; data: FingerprintData } | undefined {
    if (st.kind.codeFiles || st.kind.fileDeps?.(st.params)?.length) return undefined;
    const runtime = st.kind.runtime ? this.runtimeKnown.get(runtimeKey(st)) : BASELINE_RUNTIME;
    if (!runtime) return undefined;
    return keyOf(st, kindCode(st.kind, this.db).files, inputs, {}, runtime);
  }

  /**
   * Is there a usable execution with this fingerprint? When it is the stage's own newest done
   * execution as the run started (a no-op: every stage), its outputs and their store rows come
   * from two bulk queries; otherwise (a result recorded under another stage or pipeline, or
   * during this run) from the index directly.
   */
  checkHit(fp: string, stageId?: string): HitCheck {
    const own = stageId !== undefined ? this.lastDone(stageId) : undefined;
    const bulk = own && own.fingerprint === fp && !own.invalidated;
    const row = bulk ? own : this.db.findDone(fp);
    if (!row) return { problems: [] };
    if (bulk) this.lastOutputs ??= this.db.lastDoneOutputs(this.g.pipeline.name);
    const prefetched = bulk ? this.lastOutputs!.outputs.get(row.id) : undefined;
    const outputs = prefetched ?? this.db.outputs(row.id);
    const problems: StaleReason[] = [];
    for (const o of outputs) {
      const s = this.store.verify(o.hash, prefetched ? this.lastOutputs!.objects.get(o.hash) ?? null : undefined);
      if (s === 'missing') problems.push({ code: 'output-missing', output: o.name });
      else if (s === 'damaged') problems.push({ code: 'output-corrupt', output: o.name });
    }
    return { row, outputs, problems };
  }

  sources(st: PlannedStage): Record<string, string[]> {
    return Object.fromEntries(Object.entries(st.bindings).map(([k, bs]) => [k, bs.map((b) => `${b.stage}.${b.output}`)]));
  }

  /** Reasons a stage with fingerprint data `now` (no usable hit) must run. */
  explainMiss(st: PlannedStage, now: FingerprintData, hit: HitCheck, ignoreInputs = false): { state: StageState; reasons: StaleReason[] } {
    const { last, lastDone } = this.latestOf(st.id);
    const fp = fingerprint(now);
    const failed = (e: string | null | undefined): StaleReason => ({ code: 'failed-before', error: firstLine(e) });
    if (hit.row && hit.problems.length) return { state: 'stale', reasons: hit.problems };
    if (last && last.state === 'failed' && last.fingerprint === fp) return { state: 'failed', reasons: [failed(last.error)] };
    if (last && last.state === 'interrupted' && last.fingerprint === fp) return { state: 'stale', reasons: [{ code: 'interrupted' }] };
    if (!lastDone) {
      if (last?.state === 'failed') return { state: 'failed', reasons: [failed(last.error)] };
      return { state: 'never-run', reasons: [{ code: 'never-run' }] };
    }
    if (lastDone.fingerprint === fp && lastDone.invalidated) return { state: 'stale', reasons: [{ code: 'invalidated' }] };
    let before: FingerprintData | null = null;
    try {
      before = JSON.parse(lastDone.fp_data) as FingerprintData;
    } catch {
      /* unreadable record: explained as a format change */
    }
    const reasons: StaleReason[] = !before || before.format !== FINGERPRINT_FORMAT
      ? [{ code: 'fingerprint-format-changed', before: typeof before?.format === 'number' ? before.format : null, after: FINGERPRINT_FORMAT }]
      : explainChange(before, ignoreInputs ? { ...now, inputs: before.inputs } : now, this.sources(st));
    if (!reasons.length && !ignoreInputs) reasons.push(lastDone.invalidated ? { code: 'invalidated' } : { code: 'no-valid-result' });
    return last?.state === 'failed' ? { state: 'failed', reasons: [failed(last.error), ...reasons] } : { state: 'stale', reasons };
  }

  /** Status of every stage, in topological order. Reads only (damaged objects are dropped). */
  async statusAll(): Promise<StageStatus[]> {
    const result = new Map<string, StageStatus>();
    for (const st of this.g.order) {
      const upstreamStale: { stage: string; input: string; state: string }[] = [];
      const inputs: Record<string, ContentHash[]> = {};
      for (const [name, bs] of Object.entries(st.bindings)) {
        inputs[name] = [];
        for (const b of bs) {
          const up = result.get(b.stage)!;
          const out = up.state === 'fresh' ? up.outputs?.find((o) => o.name === b.output) : undefined;
          if (!out) {
            if (!upstreamStale.some((u) => u.stage === b.stage && u.input === name)) upstreamStale.push({ stage: b.stage, input: name, state: up.state === 'fresh' ? `missing output ${b.output}` : up.state });
          } else inputs[name]!.push(out.hash as ContentHash);
        }
      }
      let fpd: { fp: FingerprintHash; data: FingerprintData };
      try {
        fpd = this.fingerprintNow(st, inputs) ?? (await this.fingerprintOf(st, inputs));
      } catch (e) {
        result.set(st.id, { id: st.id, state: 'stale', reasons: [{ code: 'fingerprint-error', message: (e as Error).message }] });
        continue;
      }
      const { fp, data } = fpd;
      if (upstreamStale.length) {
        const { state, reasons } = this.explainMiss(st, data, { problems: [] }, true);
        const up: StaleReason = { code: 'upstream-stale', upstream: upstreamStale };
        result.set(st.id, { id: st.id, state, reasons: state === 'never-run' ? reasons : [...reasons, up] });
        continue;
      }
      const hit = this.checkHit(fp, st.id);
      if (hit.row && !hit.problems.length) {
        result.set(st.id, { id: st.id, state: 'fresh', reasons: [], fp, fpData: data, hit: hit.row, outputs: hit.outputs });
        continue;
      }
      const { state, reasons } = this.explainMiss(st, data, hit);
      result.set(st.id, { id: st.id, state, reasons, fp, fpData: data });
    }
    return [...result.values()];
  }
}

const runtimeKey = (st: PlannedStage) => st.kind.kind + '\u0000' + JSON.stringify(st.params);

/** The cache key of a stage from its parts (members in the order `FingerprintData` documents them). */
function keyOf(st: PlannedStage, code: Record<string, ContentHash>, inputs: Record<string, ContentHash[]>, files: Record<string, ContentHash>, runtime: Record<string, string>): { fp: FingerprintHash; data: FingerprintData } {
  const data: FingerprintData = {
    format: FINGERPRINT_FORMAT,
    kind: st.kind.kind,
    version: st.kind.version,
    code,
    params: resultParams(st),
    seed: st.seed,
    inputs,
    files,
    runtime,
  };
  // the params' canonical text from the graph cache, when the key takes the params whole
  return { fp: fingerprint(data, st.kind.nonResultParams?.length ? undefined : st.paramsText), data };
}

/** The params that can change the result (all but the kind's `nonResultParams`). */
function resultParams(st: PlannedStage): unknown {
  const skip = st.kind.nonResultParams;
  if (!skip?.length || !st.params || typeof st.params !== 'object') return st.params;
  return Object.fromEntries(Object.entries(st.params).filter(([k]) => !skip.includes(k)));
}

function firstLine(s: string | null | undefined): string {
  return (s ?? 'unknown error').split('\n')[0]!.slice(0, 200);
}
