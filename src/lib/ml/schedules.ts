/**
 * Per-epoch schedules of the ActMix seed (§A.3, §A.4). Epochs count from 0 and the value is
 * set at the start of the epoch.
 */

/** Cosine annealing stepped once per epoch (torch CosineAnnealingLR, closed form):
 *  lr(e) = η_min + ½(lr₀ − η_min)(1 + cos(π e / T_max)). */
export function cosineLr(epoch: number, lr0: number, etaMin: number, tMax: number): number {
  return etaMin + 0.5 * (lr0 - etaMin) * (1 + Math.cos((Math.PI * epoch) / tMax));
}

/** Linear temperature anneal: T(e) = T₀ + (e/E_T)(T_f − T₀) for e < E_T, else T_f (E_T ≥ 1). */
export function temperatureAt(epoch: number, t0: number, tFinal: number, annealEpochs: number): number {
  const eT = Math.max(1, annealEpochs);
  return epoch < eT ? t0 + (epoch / eT) * (tFinal - t0) : tFinal;
}

/** Linear entropy-weight warm-up: λ(e) = λ_max · e / E_w for e < E_w, else λ_max (E_w ≥ 1). */
export function entropyWeightAt(epoch: number, lambdaMax: number, warmupEpochs: number): number {
  const eW = Math.max(1, warmupEpochs);
  return epoch < eW ? (lambdaMax * epoch) / eW : lambdaMax;
}
