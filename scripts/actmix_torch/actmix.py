"""The seed's ActMix MLP in PyTorch (seed-systems reference §A.1–A.2).

ActMix: per neuron f, α_f = softmax(a_f / T) over the bases (sin(ω₀z), tanh, relu, identity);
y_f = Σ_k α_{f,k} φ_k(z_f). Logits a start at 0 with the ReLU column at `relu_bias`; T is a buffer
(annealed by the training loop, saved with the weights, not trained).
"""
import math

import torch
from torch import nn

BASES = {
    'sin': None,  # sin(ω₀ z): uses the layer's omega_0
    'tanh': torch.tanh,
    'relu': torch.relu,
    'identity': lambda z: z,
    'sigmoid': torch.sigmoid,
    'silu': nn.functional.silu,
}


class ActMix(nn.Module):
    def __init__(self, features, bases=('sin', 'tanh', 'relu', 'identity'), relu_bias=1.5, omega_0=1.0, temperature=1.0):
        super().__init__()
        self.bases = list(bases)
        self.omega_0 = omega_0
        logits = torch.zeros(features, len(self.bases))
        if relu_bias and 'relu' in self.bases:
            logits[:, self.bases.index('relu')] = relu_bias
        self.logits = nn.Parameter(logits)
        self.register_buffer('temperature', torch.tensor(float(temperature)))

    def alpha(self):
        return torch.softmax(self.logits / self.temperature, dim=-1)

    def entropy(self):
        """Mean over neurons of −Σ_k α log α (log-softmax for the log, as the seed)."""
        log_alpha = torch.log_softmax(self.logits / self.temperature, dim=-1)
        return -(log_alpha.exp() * log_alpha).sum(-1).mean()

    def forward(self, z):
        outs = []
        for b in self.bases:
            outs.append(torch.sin(self.omega_0 * z) if b == 'sin' else BASES[b](z))
        phi = torch.stack(outs, dim=-1)                # (batch, F, K)
        return (phi * self.alpha()).sum(-1)


class ActMixMLP(nn.Module):
    """input → [Linear → ActMix → Dropout] × len(hidden) → Linear(d_out)."""

    def __init__(self, d_in, d_out, hidden=(128, 128), dropout=0.1, **actmix):
        super().__init__()
        layers = []
        d = d_in
        for h in hidden:
            layers += [nn.Linear(d, h), ActMix(h, **actmix)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            d = h
        layers.append(nn.Linear(d, d_out))
        self.net = nn.Sequential(*layers)

    def actmix_layers(self):
        return [m for m in self.net if isinstance(m, ActMix)]

    def set_temperature(self, t):
        for m in self.actmix_layers():
            m.temperature.fill_(t)

    def mean_entropy(self):
        return torch.stack([m.entropy() for m in self.actmix_layers()]).mean()

    def forward(self, x):
        return self.net(x)


def temperature_at(epoch, t0, t_final, anneal_epochs):
    e = max(1, anneal_epochs)
    return t0 + (epoch / e) * (t_final - t0) if epoch < e else t_final


def entropy_weight_at(epoch, lambda_max, warmup_epochs):
    e = max(1, warmup_epochs)
    return lambda_max * epoch / e if epoch < e else lambda_max


def cosine_lr(epoch, lr0, eta_min, t_max):
    return eta_min + 0.5 * (lr0 - eta_min) * (1 + math.cos(math.pi * epoch / t_max))
