/**
 * `generate-group`: the task of the group-composition seed (§D.1, §D.2) — a template on C_p or
 * C_p1 × C_p2, the sequence length k, and (offline mode) the fixed sequences.
 *
 *   task:
 *     kind: generate-group
 *     inputs: { mnist: mnist.train }                    # only for template: mnist
 *     params: { p: 100, k: 3, template: fourier, n_freqs: 5, mode: online }
 *     params: { p: [10, 10], k: 3, template: mnist, mnist_label: 4 }     # 2D: C_10 × C_10
 *
 * Templates: fourier (1D: n_freqs distinct frequencies of 1..⌊p/2⌋; 2D: the "unique freqs"
 * rule), gaussian (1D), mnist (a random training image of `mnist_label`: 1D row-mean projection
 * resampled by cubic interpolation, 2D bilinear resize), onehot; mean-centred at the end.
 * Offline: `exhaustive` (all |G|^k sequences, refused above 10⁶) or `sampled` (`num_samples`),
 * plus max(1000, num_samples/10) validation sequences; online: the trainer draws fresh batches.
 *
 * Outputs: `task` (JSON: group, k, template τ, its power spectrum and AGF plateau levels, mode),
 * `sequences` (table: `seq` (k element indices), `split` train/val; 0 rows online), `template`
 * (table for plots: position (and row/col), value).
 */
import type { FromSchema } from 'json-schema-to-ts';
import { defineStage } from '../sdk/stage.js';

export const groupTaskSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    p: { anyOf: [{ type: 'integer', minimum: 2 }, { type: 'array', items: { type: 'integer', minimum: 2 }, minItems: 2, maxItems: 2 }], default: 10, description: 'C_p (an integer) or C_p1 × C_p2 ([p1, p2])' },
    k: { type: 'integer', minimum: 2, default: 2, description: 'sequence length' },
    template: { enum: ['fourier', 'gaussian', 'mnist', 'onehot'], default: 'fourier' },
    n_freqs: { type: 'integer', minimum: 1, default: 1 },
    mnist_label: { type: 'integer', minimum: 0, maximum: 9, default: 4 },
    template_seed: { type: 'integer', description: 'seed of the template draw (default: the stage seed)' },
    mode: { enum: ['online', 'exhaustive', 'sampled'], default: 'online' },
    num_samples: { type: 'integer', minimum: 1, default: 50000 },
    seq_to_seq: { type: 'boolean', default: false, description: 'targets after every token 2..k (QuadraticRNN only)' },
  },
} as const;

export type GroupTaskParams = FromSchema<typeof groupTaskSchema>;

export interface GroupTask {
  format: 'pipe-group-task/1';
  dims: number[];
  k: number;
  template: string;
  tau: number[];
  /** The template's power per frequency pair, descending, and the AGF plateau levels L₀ … 0. */
  powers: { freq: number[]; power: number }[];
  levels: number[];
  mode: 'online' | 'exhaustive' | 'sampled';
  seq_to_seq: boolean;
  train_sequences: number;
  val_sequences: number;
}

export default defineStage<GroupTaskParams>({
  kind: 'generate-group',
  version: '1',
  description: 'Group-composition task (C_p or C_p1×C_p2): template, AGF staircase, offline sequences (§D)',
  paramsSchema: groupTaskSchema,
  inputs: { mnist: { type: 'table', optional: true, description: 'download-mnist train table (template: mnist)' } },
  outputs: {
    task: { type: 'json', description: 'group, k, centred template, power spectrum, plateau levels' },
    sequences: { type: 'table', description: 'offline sequences: seq (k element indices), split' },
    template: { type: 'table', description: 'the template for plots: position (1D) or row/col (2D), value' },
  },
  async run(ctx) {
    const p = ctx.params;
    const G = await import('../lib/ml/group.js');
    const { Rng } = await import('../sdk/rng.js');
    const { readTable, writeTable, makeTable, fixedListVector, stringVector, numericVector } = await import('../sdk/table.js');
    const dims = Array.isArray(p.p) ? [...p.p] : [p.p];
    const g = { dims };
    const n = G.groupOrder(g);
    const rng = new Rng(p.template_seed ?? ctx.seed).fork('template');
    let tau: Float64Array;
    if (p.template === 'fourier') tau = dims.length === 1 ? G.fourier1d(dims[0]!, p.n_freqs, rng).tau : G.fourier2d(dims[0]!, dims[1]!, p.n_freqs, rng).tau;
    else if (p.template === 'gaussian') {
      if (dims.length !== 1) throw new Error('template gaussian is 1D only (as in the seed)');
      tau = G.gaussian1d(dims[0]!, rng);
    } else if (p.template === 'onehot') tau = G.onehot(n);
    else {
      if (!ctx.has('mnist')) throw new Error("template mnist needs the 'mnist' input (a download-mnist train table)");
      const t = await readTable(ctx.input('mnist').path);
      const labels = t.getChild('label')!.toArray() as ArrayLike<number>;
      const idx: number[] = [];
      for (let i = 0; i < labels.length; i++) if (Number(labels[i]) === p.mnist_label) idx.push(i);
      if (!idx.length) throw new Error(`no MNIST image of digit ${p.mnist_label}`);
      const pick = idx[rng.int(0, idx.length - 1)]!;
      const img = t.getChild('image')!.get(pick)!.toArray() as ArrayLike<number>;
      const scale = Array.from(img).some((v) => v > 1) ? 1 / 255 : 1;
      const px = Float64Array.from(img, (v) => v * scale);
      tau = dims.length === 1 ? G.mnist1d(px, dims[0]!) : G.mnist2d(px, dims[0]!, dims[1]!);
      ctx.log.info(`mnist template: training image ${pick} (digit ${p.mnist_label})`);
    }
    tau = G.centre(tau);
    const st = G.staircase(tau, g);

    let train: Int32Array = new Int32Array(0), val: Int32Array = new Int32Array(0);
    if (p.mode !== 'online') {
      const srng = new Rng(ctx.seed).fork('sequences');
      train = p.mode === 'exhaustive' ? G.exhaustiveSeqs(g, p.k) : G.randomSeqs(srng, g, p.num_samples, p.k);
      const nTrain = train.length / p.k;
      val = G.randomSeqs(srng.fork('val'), g, Math.max(1000, Math.floor(nTrain / 10)), p.k);
    }
    const nT = train.length / p.k, nV = val.length / p.k;
    const all = new Float32Array(train.length + val.length);
    all.set(train); all.set(val, train.length);
    await writeTable(ctx.output('sequences').path, makeTable({ seq: fixedListVector(all, p.k), split: stringVector([...Array(nT).fill('train'), ...Array(nV).fill('val')]) }, { group: dims, k: p.k }));
    const tcols: Record<string, ReturnType<typeof numericVector>> = dims.length === 1
      ? { position: numericVector('int32', Array.from({ length: n }, (_, i) => i)), value: numericVector('float64', tau) }
      : { row: numericVector('int32', Array.from({ length: n }, (_, i) => Math.floor(i / dims[1]!))), col: numericVector('int32', Array.from({ length: n }, (_, i) => i % dims[1]!)), value: numericVector('float64', tau) };
    await writeTable(ctx.output('template').path, makeTable(tcols));
    const task: GroupTask = {
      format: 'pipe-group-task/1', dims, k: p.k, template: p.template, tau: Array.from(tau),
      powers: st.powers, levels: st.levels, mode: p.mode, seq_to_seq: p.seq_to_seq, train_sequences: nT, val_sequences: nV,
    };
    await ctx.output('task').writeJSON(task);
    ctx.log.info(`C_${dims.join('×C_')}, k = ${p.k}, ${p.template}: ${st.powers.length} modes, plateau levels ${st.levels.map((l) => l.toPrecision(3)).join(' → ')}`);
    return { metrics: { modes: st.powers.length, L0: st.levels[0]!, train_sequences: nT, val_sequences: nV } };
  },
});
