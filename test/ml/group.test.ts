/**
 * Group composition (§D): roll and composition conventions on hand cases (1D, 2D), the staircase
 * on the test vectors of §D.6, templates' power and centring, both models' gradients against
 * central finite differences (both transforms, seq-to-one and seq-to-seq, both backends), the
 * per-neuron scaling factor against a hand computation, and initial loss = Var(τ) for a small init.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/sdk/rng.js';
import { batchOf, centre, compose, exhaustiveSeqs, fourier1d, fourier2d, onehot, powerSpectrum, rollInto, staircase, neuronFrequencies, type Group } from '../../src/lib/ml/group.js';
import { QuadraticRNN, SequentialMLP, elementOps, matmul, mseLoss, optimizerKernels, type GroupModel, type MatBackend } from '../../src/lib/ml/group-models.js';
import { Optimizer, hybrid, perNeuronSgd } from '../../src/lib/ml/kit/optimizers.js';
import { blasStatus } from '../../src/lib/ml/blas/native.js';

const backends: MatBackend[] = blasStatus().available || process.env.PIPE_REQUIRE_BLAS === '1' ? ['js', 'blas'] : ['js'];

describe('group action', () => {
  it('1D: (g·τ)[i] = τ[(i − g) mod p] (np.roll by +g); composition adds mod p', () => {
    const out = new Float64Array(5);
    rollInto([10, 11, 12, 13, 14], { dims: [5] }, 2, out, 0);
    expect(Array.from(out)).toEqual([13, 14, 10, 11, 12]); // np.roll([10..14], 2)
    expect(compose({ dims: [5] }, 3, 4)).toBe(2);
  });

  it('2D: rows shifted by g_x, columns by g_y; each coordinate composed mod its own modulus', () => {
    const g: Group = { dims: [2, 3] };
    const tau = [0, 1, 2, 3, 4, 5]; // [[0,1,2],[3,4,5]]
    const out = new Float64Array(6);
    rollInto(tau, g, 1 * 3 + 1, out, 0); // g = (1, 1): np.roll(np.roll(τ, 1, 0), 1, 1) = [[5,3,4],[2,0,1]]
    expect(Array.from(out)).toEqual([5, 3, 4, 2, 0, 1]);
    expect(compose(g, 1 * 3 + 2, 1 * 3 + 2)).toBe(0 * 3 + 1); // (1,2)+(1,2) = (0, 1)
  });

  it('the slice-copy roll of typed arrays equals the element-wise definition (1D and 2D, every element)', () => {
    for (const dims of [[7], [3, 4]]) {
      const g: Group = { dims };
      const n = dims.reduce((a, b) => a * b, 1);
      const tau = Float32Array.from({ length: n }, (_, i) => i * 1.5 - 2);
      for (let e = 0; e < n; e++) {
        const fast = new Float32Array(n), slow = new Float64Array(n);
        rollInto(tau, g, e, fast, 0);
        rollInto(Array.from(tau), g, e, slow, 0);
        expect(Array.from(fast)).toEqual(Array.from(slow));
      }
    }
  });

  it('a batch: inputs are the rolled templates, the target the roll by the composed element (seq-to-one and seq-to-seq)', () => {
    const g: Group = { dims: [4] };
    const tau = [1, 2, 3, 4];
    const b = batchOf(tau, g, Int32Array.from([1, 2, 3]), 1, 3, false);
    expect(Array.from(b.X)).toEqual([4, 1, 2, 3, 3, 4, 1, 2, 2, 3, 4, 1]);
    expect(Array.from(b.Y)).toEqual([3, 4, 1, 2]); // (1+2+3) mod 4 = 2
    const r = batchOf(tau, g, Int32Array.from([1, 2, 3, 0, 0, 1]), 2, 3, false, 'rows');
    expect(Array.from(r.X.subarray(0, 12))).toEqual([4, 1, 2, 3, 3, 4, 1, 2, 2, 3, 4, 1]); // sequence 0: [x₁; x₂; x₃]
    expect(Array.from(r.X.subarray(12, 16))).toEqual([1, 2, 3, 4]);
    const s = batchOf(tau, g, Int32Array.from([1, 2, 3]), 1, 3, true);
    expect(Array.from(s.Y)).toEqual([2, 3, 4, 1, 3, 4, 1, 2]); // after tokens 2 (g=3) and 3 (g=2)
    expect(exhaustiveSeqs({ dims: [3] }, 2).slice(0, 8)).toEqual(Int32Array.from([0, 0, 1, 0, 2, 0, 0, 1]));
    expect(() => exhaustiveSeqs({ dims: [101] }, 3)).toThrow(/more than 10⁶/);
  });
});

describe('staircase (§D.6)', () => {
  it('p = 10, τ = 3cos(2πi/10) + cos(6πi/10): powers (45, 5), levels (5.0, 0.5, 0)', () => {
    const tau = Float64Array.from({ length: 10 }, (_, i) => 3 * Math.cos((2 * Math.PI * i) / 10) + Math.cos((6 * Math.PI * i) / 10));
    const s = staircase(tau, { dims: [10] });
    expect(s.powers.map((b) => b.power)).toEqual([expect.closeTo(45, 9), expect.closeTo(5, 9)]);
    expect(s.powers.map((b) => b.freq)).toEqual([[1], [3]]);
    expect(s.levels).toEqual([expect.closeTo(5, 9), expect.closeTo(0.5, 9), expect.closeTo(0, 9)]);
  });

  it('centred one-hot: p = 5 → (0.4, 0.4), levels (0.16, 0.08, 0); p = 10 → Nyquist 0.1, levels (0.09 … 0.01, 0)', () => {
    const s5 = staircase(centre(onehot(5)), { dims: [5] });
    expect(s5.powers.map((b) => b.power)).toEqual([expect.closeTo(0.4, 9), expect.closeTo(0.4, 9)]);
    expect(s5.levels).toEqual([0.16, 0.08, 0].map((x) => expect.closeTo(x, 9)));
    const s10 = staircase(centre(onehot(10)), { dims: [10] });
    expect(s10.powers.map((b) => b.power)).toEqual([0.2, 0.2, 0.2, 0.2, 0.1].map((x) => expect.closeTo(x, 9)));
    expect(s10.levels).toEqual([0.09, 0.07, 0.05, 0.03, 0.01, 0].map((x) => expect.closeTo(x, 9)));
  });

  it('Parseval in 2D: the powers sum to ‖τ‖²; a 2D fourier template has exactly its n_freqs modes; L₀ = Var(τ)', () => {
    const { tau, freqs } = fourier2d(6, 6, 3, new Rng(1));
    const ps = powerSpectrum(tau, { dims: [6, 6] });
    const norm2 = tau.reduce((a, b) => a + b * b, 0);
    expect(ps.reduce((a, b) => a + b.power, 0)).toBeCloseTo(norm2, 9);
    const s = staircase(tau, { dims: [6, 6] });
    expect(s.powers).toHaveLength(3);
    expect(freqs).toHaveLength(3);
    expect(s.levels[0]).toBeCloseTo(1, 9); // standardised: Var = 1
    const f1 = fourier1d(20, 3, new Rng(2));
    const s1 = staircase(f1.tau, { dims: [20] });
    expect(s1.powers.map((b) => b.freq[0]).sort()).toEqual([...f1.freqs].sort());
    // amplitudes √linspace(100, 10, 3): powers ∝ 100, 55, 10
    expect(s1.powers[0]!.power / s1.powers[2]!.power).toBeCloseTo(10, 6);
  });

  it('neuron → frequency: a weight vector that is a pure mode is assigned that mode', () => {
    const g: Group = { dims: [12] };
    const v = Float64Array.from({ length: 24 }, (_, j) => (j < 12 ? Math.cos((2 * Math.PI * 2 * j) / 12) : Math.sin((2 * Math.PI * 5 * (j - 12)) / 12)));
    const r = neuronFrequencies(v, 2, g, [[2], [5], [1]]);
    expect(Array.from(r.assigned)).toEqual([0, 1]);
  });
});

function fdCheck(model: GroupModel, X: Float32Array, Y: Float32Array, B: number): void {
  const dY = new Float32Array(Y.length);
  mseLoss(model.forward(X, B), Y, dY);
  model.backward(dY, B);
  const loss = () => mseLoss(model.forward(X, B), Y);
  for (const p of model.params) {
    const g = Float64Array.from(p.grad);
    for (let k = 0; k < p.value.length; k += Math.max(1, Math.floor(p.value.length / 25))) {
      // 4th-order central differences (Richardson): a larger step keeps float32 rounding of the loss small
      const v0 = p.value[k]!, h = Math.fround(1e-2 * Math.max(0.1, Math.abs(v0)));
      const at = (x: number) => { p.value[k] = x; return loss(); };
      const fd = (8 * (at(v0 + h) - at(v0 - h)) - (at(v0 + 2 * h) - at(v0 - 2 * h))) / (12 * h);
      p.value[k] = v0;
      expect(Math.abs(fd - g[k]!), `${p.name}[${k}] fd ${fd} vs ${g[k]}`).toBeLessThan(1e-3 * Math.max(1, Math.abs(fd)) + 1e-5);
    }
  }
}

describe('gradients vs finite differences', () => {
  const g: Group = { dims: [6] };
  const tau = Float64Array.from({ length: 6 }, (_, i) => Math.cos((2 * Math.PI * i) / 6) + 0.5 * Math.sin((4 * Math.PI * i) / 6));
  for (const be of backends) {
    for (const transform of ['quadratic', 'multiplicative'] as const) {
      for (const seqToSeq of [false, true]) {
        // k = 3: h₃ is degree 4 in W_in, small enough for float32 central differences (k = 4's degree 8 drowns them in rounding)
        it(`QuadraticRNN, ${transform}, ${seqToSeq ? 'seq-to-seq' : 'seq-to-one'}, k = 3 (${be})`, () => {
          const rng = new Rng(3);
          // init scale 0.5: the loss is degree 8 in W_in; at scale 1 a typical draw gives losses ~1e4 whose
          // float32 rounding swamps the central differences (the old unmixed seeding drew near-zero weights)
          const m = new QuadraticRNN(6, 5, 3, { initScale: 0.5, transform, seqToSeq, rng, mm: matmul(be), ops: elementOps(be) });
          const seqs = Int32Array.from({ length: 7 * 3 }, () => rng.int(0, 5));
          const b = batchOf(tau, g, seqs, 7, 3, seqToSeq);
          fdCheck(m, b.X, b.Y, 7);
        });
      }
    }
    it(`SequentialMLP, k = 3 (${be})`, () => {
      const rng = new Rng(4);
      const m = new SequentialMLP(6, 5, 3, { initScale: 1, rng, mm: matmul(be), ops: elementOps(be) });
      const seqs = Int32Array.from({ length: 7 * 3 }, () => rng.int(0, 5));
      const b = batchOf(tau, g, seqs, 7, 3, false, m.layout);
      fdCheck(m, b.X, b.Y, 7);
    });
  }
});

describe('per-neuron scaled SGD and the initial loss', () => {
  it('factor ‖θ_i‖^(2 − degree) with ‖θ_i‖² = ‖W_in[i,:]‖² + ‖W_out[:,i]‖² + 1e-12 (SequentialMLP, degree k + 1) — by hand', () => {
    const m = new SequentialMLP(2, 2, 2, { initScale: 1, rng: new Rng(1), mm: matmul('js') });
    const Win = m.get('W_in'), Wout = m.get('W_out');
    Win.value.set([1, 2, 0, 0, 0, 0, 3, 0]); // d × kn = 2 × 4
    Wout.value.set([1, 0, 2, 4]);             // n × d = 2 × 2: column 0 = (1, 2), column 1 = (0, 4)
    Win.grad.fill(1); Wout.grad.fill(1);
    const opt = new Optimizer(perNeuronSgd({ wIn: Win, wOut: Wout, lr: 0.1, degree: m.degree }));
    const before = Float64Array.from(Win.value), beforeO = Float64Array.from(Wout.value);
    opt.step();
    const n0 = Math.sqrt(1 + 4 + 1 + 4 + 1e-12), n1 = Math.sqrt(9 + 16 + 1e-12); // neuron 0: row 0 + column 0; neuron 1
    const f0 = n0 ** (2 - 3), f1 = n1 ** (2 - 3);
    expect(Win.value[0]).toBeCloseTo(before[0]! - 0.1 * f0, 6);
    expect(Win.value[6]).toBeCloseTo(before[6]! - 0.1 * f1, 6);
    expect(Wout.value[0]).toBeCloseTo(beforeO[0]! - 0.1 * f0, 6); // W_out[0, 0] belongs to neuron 0
    expect(Wout.value[3]).toBeCloseTo(beforeO[3]! - 0.1 * f1, 6); // W_out[1, 1] to neuron 1
  });

  it('with a small init the initial loss is Var(τ) = L₀ (the model predicts ≈ 0)', () => {
    const g: Group = { dims: [10] };
    const { tau } = fourier1d(10, 2, new Rng(5));
    const rng = new Rng(6);
    for (const m of [new QuadraticRNN(10, 20, 3, { initScale: 1e-2, transform: 'quadratic', seqToSeq: false, rng, mm: matmul('js') }), new SequentialMLP(10, 20, 3, { initScale: 1e-2, rng, mm: matmul('js') })]) {
      const seqs = Int32Array.from({ length: 500 * 3 }, () => rng.int(0, 9));
      const b = batchOf(tau, g, seqs, 500, 3, false, m.layout);
      const L0 = staircase(tau, g).levels[0]!;
      expect(mseLoss(m.forward(b.X, 500), b.Y)).toBeCloseTo(L0, 4);
    }
  });
});

describe('fused native passes (blas) are bit-identical to the JS loops', () => {
  const native = backends.includes('blas');
  const same = (a: Float32Array | Float64Array, b: Float32Array | Float64Array) => expect(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))).toBe(true);

  it.runIf(native)('SequentialMLP k = 2, 3, 4: forward ŷ, loss, dY and both gradients (z^k, k·z^(k−1) fused; MSE native)', () => {
    const g: Group = { dims: [8] };
    const { tau } = fourier1d(8, 2, new Rng(2));
    for (const k of [2, 3, 4]) {
      const [js, bl] = (['js', 'blas'] as const).map((be) => new SequentialMLP(8, 16, k, { initScale: 1, rng: new Rng(9), mm: matmul('js'), ops: elementOps(be) }));
      const seqs = Int32Array.from({ length: 33 * k }, (_, i) => (i * 5 + 3) % 8);
      const b = batchOf(tau, g, seqs, 33, k, false, 'rows');
      const out = [js!, bl!].map((m, i) => {
        const ops = elementOps(i === 0 ? 'js' : 'blas');
        const yhat = m.forward(b.X, 33).slice();
        const dY = new Float32Array(b.Y.length);
        const loss = ops.mse(yhat, b.Y, dY);
        m.backward(dY, 33);
        return { yhat, loss, dY, gIn: m.get('W_in').grad, gOut: m.get('W_out').grad };
      });
      same(out[0]!.yhat, out[1]!.yhat);
      expect(out[1]!.loss).toBe(out[0]!.loss);
      expect(out[0]!.loss).toBe(mseLoss(out[0]!.yhat, b.Y));
      same(out[0]!.dY, out[1]!.dY);
      same(out[0]!.gIn, out[1]!.gIn);
      same(out[0]!.gOut, out[1]!.gOut);
      // and the JS pass is z^k itself: ŷ = W_out z^k from the definition, in float64
      const Win = js!.get('W_in').value, Wout = js!.get('W_out').value;
      for (const r of [0, 17, 32]) for (const o of [0, 5]) {
        let y = 0;
        for (let j = 0; j < 16; j++) {
          let z = 0;
          for (let c = 0; c < k * 8; c++) z += Win[j * k * 8 + c]! * b.X[r * k * 8 + c]!;
          y += Wout[o * 16 + j]! * z ** k;
        }
        expect(out[0]!.yhat[r * 8 + o]).toBeCloseTo(y, 4);
      }
    }
  });

  it.runIf(native)('the optimizer with native kernels: per_neuron (clipped and not) and hybrid give the same bits as without', () => {
    const rng = new Rng(12);
    const mk = (shape: [number, number]) => { const v = Float32Array.from({ length: shape[0] * shape[1] }, () => rng.normal()); return v; };
    const shapes: Record<string, [number, number]> = { W_in: [7, 12], W_drive: [7, 4], W_out: [4, 7], W_mix: [7, 7] };
    const init = Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, mk(s)]));
    const grads = Array.from({ length: 4 }, () => Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, mk(s).map((x) => x * 0.3)])));
    for (const [label, clip] of [['per_neuron, clipped', 0.1], ['per_neuron, clip inactive', 1e6], ['per_neuron, no clip', 0], ['hybrid, clipped', 0.1]] as const) {
      const runs = [undefined, optimizerKernels('blas')].map((kernels) => {
        const P = Object.fromEntries(Object.entries(shapes).map(([k, s]) => { const p = { name: k, value: init[k]!.slice(), grad: new Float32Array(s[0] * s[1]), shape: s }; return [k, p]; }));
        const groups = label.startsWith('hybrid')
          ? hybrid({ wIn: P.W_in!, wDrive: P.W_drive!, wOut: P.W_out!, wMix: P.W_mix!, scalingFactor: -3 })
          : perNeuronSgd({ wIn: P.W_in!, wOut: P.W_out!, lr: 0.7, degree: 4 });
        const opt = new Optimizer(groups, { clipNorm: clip, kernels });
        const used = opt.params;
        for (const gr of grads) { for (const p of used) p.grad.set(gr[p.name]!); opt.step(1e-2); }
        return { used, norm: opt.lastGradNorm };
      });
      expect(runs[1]!.norm, label).toBe(runs[0]!.norm);
      runs[0]!.used.forEach((p, i) => { same(p.value, runs[1]!.used[i]!.value); same(p.grad, runs[1]!.used[i]!.grad); });
      // and the step moved the parameters
      expect(runs[0]!.used[0]!.value).not.toEqual(init.W_in);
    }
  });
});
