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

/** Everything set at the start of epoch `epoch`: LR, ActMix temperature and entropy weight
 *  (T = 1, λ = 0 without ActMix). Both trainers call this, so their schedules cannot drift. */
export function epochSchedule(
  epoch: number,
  cfg: { lr: number; eta_min_ratio: number; max_epochs: number; t_max?: number },
  am?: { t0: number; t_final: number; anneal_epochs: number; lambda_max: number; warmup_epochs: number },
): { lr: number; temperature: number; entropyWeight: number } {
  return {
    lr: cosineLr(epoch, cfg.lr, cfg.lr * cfg.eta_min_ratio, cfg.t_max ?? cfg.max_epochs),
    temperature: am ? temperatureAt(epoch, am.t0, am.t_final, am.anneal_epochs) : 1,
    entropyWeight: am ? entropyWeightAt(epoch, am.lambda_max, am.warmup_epochs) : 0,
  };
}
