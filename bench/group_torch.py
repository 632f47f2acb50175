"""The group-composition seed's models in PyTorch (the seed's own framework), one thread, for
bench/group_compare.ts: QuadraticRNN (quadratic transform) with Adam, and SequentialMLP with the
per-neuron scaled SGD of §D.4; MSE; global-norm clip 0.1; fresh online batches of rolled
templates every step (generated with torch ops, as the seed's online dataset does). Prints one
JSON line per model: steps/s (best of --repeat).

  /usr/bin/python3 bench/group_torch.py --steps 30 --repeat 3
"""
import argparse, json, time
import torch

ap = argparse.ArgumentParser()
ap.add_argument('--steps', type=int, default=30)
ap.add_argument('--repeat', type=int, default=3)
ap.add_argument('--batch', type=int, default=1000)
a = ap.parse_args()
torch.set_num_threads(1)
torch.manual_seed(0)

def rolled(tau, g):
    # (g·τ)[i] = τ[(i − g) mod p] for a batch of shifts g (1D) — np.roll by +g
    p = tau.shape[-1]
    idx = (torch.arange(p)[None, :] - g[:, None]) % p
    return tau[idx]

def rolled2(tau, gx, gy):
    p1, p2 = tau.shape
    i = (torch.arange(p1)[None, :, None] - gx[:, None, None]) % p1
    j = (torch.arange(p2)[None, None, :] - gy[:, None, None]) % p2
    return tau[i, j].reshape(gx.shape[0], -1)

class QuadraticRNN(torch.nn.Module):
    def __init__(self, p, d, s=1e-2):
        super().__init__()
        self.W_in = torch.nn.Parameter(torch.randn(d, p) * s / p ** 0.5)
        self.W_drive = torch.nn.Parameter(torch.randn(d, p) * s / p ** 0.5)
        self.W_mix = torch.nn.Parameter(torch.randn(d, d) * s / d ** 0.5)
        self.W_out = torch.nn.Parameter(torch.randn(p, d) * s / d ** 0.5)
    def forward(self, xs):
        h = (xs[0] @ self.W_in.T + xs[1] @ self.W_drive.T) ** 2
        for x in xs[2:]:
            h = (h @ self.W_mix.T + x @ self.W_drive.T) ** 2
        return h @ self.W_out.T

class SequentialMLP(torch.nn.Module):
    def __init__(self, n, d, k, s=1e-2):
        super().__init__()
        self.k = k
        self.W_in = torch.nn.Parameter(torch.randn(d, k * n) * s / (k * n) ** 0.5)
        self.W_out = torch.nn.Parameter(torch.randn(n, d) * s / d ** 0.5)
    def forward(self, xs):
        return (torch.cat(xs, dim=1) @ self.W_in.T) ** self.k @ self.W_out.T

def per_neuron_step(m, lr, degree):
    with torch.no_grad():
        norm = torch.sqrt((m.W_in ** 2).sum(1) + (m.W_out ** 2).sum(0) + 1e-12)
        f = norm ** (2 - degree)
        m.W_in -= lr * m.W_in.grad * f[:, None]
        m.W_out -= lr * m.W_out.grad * f[None, :]

def bench_rnn():
    p, d, k, B = 100, 200, 3, a.batch
    tau = torch.randn(p); tau = tau - tau.mean()
    m = QuadraticRNN(p, d)
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    def step():
        gs = torch.randint(0, p, (B, k))
        xs = [rolled(tau, gs[:, t]) for t in range(k)]
        y = rolled(tau, gs.sum(1) % p)
        opt.zero_grad()
        loss = torch.mean((m(xs) - y) ** 2)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 0.1)
        opt.step()
    return step

def bench_mlp():
    p1 = p2 = 10; d, k, B = 600, 3, a.batch
    tau = torch.rand(p1, p2); tau = tau - tau.mean()
    m = SequentialMLP(p1 * p2, d, k)
    def step():
        gx = torch.randint(0, p1, (B, k)); gy = torch.randint(0, p2, (B, k))
        xs = [rolled2(tau, gx[:, t], gy[:, t]) for t in range(k)]
        y = rolled2(tau, gx.sum(1) % p1, gy.sum(1) % p2)
        m.zero_grad()
        loss = torch.mean((m(xs) - y) ** 2)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 0.1)
        per_neuron_step(m, 1.0, k + 1)
    return step

for name, make in [('quadratic_rnn_1d', bench_rnn), ('sequential_mlp_2d', bench_mlp)]:
    step = make()
    step()
    best = float('inf')
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        for _ in range(a.steps): step()
        best = min(best, time.perf_counter() - t0)
    print(json.dumps({'model': name, 'steps_per_s': a.steps / best, 'torch': torch.__version__}))
