/**
 * Step 5 — plan: fingerprints, what is fresh or stale, and why.
 *
 * A stage is `fresh` when a done, non-invalidated execution with its exact fingerprint exists
 * and every output object is intact. Its fingerprint can only be known once every upstream
 * stage is fresh (inputs are content hashes); a stage below a stale one is stale "because its
 * input will be recomputed" — the run then decides (early cutoff may still keep it cached).
 */
import type { CacheDb, ExecutionRow, OutputRow } from './db.js';
import { explainChange, fingerprint, FINGERPRINT_FORMAT, type FingerprintData } from './fingerprint.js';
import type { ContentHash, FingerprintHash } from './hash.js';
import type { PipelineGraph, PlannedStage } from './graph.js';
import { hashProjectPath, type ObjectStore } from './store.js';

export type StageState = 'fresh' | 'stale' | 'never-run' | 'failed';

export interface StageStatus {
  id: string;
  state: StageState;
  reasons: string[];
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
  problems: string[];
}

export class Planner {
  private runtimeMemo = new Map<string, Promise<Record<string, string>>>();
  private latest?: Map<string, { last?: ExecutionRow; lastDone?: ExecutionRow }>;

  constructor(readonly g: PipelineGraph, readonly db: CacheDb, readonly store: ObjectStore, readonly root: string) {}

  private latestOf(id: string): { last?: ExecutionRow; lastDone?: ExecutionRow } {
    this.latest ??= this.db.latestAll(this.g.pipeline.name);
    return this.latest.get(id) ?? {};
  }

  /** Forget cached "latest execution" facts (after the run recorded something). */
  refresh(): void {
    this.latest = undefined;
  }

  runtime(st: PlannedStage): Promise<Record<string, string>> {
    if (!st.kind.runtime) return Promise.resolve({});
    const key = st.kind.kind + '\u0000' + JSON.stringify(st.params);
    let r = this.runtimeMemo.get(key);
    if (!r) {
      r = Promise.resolve(st.kind.runtime(st.params));
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

  /** The full cache key, given the content hashes of the stage's inputs. */
  async fingerprintOf(st: PlannedStage, inputs: Record<string, ContentHash[]>): Promise<{ fp: FingerprintHash; data: FingerprintData }> {
    const data: FingerprintData = {
      format: FINGERPRINT_FORMAT,
      kind: st.kind.kind,
      version: st.kind.version,
      params: resultParams(st),
      seed: st.seed,
      inputs,
      files: await this.fileHashes(st),
      runtime: await this.runtime(st),
    };
    return { fp: fingerprint(data), data };
  }

  /** Is there a usable execution with this fingerprint? */
  checkHit(fp: string): HitCheck {
    const row = this.db.findDone(fp);
    if (!row) return { problems: [] };
    const outputs = this.db.outputs(row.id);
    const problems: string[] = [];
    for (const o of outputs) {
      const s = this.store.verify(o.hash);
      if (s === 'missing') problems.push(`output ${o.name} missing`);
      else if (s === 'damaged') problems.push(`output ${o.name} damaged (content no longer matches its hash)`);
    }
    return problems.length ? { row, outputs, problems } : { row, outputs, problems };
  }

  sources(st: PlannedStage): Record<string, string[]> {
    return Object.fromEntries(Object.entries(st.bindings).map(([k, bs]) => [k, bs.map((b) => `${b.stage}.${b.output}`)]));
  }

  /** Reasons a stage with fingerprint data `now` (no usable hit) must run. */
  explainMiss(st: PlannedStage, now: FingerprintData, hit: HitCheck, ignoreInputs = false): { state: StageState; reasons: string[] } {
    const { last, lastDone } = this.latestOf(st.id);
    if (hit.row && hit.problems.length) return { state: 'stale', reasons: hit.problems };
    if (last && last.state !== 'done' && last.fingerprint === fingerprint(now) && last.state === 'failed') {
      return { state: 'failed', reasons: [`failed: ${firstLine(last.error)}`] };
    }
    if (last && last.state === 'interrupted' && last.fingerprint === fingerprint(now)) {
      return { state: 'stale', reasons: ['interrupted before it finished'] };
    }
    if (!lastDone) {
      if (last?.state === 'failed') return { state: 'failed', reasons: [`failed: ${firstLine(last.error)}`] };
      return { state: 'never-run', reasons: ['never run'] };
    }
    const before = JSON.parse(lastDone.fp_data) as FingerprintData;
    if (lastDone.fingerprint === fingerprint(now) && lastDone.invalidated) return { state: 'stale', reasons: ['invalidated (pipe invalidate)'] };
    const cmp = ignoreInputs ? { ...now, inputs: before.inputs } : now;
    const reasons = explainChange(before, cmp, this.sources(st));
    if (!reasons.length && !ignoreInputs) reasons.push(lastDone.invalidated ? 'invalidated (pipe invalidate)' : 'no valid cached result');
    return { state: last?.state === 'failed' ? 'failed' : 'stale', reasons: last?.state === 'failed' ? [`failed: ${firstLine(last.error)}`, ...reasons] : reasons };
  }

  /** Status of every stage, in topological order. Reads only (damaged objects are dropped). */
  async statusAll(): Promise<StageStatus[]> {
    const result = new Map<string, StageStatus>();
    for (const st of this.g.order) {
      const upstreamStale: string[] = [];
      const inputs: Record<string, ContentHash[]> = {};
      for (const [name, bs] of Object.entries(st.bindings)) {
        inputs[name] = [];
        for (const b of bs) {
          const up = result.get(b.stage)!;
          const out = up.state === 'fresh' ? up.outputs?.find((o) => o.name === b.output) : undefined;
          if (!out) {
            if (up.state !== 'fresh') upstreamStale.push(`input ${name}: ${b.stage} is ${up.state}`);
            else upstreamStale.push(`input ${name}: ${b.stage} has no output ${b.output}`);
          } else inputs[name]!.push(out.hash as ContentHash);
        }
      }
      let fpd: { fp: FingerprintHash; data: FingerprintData };
      try {
        fpd = await this.fingerprintOf(st, inputs);
      } catch (e) {
        result.set(st.id, { id: st.id, state: 'stale', reasons: [(e as Error).message] });
        continue;
      }
      const { fp, data } = fpd;
      if (upstreamStale.length) {
        const { state, reasons } = this.explainMiss(st, data, { problems: [] }, true);
        const uniq = [...new Set(upstreamStale)];
        const shown = uniq.length > 3 ? [...uniq.slice(0, 3), `…and ${uniq.length - 3} more upstream stages`] : uniq;
        result.set(st.id, { id: st.id, state: state === 'never-run' ? state : state === 'failed' ? 'failed' : 'stale', reasons: state === 'never-run' ? reasons : [...reasons, ...shown] });
        continue;
      }
      const hit = this.checkHit(fp);
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

/** The params that can change the result (all but the kind's `nonResultParams`). */
function resultParams(st: PlannedStage): unknown {
  const skip = st.kind.nonResultParams;
  if (!skip?.length || !st.params || typeof st.params !== 'object') return st.params;
  return Object.fromEntries(Object.entries(st.params).filter(([k]) => !skip.includes(k)));
}

function firstLine(s: string | null | undefined): string {
  return (s ?? 'unknown error').split('\n')[0]!.slice(0, 200);
}
