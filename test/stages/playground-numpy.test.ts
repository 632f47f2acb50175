/**
 * fit-neuron with `init: {stream: seed-order, rng: numpy}` (the pipeline's default) lands on the
 * §C.4 cells through the stage itself; `rng: pipe` draws other numbers (relu starts elsewhere).
 */
import { describe, it, expect } from 'vitest';
import { readFile } from 'node:fs/promises';
import { runStageDirect } from '../../src/engine/exec/context.js';
import gen from '../../src/stages/generate-synthetic.js';
import fitNeuron from '../../src/stages/fit-neuron.js';

async function cell(polynomial: string, activation: string, rng: 'numpy' | 'pipe'): Promise<number> {
  const data = (await runStageDirect(gen, { params: { generator: 'playground', polynomial } })).outputs.table!;
  const r = await runStageDirect(fitNeuron, {
    inputs: { data }, matrix: { polynomial, activation },
    params: { model: { type: 'neuron', activation }, init: { stream: 'seed-order', rng }, optimum: { enabled: false } },
  });
  return (JSON.parse(await readFile(r.outputs.metrics!, 'utf8')) as { best_mse: number }).best_mse;
}

describe('fit-neuron rng: numpy', () => {
  it('cubic_s/relu, linear_pos/relu and cubic_neg/sigmoid equal the §C.4 table at 4 dp', async () => {
    expect((await cell('cubic_s', 'relu', 'numpy')).toFixed(4)).toBe('1.4974');
    expect((await cell('linear_pos', 'relu', 'numpy')).toFixed(4)).toBe('0.6642');
    expect((await cell('cubic_neg', 'sigmoid', 'numpy')).toFixed(4)).toBe('10.9407');
    expect((await cell('cubic_s', 'relu', 'pipe')).toFixed(4)).not.toBe('1.4974');
  }, 60_000);
});
