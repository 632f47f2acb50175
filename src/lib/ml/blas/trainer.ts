/**
 * `NativeMlpStep` / `trainMlpNative`: the MLP step of src/lib/ml/trainer.ts with every batch
 * step — gather, forward, loss, backward, entropy term, clipping, AdamW — done by one call into
 * the native library (native/pipe_blas.c, OpenBLAS sgemm + fused C loops on recycled buffers),
 * driven by the same loop (`fitMlp` → src/lib/ml/kit/loop.ts).
 *
 * Same inputs, outputs and semantics as `trainMlp`: per-epoch cosine LR, ActMix temperature and
 * entropy weight; shuffles from `rng.fork('shuffle')`; per-batch dropout seeds from
 * `rng.fork('dropout')` turned into the very masks `tf.dropout(x, rate, undefined, seed)` draws
 * (seedrandom's Alea, re-implemented: Mash seeding here, the generator in C); validation loss and
 * metrics after each epoch; early stopping and best-checkpoint restore (weights and T) into the
 * `Mlp`'s TF.js variables, so `model.toJSON()` writes the usual pipe-mlp/1 file.
 * Learning curves agree with the TF.js path within float32 tolerance (test/blas/trainer.test.ts).
 */
import type { Mlp, MlpSpec } from '../mlp.js';
import { actmixAlpha } from '../mlp.js';
import type { Tf } from '../optim.js';
import { DEFAULT_TRAIN, actmixSnapshot, evaluateOutputs, fitMlp, meanEntropy, mlpEval, type Dataset, type TrainOptions, type TrainResult } from '../trainer.js';
import type { Batch, Settings, TrainStep, Values } from '../kit/loop.js';
import type { Rng } from '../../../sdk/rng.js';
import { blasNative, type BlasNative } from './native.js';

const ACT_CODE: Record<MlpSpec['activation'], number> = {
  identity: 0, relu: 1, gelu: 2, prelu: 3, tanh: 4, sigmoid: 5, leaky_relu: 6, softplus: 7, sine: 8, actmix: 9,
};
const BASIS_CODE: Record<string, number> = { sin: 0, tanh: 1, relu: 2, identity: 3, sigmoid: 4, silu: 5 };

/** seedrandom's Alea state {s0, s1, s2, c} after seeding with String(seed) (as tf.randomUniform does). */
export function aleaState(seed: number | string, into = new Float64Array(4), at = 0): Float64Array {
  let n = 0xefc8249d;
  const mash = (data: string): number => {
    for (let i = 0; i < data.length; i++) {
      n += data.charCodeAt(i);
      let h = 0.02519603282416938 * n;
      n = h >>> 0;
      h -= n;
      h *= n;
      n = h >>> 0;
      h -= n;
      n += h * 0x100000000;
    }
    return (n >>> 0) * 2.3283064365386963e-10;
  };
  const s = String(seed);
  let s0 = mash(' '), s1 = mash(' '), s2 = mash(' ');
  s0 -= mash(s); if (s0 < 0) s0 += 1;
  s1 -= mash(s); if (s1 < 0) s1 += 1;
  s2 -= mash(s); if (s2 < 0) s2 += 1;
  into[at] = s0; into[at + 1] = s1; into[at + 2] = s2; into[at + 3] = 1;
  return into;
}

/** A native copy of an Mlp: parameters, AdamW state and buffers live in C. */
export class NativeMlp {
  readonly ctx: unknown;
  readonly np: number;
  readonly spec: MlpSpec;
  private freed = false;

  constructor(readonly api: BlasNative, spec: MlpSpec, task: 'classification' | 'regression' | 'bce', maxBatch: number) {
    this.spec = spec;
    const L = spec.hidden.length;
    const dims = Int32Array.from([spec.inputDim, ...spec.hidden, spec.outputDim]);
    const bases = Int32Array.from((spec.actmix?.bases ?? []).map((b) => BASIS_CODE[b]!));
    const act = ACT_CODE[spec.activation];
    if (act === undefined) throw new Error(`native trainer: unsupported activation '${spec.activation}'`);
    this.ctx = api.create(L, dims, act, bases.length, bases, spec.activation === 'actmix' ? spec.actmix!.omega_0 : (spec.omega0 ?? 1),
      spec.leakySlope ?? 0.01, spec.dropout, task === 'classification' ? 0 : task === 'regression' ? 1 : 2, maxBatch);
    if (!this.ctx) throw new Error('native trainer: out of memory');
    this.np = Number(api.numParams(this.ctx));
  }

  /** Copies the model's parameters (in `model.params` order, which is the native layout). */
  loadFrom(model: Mlp): void {
    const all = new Float32Array(this.np);
    let off = 0;
    for (const p of model.params) {
      const v = p.v.dataSync() as Float32Array;
      all.set(v, off);
      off += v.length;
    }
    if (off !== this.np) throw new Error(`native trainer: parameter count ${off} ≠ ${this.np}`);
    this.api.setParams(this.ctx, all);
  }

  params(): Float32Array {
    const all = new Float32Array(this.np);
    this.api.getParams(this.ctx, all);
    return all;
  }

  /** Writes the native parameters into the model's TF.js variables. */
  storeTo(tf: Tf, model: Mlp): void {
    const all = this.params();
    let off = 0;
    for (const p of model.params) {
      const size = p.v.size;
      tf.tidy(() => p.v.assign(tf.tensor(all.slice(off, off + size), p.v.shape, 'float32')));
      off += size;
    }
  }

  /** ActMix logits per hidden layer (views of a fresh copy of the parameters). */
  actmixLogits(all = this.params()): Float32Array[] {
    if (this.spec.activation !== 'actmix') return [];
    const K = this.spec.actmix!.bases.length;
    const dims = [this.spec.inputDim, ...this.spec.hidden, this.spec.outputDim];
    const out: Float32Array[] = [];
    let off = 0;
    for (let l = 0; l < dims.length - 1; l++) {
      off += dims[l]! * dims[l + 1]! + dims[l + 1]!;
      if (l < this.spec.hidden.length) {
        out.push(all.subarray(off, off + dims[l + 1]! * K));
        off += dims[l + 1]! * K;
      }
    }
    return out;
  }

  predict(X: Float32Array, n: number, T: number): Float32Array {
    const out = new Float32Array(n * this.spec.outputDim);
    if (n > 0) this.api.predict(this.ctx, X, n, T, out);
    return out;
  }

  free(): void {
    if (!this.freed) this.api.free(this.ctx);
    this.freed = true;
  }
}

/** Training targets as the native step reads them: class index, or the (scaled) regression target. */
function targets(ds: Dataset, opts: TrainOptions): Float32Array {
  if (opts.task === 'classification') return Float32Array.from(ds.y);
  const s = opts.targetScale ?? { mean: 0, std: 1 };
  return Float32Array.from(ds.y, (v) => (v - s.mean) / s.std);
}

/**
 * The native implementation of the MLP step: the data, parameters and AdamW state live in C;
 * `step` is one pbt_train_batch call; the checkpoint is the library's best-parameter slot
 * (one slot: a newer checkpoint replaces the older one).
 */
export class NativeMlpStep implements TrainStep<number> {
  readonly net: NativeMlp;
  private readonly api: BlasNative;
  private readonly dropoutRng: Rng;
  private readonly drop: Float64Array<ArrayBuffer>;
  private readonly losses = new Float64Array(3);
  private readonly out = { loss: 0, total_loss: 0 };
  private readonly L: number;
  private slot = 0;

  constructor(private model: Mlp, train: Dataset, private val: Dataset, private opts: TrainOptions) {
    const api = (this.api = blasNative());
    const cfg = { ...DEFAULT_TRAIN, ...opts.config };
    if (train.d !== model.spec.inputDim) throw new Error(`train has ${train.d} features, the model ${model.spec.inputDim}`);
    if (opts.task === 'classification' && model.spec.outputDim !== (opts.numClasses ?? 2)) throw new Error('model output size ≠ number of classes');
    this.dropoutRng = opts.rng.fork('dropout');
    this.L = model.spec.hidden.length;
    this.drop = new Float64Array(4 * Math.max(1, this.L));
    this.net = new NativeMlp(api, model.spec, opts.task, Math.max(cfg.batch_size, 512));
    try {
      this.net.loadFrom(model);
      api.setOpt(this.net.ctx, cfg.beta1, cfg.beta2, cfg.eps, cfg.weight_decay, cfg.grad_clip);
      const y = targets(train, opts);
      const rc = api.setData(this.net.ctx, train.X, train.n, train.d, y);
      if (rc === -3) {
        const i = Number(api.badIndex(this.net.ctx));
        throw new Error(`training data row ${i}: label ${y[i]} is not a class index 0…${(opts.numClasses ?? 2) - 1} (the native trainer checked every label before training)`);
      }
      if (rc !== 0) throw new Error(rc === -2 ? 'native trainer: out of memory storing the training data' : `native trainer: training data has ${train.d} features, the model expects another width`);
    } catch (e) {
      this.net.free();
      throw e;
    }
  }

  beginEpoch(_epoch: number, s: Settings): void {
    this.model.temperature = s.temperature!;
  }

  step(b: Batch, s: Settings): Values {
    const dropout = this.model.spec.dropout > 0;
    for (let l = 0; l < this.L; l++) {
      const seed = this.dropoutRng.int(0, 2 ** 31 - 2);
      if (dropout) aleaState(seed, this.drop, 4 * l);
    }
    const rc = this.api.trainBatch(this.net.ctx, b.perm, b.start, b.size, s.lr, s.temperature, s.entropy_weight, this.drop, this.losses);
    if (rc === -3) throw new Error(`native trainer: batch position ${Number(this.api.badIndex(this.net.ctx))} names a row outside the training data`);
    if (rc !== 0) throw new Error('native trainer: batch step failed (batch larger than the buffers, or no data)');
    this.out.loss = Math.fround(this.losses[0]!);
    this.out.total_loss = Math.fround(this.losses[1]!);
    return this.out;
  }

  evaluate(_epoch: number, s: Settings): Values {
    const T = s.temperature!;
    const ev = evaluateOutputs(this.net.predict(this.val.X, this.val.n, T), this.val, this.opts);
    const K = this.model.spec.actmix?.bases.length ?? 0;
    const layers = this.net.actmixLogits().map((lg) => {
      const F = lg.length / K;
      return { entropy: actmixAlpha(lg, F, K, T).entropy, F };
    });
    return mlpEval(ev, meanEntropy(layers));
  }

  snapshot(): Record<string, ArrayLike<number>> {
    return actmixSnapshot(this.model.temperature, this.net.actmixLogits());
  }

  checkpoint(): number {
    this.api.snapshot(this.net.ctx);
    return ++this.slot;
  }

  restore(c: number): void {
    if (c !== this.slot) throw new Error('native trainer: only the latest checkpoint can be restored');
    this.api.restore(this.net.ctx);
  }

  /** Resume: parameters, AdamW moments, the step counter, the best-parameter slot, the dropout stream. */
  state(): unknown {
    const np = this.net.np, api = this.api, ctx = this.net.ctx;
    const P = new Float32Array(np), M = new Float32Array(np), V = new Float32Array(np), best = new Float32Array(np);
    api.getParams(ctx, P);
    const t = Number(api.getState(ctx, M, V, best));
    return { P, M, V, best, t, slot: this.slot, dropout: this.dropoutRng.getState() };
  }

  setState(s: unknown): void {
    const v = s as { P: Float32Array; M: Float32Array; V: Float32Array; best: Float32Array; t: number; slot: number; dropout: import('../../../sdk/rng.js').RngState };
    if (v.P.length !== this.net.np) throw new Error(`resume state has ${v.P.length} parameters, the network ${this.net.np}`);
    this.api.setParams(this.net.ctx, v.P);
    this.api.setState(this.net.ctx, v.t, v.M, v.V, v.best);
    this.slot = v.slot;
    this.dropoutRng.setState(v.dropout);
  }

  free(): void {
    this.net.free();
  }
}

export async function trainMlpNative(tf: Tf, model: Mlp, train: Dataset, val: Dataset, opts: TrainOptions): Promise<TrainResult> {
  const step = new NativeMlpStep(model, train, val, opts);
  try {
    const res = await fitMlp(model, step, train.n, opts);
    step.net.storeTo(tf, model);
    return res;
  } finally {
    step.free();
  }
}
