/**
 * TF.js variables as host `Param`s for the kit's `Optimizer` (parameter groups, per-neuron
 * rules, EMA momentum … that optim.ts's on-device AdamW does not have): `params[i]` mirrors
 * `variables[i]` (float32 values); `setGrads` copies gradients from tensors, `push` writes the
 * updated values back. One device↔host round trip per step — meant for the small models of
 * §B/§D, not for the tabular MLP (which keeps its on-device AdamW / native step).
 *
 *   const tp = new TfParams(tf, [W_in, W_drive, W_out, W_mix]);
 *   const opt = new Optimizer(hybrid({ wIn: tp.params[0], …, scalingFactor: -3 }), { clipNorm: 0.1 });
 *   // per step: const { grads } = tf.variableGrads(loss); tp.setGrads(vars.map((v) => grads[v.name])); opt.step(lr); tp.push();
 */
import type * as TF from '@tensorflow/tfjs';
import type { Param } from './optimizers.js';

export class TfParams {
  readonly params: Param[];
  constructor(private tf: typeof TF, readonly variables: TF.Variable[]) {
    this.params = variables.map((v) => {
      const value = Float32Array.from(v.dataSync() as Float32Array);
      return { name: v.name, value, grad: new Float32Array(value.length), shape: v.shape.slice() };
    });
  }
  /** Host gradients from `grads[i]` (of `variables[i]`). Does not dispose them. */
  setGrads(grads: TF.Tensor[]): void {
    grads.forEach((g, i) => this.params[i]!.grad.set(g.dataSync() as Float32Array));
  }
  /** Writes the host values into the variables. */
  push(): void {
    const tf = this.tf;
    this.params.forEach((p, i) => tf.tidy(() => this.variables[i]!.assign(tf.tensor(p.value as Float32Array, p.shape as number[], 'float32'))));
  }
  /** Re-reads the variables (after something else changed them). */
  pull(): void {
    this.params.forEach((p, i) => p.value.set(this.variables[i]!.dataSync() as Float32Array));
  }
}
