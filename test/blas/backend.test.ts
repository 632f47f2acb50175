/**
 * The `blas` TF.js backend agrees with TF.js's cpu backend op by op — forward values and
 * gradients on random inputs — including the shapes that take the native paths (sgemm, row
 * broadcasts, contiguous-axis sums) and the ones that fall back to the cpu kernels.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import type * as TF from '@tensorflow/tfjs';
import { loadTf } from '../../src/lib/ml/backend.js';
import { blasStatus } from '../../src/lib/ml/blas/native.js';
import { registerBlasBackend, BLAS_BACKEND } from '../../src/lib/ml/blas/backend.js';
import { Mlp, ACTMIX_PRESETS } from '../../src/lib/ml/mlp.js';
import type { Tf } from '../../src/lib/ml/optim.js';
import { Rng } from '../../src/sdk/rng.js';

const status = blasStatus();
if (!status.available) console.warn(`test/blas/backend: SKIPPED, the native blas library is unavailable: ${status.reason}`);

describe.skipIf(!status.available)('blas TF.js backend vs cpu', () => {
  let tf: Tf;
  const rng = new Rng(42);
  const rand = (shape: number[]) => ({ shape, v: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()) });

  beforeAll(async () => {
    tf = (await loadTf('cpu')).tf;
    registerBlasBackend(tf);
  });

  /** values of fn(inputs…) and of its gradients w.r.t. all inputs, on one backend */
  function on(backend: string, inputs: { shape: number[]; v: Float32Array }[], fn: (...xs: TF.Tensor[]) => TF.Tensor, grads = true): Float32Array[] {
    tf.setBackend(backend);
    return tf.tidy(() => {
      const xs = inputs.map((i) => tf.tensor(i.v, i.shape, 'float32'));
      const y = fn(...xs);
      const out = [y.dataSync() as Float32Array];
      if (grads) {
        const dy = tf.tensor(Float32Array.from({ length: y.size }, (_, i) => Math.sin(i + 1)), y.shape);
        const g = tf.grads((...a: TF.Tensor[]) => fn(...a))(xs, dy);
        for (const t of g) out.push(t.dataSync() as Float32Array);
      }
      return out.map((a) => Float32Array.from(a));
    });
  }

  function agree(name: string, inputs: { shape: number[]; v: Float32Array }[], fn: (...xs: TF.Tensor[]) => TF.Tensor, opts: { grads?: boolean; tol?: number } = {}): void {
    const a = on('cpu', inputs, fn, opts.grads ?? true);
    const b = on(BLAS_BACKEND, inputs, fn, opts.grads ?? true);
    expect(b.length, name).toBe(a.length);
    const tol = opts.tol ?? 2e-5;
    a.forEach((x, i) => {
      expect(b[i]!.length, `${name} #${i} size`).toBe(x.length);
      let worst = 0;
      for (let j = 0; j < x.length; j++) worst = Math.max(worst, Math.abs(x[j]! - b[i]![j]!) / Math.max(1, Math.abs(x[j]!)));
      expect(worst, `${name} output/grad #${i}`).toBeLessThanOrEqual(tol);
    });
  }

  it('is a registered backend with native kernels in place of the cpu ones', () => {
    expect(tf.engine().registryFactory[BLAS_BACKEND]).toBeDefined();
    for (const k of ['BatchMatMul', '_FusedMatMul', 'Add', 'Multiply', 'Sum', 'Relu', 'Transpose', 'GatherV2']) {
      expect(tf.getKernel(k, BLAS_BACKEND)?.kernelFunc, k).toBeDefined();
      expect(tf.getKernel(k, BLAS_BACKEND)!.kernelFunc, k).not.toBe(tf.getKernel(k, 'cpu')!.kernelFunc);
    }
    // every cpu kernel exists for blas
    expect(tf.getKernelsForBackend(BLAS_BACKEND).length).toBe(tf.getKernelsForBackend('cpu').length);
    tf.setBackend(BLAS_BACKEND);
    const y = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]]));
    expect(Array.from(y.dataSync())).toEqual([19, 22, 43, 50]);
    y.dispose();
    tf.setBackend('cpu');
  });

  it('matMul: all transposes, batched, broadcast batch, empty', () => {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const A = rand(ta ? [37, 13] : [13, 37]), B = rand(tb ? [29, 37] : [37, 29]);
      agree(`matMul ${ta} ${tb}`, [A, B], (a, b) => tf.matMul(a as TF.Tensor2D, b as TF.Tensor2D, ta, tb));
    }
    agree('batched', [rand([3, 5, 7]), rand([3, 7, 4])], (a, b) => tf.matMul(a as TF.Tensor3D, b as TF.Tensor3D));
    // (TF.js's BatchMatMul gradient does not reduce broadcast batches on any backend: forward only)
    agree('broadcast batch', [rand([1, 5, 7]), rand([3, 7, 4])], (a, b) => tf.matMul(a as TF.Tensor3D, b as TF.Tensor3D), { grads: false });
    agree('rank 4', [rand([2, 3, 4, 6]), rand([2, 3, 5, 6])], (a, b) => tf.matMul(a as TF.Tensor4D, b as TF.Tensor4D, false, true));
    agree('K = 0', [rand([3, 0]), rand([0, 4])], (a, b) => tf.matMul(a as TF.Tensor2D, b as TF.Tensor2D), { grads: false });
    agree('large', [rand([256, 108]), rand([108, 256])], (a, b) => tf.matMul(a as TF.Tensor2D, b as TF.Tensor2D), { tol: 1e-4 });
  });

  it('fused matMul with bias and activations', () => {
    for (const activation of ['linear', 'relu', 'relu6', 'leakyrelu', 'sigmoid', 'elu', 'prelu'] as const) {
      const inputs = [rand([9, 11]), rand([11, 6]), rand([6]), ...(activation === 'prelu' ? [rand([6])] : [])];
      agree(`fused ${activation}`, inputs, (a, b, bias, pw) => tf.fused.matMul({ a: a as TF.Tensor2D, b: b as TF.Tensor2D, bias, activation, preluActivationWeights: pw, leakyreluAlpha: 0.1 }),
        { grads: activation === 'linear' || activation === 'relu' });
    }
    agree('fused full bias', [rand([4, 5]), rand([5, 3]), rand([4, 3])], (a, b, bias) => tf.fused.matMul({ a: a as TF.Tensor2D, b: b as TF.Tensor2D, bias }), { grads: false });
    agree('fused column bias (cpu fallback)', [rand([4, 5]), rand([5, 3]), rand([4, 1])], (a, b, bias) => tf.fused.matMul({ a: a as TF.Tensor2D, b: b as TF.Tensor2D, bias }), { grads: false });
  });

  it('binary ops: same shape, row broadcast, scalar, general broadcast (fallback)', () => {
    const ops: [string, (a: TF.Tensor, b: TF.Tensor) => TF.Tensor][] = [
      ['add', tf.add], ['sub', tf.sub], ['mul', tf.mul], ['div', tf.div],
      ['squaredDifference', tf.squaredDifference], ['maximum', tf.maximum], ['minimum', tf.minimum],
    ];
    const shapes: [number[], number[]][] = [[[6, 7], [6, 7]], [[6, 7], [7]], [[7], [6, 7]], [[6, 7], []], [[], [6, 7]], [[6, 7], [1, 7]], [[6, 1], [1, 7]], [[2, 3, 4], [3, 4]]];
    for (const [name, op] of ops) {
      // (TF.js's SquaredDifference gradient does not reduce broadcasts on any backend)
      for (const [sa, sb] of shapes) {
        const grads = name === 'squaredDifference' ? sa.join() === sb.join() : name !== 'maximum' && name !== 'minimum';
        agree(`${name} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`, [rand(sa), rand(sb)], op, { grads });
      }
    }
  });

  it('unary ops and sums', () => {
    const x = rand([5, 8]);
    agree('relu', [x], (a) => tf.relu(a));
    agree('relu6', [x], (a) => tf.relu6(tf.mul(a, 4)));
    agree('square', [x], (a) => tf.square(a));
    agree('neg', [x], (a) => tf.neg(a));
    agree('abs', [x], (a) => tf.abs(a));
    agree('sqrt', [x], (a) => tf.sqrt(tf.add(tf.abs(a), 0.1)));
    agree('step', [x], (a) => tf.step(a), { grads: false });
    agree('leaky step (fallback)', [x], (a) => tf.step(a, 0.3), { grads: false });
    const y = rand([3, 4, 5]);
    for (const axis of [undefined, 0, 1, 2, -1, [0, 1], [1, 2], [0, 2]] as (number | number[] | undefined)[]) {
      for (const keep of [false, true]) agree(`sum ${JSON.stringify(axis)} ${keep}`, [y], (a) => tf.sum(a, axis, keep));
    }
    agree('mean', [y], (a) => tf.mean(a, 0));
    agree('transpose 2d', [rand([37, 70])], (a) => tf.transpose(a));
    agree('transpose 3d (fallback)', [rand([3, 4, 5])], (a) => tf.transpose(a, [2, 0, 1]));
    const idx = [4, 0, 4, 2, 1];
    agree('gather rows', [rand([6, 7])], (a) => tf.gather(a, tf.tensor1d(idx, 'int32')));
    agree('gather rows 3d, 2-d indices', [rand([6, 2, 3])], (a) => tf.gather(a, tf.tensor2d([[1, 5], [0, 0]], [2, 2], 'int32')), { grads: false });
    agree('gather axis 1 (fallback)', [rand([6, 7])], (a) => tf.gather(a, tf.tensor1d([6, 1], 'int32'), 1));
  });

  it('the Mlp forward pass and its gradients (relu, actmix) agree', () => {
    for (const activation of ['relu', 'actmix'] as const) {
      const grads: Record<string, Float32Array[]> = {};
      const xv = rand([10, 12]).v;
      for (const be of ['cpu', BLAS_BACKEND]) {
        tf.setBackend(be);
        const m = Mlp.create(tf, { inputDim: 12, outputDim: 3, hidden: [16, 8], dropout: 0.2, activation, actmix: ACTMIX_PRESETS['actmix-paper'] }, new Rng(3));
        const x = tf.tensor2d(xv, [10, 12]);
        const res = tf.tidy(() => {
          const { value, grads: g } = tf.variableGrads(() => {
            const { out, entropy } = m.forward(x, { training: true, temperature: 0.7, dropoutSeeds: [11, 12] });
            return tf.add(tf.sum(tf.square(out)), entropy ? tf.mul(entropy, 0.1) : 0) as TF.Scalar;
          }, m.variables);
          return [value.dataSync() as Float32Array, ...m.variables.map((v) => g[v.name]!.dataSync() as Float32Array)].map((a) => Float32Array.from(a));
        });
        grads[be] = res;
        x.dispose(); m.dispose();
      }
      grads.cpu!.forEach((a, i) => {
        for (let j = 0; j < a.length; j++) expect(Math.abs(a[j]! - grads[BLAS_BACKEND]![i]![j]!) / Math.max(1, Math.abs(a[j]!)), `${activation} #${i}`).toBeLessThan(1e-4);
      });
    }
    tf.setBackend('cpu');
  });
});
