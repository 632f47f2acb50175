/**
 * GPUs of the local executor. A stage asks for `resources: {gpus: N}`; the runner takes N free
 * devices from this pool before the stage takes a worker slot (so CPU stages keep the slots while
 * a GPU stage waits for a device), hands them to the stage as CUDA_VISIBLE_DEVICES, and gives them
 * back when it ends. A device is never given to two stages at once; waiting stages are served in
 * order (a stage asking for two is not starved by later stages asking for one).
 *
 * The devices: `pipe run --gpus N` (devices 0 … N-1, e.g. to test without a GPU), else the ones
 * CUDA_VISIBLE_DEVICES already names, else the NVIDIA GPUs the driver lists
 * (/proc/driver/nvidia/gpus), else none.
 */
import { existsSync, readdirSync } from 'node:fs';

export function detectGpus(env: NodeJS.ProcessEnv = process.env, procDir = '/proc/driver/nvidia/gpus'): { ids: string[]; source: string } {
  const cvd = env.CUDA_VISIBLE_DEVICES;
  if (cvd !== undefined && cvd.trim() !== '' && cvd !== 'NoDevFiles') {
    return { ids: cvd.split(',').map((s) => s.trim()).filter((s) => s !== '' && !s.startsWith('-')), source: 'CUDA_VISIBLE_DEVICES' };
  }
  if (cvd !== undefined) return { ids: [], source: 'CUDA_VISIBLE_DEVICES (empty)' };
  try {
    if (existsSync(procDir)) {
      const n = readdirSync(procDir).length;
      return { ids: Array.from({ length: n }, (_, i) => String(i)), source: procDir };
    }
  } catch { /* unreadable: none */ }
  return { ids: [], source: 'no NVIDIA driver found' };
}

/** How many GPUs a stage's resources ask for (`gpus: 2`, `gpus: "2"`, `gpus: "a100:2"`). */
export function gpuCount(gpus: number | string | undefined): number {
  if (gpus === undefined) return 0;
  if (typeof gpus === 'number') return gpus;
  const m = /(?:^|:)(\d+)$/.exec(gpus.trim());
  return m ? Number(m[1]) : 1;
}

export class GpuPool {
  private readonly free: string[];
  private readonly waiters: { n: number; resolve: (ids: string[]) => void }[] = [];

  constructor(readonly ids: string[], readonly source: string) {
    this.free = [...ids];
  }

  get total(): number {
    return this.ids.length;
  }

  acquire(n: number): Promise<string[]> {
    if (n > this.ids.length) return Promise.reject(new Error(`asks for ${n} GPU${n > 1 ? 's' : ''}, and this run has ${this.ids.length} (${this.source}; pipe run --gpus N sets the count)`));
    return new Promise((resolve) => {
      this.waiters.push({ n, resolve });
      this.serve();
    });
  }

  release(ids: string[]): void {
    for (const id of ids) if (!this.free.includes(id)) this.free.push(id);
    this.free.sort((a, b) => this.ids.indexOf(a) - this.ids.indexOf(b));
    this.serve();
  }

  private serve(): void {
    while (this.waiters.length && this.waiters[0]!.n <= this.free.length) {
      const w = this.waiters.shift()!;
      w.resolve(this.free.splice(0, w.n));
    }
  }
}
