"""PyTorch peer of bench/infomax_compare.ts: the §B InfoMax layer, one CPU thread, rows/s as JSON.

    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 bench/infomax_torch.py \
        --hidden 16 --din 784 --batch 128 --rows 16384 --epochs 3 --repeat 3

Model a = relu(W x + b), nn.Linear with Xavier-uniform W and zero b; loss of the seed-systems
reference §B.2: −Σ log(var_j + 1e-6) + λ_tc ‖R − I‖²_F with unbiased variances, plus the weight
redundancy ‖ŴŴᵀ − I‖²_F computed every step for the log (without a gradient, since λ_wr = 0),
Adam lr 1e-3, a fresh shuffle every epoch; the four loss terms are read back every step
(.item(), as a per-epoch mean log needs). Only a benchmark peer: pipe never needs Python.
"""
import argparse
import json
import time

import torch
import torch.nn as nn

torch.set_num_threads(1)


def loss_fn(a, W, lam_tc=1.0, eps=1e-6):
    n = a.shape[0]
    c = a - a.mean(0, keepdim=True)
    v = c.pow(2).sum(0) / (n - 1) + eps
    entropy = -torch.log(v).sum()
    ah = c / v.sqrt()
    R = ah.T @ ah / (n - 1)
    eye = torch.eye(a.shape[1])
    tc = (R - eye).pow(2).sum()
    with torch.no_grad():
        Wn = W / (W.norm(dim=1, keepdim=True) + 1e-8)
        wr = (Wn @ Wn.T - eye).pow(2).sum()
    return entropy + lam_tc * tc, entropy, tc, wr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hidden", type=int, default=16)
    ap.add_argument("--din", type=int, default=784)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--rows", type=int, default=16384)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    g = torch.Generator().manual_seed(0)
    X = torch.rand(a.rows, a.din, generator=g)
    X[torch.rand(a.rows, a.din, generator=g) < 0.8] = 0.0   # MNIST-like sparsity (dense maths either way)
    best = 0.0
    for r in range(a.repeat):
        torch.manual_seed(r)
        lin = nn.Linear(a.din, a.hidden)
        nn.init.xavier_uniform_(lin.weight)
        nn.init.zeros_(lin.bias)
        opt = torch.optim.Adam(lin.parameters(), lr=1e-3)
        t0 = time.perf_counter()
        for _ in range(a.epochs):
            perm = torch.randperm(a.rows)
            sums = [0.0, 0.0, 0.0, 0.0]
            for s in range(0, a.rows, a.batch):
                xb = X[perm[s:s + a.batch]]
                act = torch.relu(lin(xb))
                total, ent, tc, wr = loss_fn(act, lin.weight)
                opt.zero_grad()
                total.backward()
                opt.step()
                for i, t in enumerate((total, ent, tc, wr)):
                    sums[i] += t.item()
        dt = time.perf_counter() - t0
        best = max(best, a.rows * a.epochs / dt)
    print(json.dumps({"rows_per_s": best, "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
