"""The Hebbian seed's training step (seed-systems §E.4) written the seed's way in NumPy, float32,
for bench/hebbian_compare.ts: forward, BCE-with-logits, backprop, element-wise clip, L2, EMA
momentum (or textbook Adam with a global t), the Oja-like Hebbian increment from the pre-update W
added after the step, and the full train and val BCE (+ weight norms) after every epoch, as the
seed logs them. Prints one JSON line: rows/s of the training loop (best of --repeat).

  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/hebbian_numpy.py --rows 840 --sizes 4,16,8,1 --epochs 25 --batch 64
"""
import argparse, json, time
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument('--rows', type=int, default=840)
ap.add_argument('--sizes', default='4,16,8,1')
ap.add_argument('--epochs', type=int, default=25)
ap.add_argument('--batch', type=int, default=64)
ap.add_argument('--lr', type=float, default=0.05)
ap.add_argument('--alpha', type=float, default=0.02)
ap.add_argument('--gamma', type=float, default=1.0)
ap.add_argument('--adam', action='store_true')
ap.add_argument('--repeat', type=int, default=3)
a = ap.parse_args()
sizes = [int(s) for s in a.sizes.split(',')]
rng = np.random.default_rng(0)
X = rng.standard_normal((a.rows, sizes[0])).astype(np.float32)
y = (X @ np.arange(1, sizes[0] + 1, dtype=np.float32) > 0).astype(np.float32)[:, None]
Xv = rng.standard_normal((180, sizes[0])).astype(np.float32)
yv = (Xv @ np.arange(1, sizes[0] + 1, dtype=np.float32) > 0).astype(np.float32)[:, None]

def bce(W, b, X, y):
    h = X
    for i in range(len(W)):
        z = h @ W[i].T + b[i]
        h = np.maximum(z, 0) if i < len(W) - 1 else z
    return float(np.mean(np.maximum(h, 0) - h * y + np.log1p(np.exp(-np.abs(h)))))

def run():
    r = np.random.default_rng(42)
    L = len(sizes) - 1
    W = [(r.standard_normal((sizes[i + 1], sizes[i])) * np.sqrt((2.0 if i < L - 1 else 1.0) / sizes[i])).astype(np.float32) for i in range(L)]
    b = [np.zeros(sizes[i + 1], np.float32) for i in range(L)]
    vW = [np.zeros_like(w) for w in W]; vb = [np.zeros_like(x) for x in b]
    mW = [np.zeros_like(w) for w in W]; mb = [np.zeros_like(x) for x in b]
    t = 0
    log = []
    for _ in range(a.epochs):
        perm = r.permutation(a.rows)
        for s in range(0, a.rows, a.batch):
            idx = perm[s:s + a.batch]
            xb, yb = X[idx], y[idx]
            B = xb.shape[0]
            hs, zs = [xb], []
            for i in range(L):
                z = hs[-1] @ W[i].T + b[i]
                zs.append(z)
                hs.append(np.maximum(z, 0) if i < L - 1 else z)
            zl = hs[-1]
            delta = (1 / (1 + np.exp(-zl)) - yb) / B
            gW, gb = [None] * L, [None] * L
            for i in reversed(range(L)):
                if i < L - 1:
                    delta = delta * (zs[i] > 0)
                gW[i] = delta.T @ hs[i]
                gb[i] = delta.sum(0)
                if i > 0:
                    delta = delta @ W[i]
            t += 1
            for i in range(L):
                g = np.clip(gW[i], -5, 5) + 1e-4 * W[i]
                gbi = np.clip(gb[i], -5, 5)
                post, pre = hs[i + 1], hs[i]
                dH = a.alpha * (post.T @ pre / B - a.gamma * (post ** 2).mean(0)[:, None] * W[i])
                if a.adam:
                    mW[i] = 0.9 * mW[i] + 0.1 * g; vW[i] = 0.999 * vW[i] + 0.001 * g * g
                    W[i] = W[i] - a.lr * (mW[i] / (1 - 0.9 ** t)) / (np.sqrt(vW[i] / (1 - 0.999 ** t)) + 1e-8)
                    mb[i] = 0.9 * mb[i] + 0.1 * gbi; vb[i] = 0.999 * vb[i] + 0.001 * gbi * gbi
                    b[i] = b[i] - a.lr * (mb[i] / (1 - 0.9 ** t)) / (np.sqrt(vb[i] / (1 - 0.999 ** t)) + 1e-8)
                else:
                    vW[i] = 0.9 * vW[i] + 0.1 * g; W[i] = W[i] - a.lr * vW[i]
                    vb[i] = 0.9 * vb[i] + 0.1 * gbi; b[i] = b[i] - a.lr * vb[i]
                W[i] = W[i] + dH
        # the seed logs full train and val BCE after every epoch
        log.append((bce(W, b, X, y), bce(W, b, Xv, yv), [float(np.linalg.norm(w)) for w in W]))
    return W

best = float('inf')
for _ in range(a.repeat):
    t0 = time.perf_counter(); run(); best = min(best, time.perf_counter() - t0)
print(json.dumps({'rows_per_s': a.rows * a.epochs / best, 'seconds': best, 'numpy': np.__version__}))
