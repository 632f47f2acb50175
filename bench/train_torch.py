"""PyTorch peer of bench/train_compare.ts: the same MLPs, one CPU thread, rows/s as JSON.

    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 bench/train_torch.py \
        --model relu|actmix --din 108 --hidden 256,256 --batch 256 --rows 16384 --epochs 2

Model: [Linear → act]×L → Linear(→1), PyTorch default init, BCEWithLogits, Adam(W) with wd 0,
lr 1e-3. ActMix: α = softmax(a/T) over (sin, tanh, relu, identity), y = Σ_k α_k φ_k(z), logits
init 0 with relu column 1.5, T = 1, loss + 0.01·H̄ (mean entropy of the ActMix layers) — the
seed's formulation (github.com/turgaybulut/ActMix, stack of basis outputs).
Only a benchmark peer: pipe itself never needs Python.
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)


class ActMix(nn.Module):
    def __init__(self, f, relu_bias=1.5, omega0=1.0):
        super().__init__()
        a = torch.zeros(f, 4)
        a[:, 2] = relu_bias
        self.logits = nn.Parameter(a)
        self.register_buffer("temperature", torch.tensor(1.0))
        self.omega0 = omega0

    def forward(self, z):
        s = self.logits / self.temperature
        alpha = F.softmax(s, dim=-1)
        self.entropy = -(alpha * F.log_softmax(s, dim=-1)).sum(-1).mean()
        phi = torch.stack([torch.sin(self.omega0 * z), torch.tanh(z), F.relu(z), z], dim=-1)
        return (phi * alpha).sum(-1)


class Net(nn.Module):
    def __init__(self, din, hidden, act):
        super().__init__()
        layers, d = [], din
        self.mix = []
        for h in hidden:
            layers.append(nn.Linear(d, h))
            if act == "actmix":
                m = ActMix(h)
                self.mix.append(m)
                layers.append(m)
            else:
                layers.append(nn.ReLU())
            d = h
        layers.append(nn.Linear(d, 1))
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return self.body(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="relu")
    ap.add_argument("--din", type=int, default=108)
    ap.add_argument("--hidden", default="256,256")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--rows", type=int, default=16384)
    ap.add_argument("--epochs", type=int, default=2)
    a = ap.parse_args()
    torch.manual_seed(0)
    hidden = [int(h) for h in a.hidden.split(",")]
    X = torch.randn(a.rows, a.din)
    y = ((X[:, 0] + X[:, 1]) > 0).float().unsqueeze(1)
    net = Net(a.din, hidden, a.model)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.0)
    lam = 0.01 if a.model == "actmix" else 0.0

    def step(s):
        xb, yb = X[s:s + a.batch], y[s:s + a.batch]
        opt.zero_grad(set_to_none=True)
        loss = F.binary_cross_entropy_with_logits(net(xb), yb)
        if lam:
            loss = loss + lam * sum(m.entropy for m in net.mix) / len(net.mix)
        loss.backward()
        opt.step()
        return loss

    for s in range(0, 4 * a.batch, a.batch):
        step(s)
    t0 = time.perf_counter()
    for _ in range(a.epochs):
        for s in range(0, a.rows, a.batch):
            loss = step(s)
    sec = time.perf_counter() - t0
    print(json.dumps({"rows_per_s": a.epochs * a.rows / sec, "seconds": sec, "loss": float(loss),
                      "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
