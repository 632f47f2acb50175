"""Draws from NumPy for test/random/numpy.test.ts: prints JSON {seed: {method: base64 float64}}."""
import base64, json, sys
import numpy as np

N = 10000
SEEDS = [int(s) for s in sys.argv[1].split(',')]


def enc(a):
    return base64.b64encode(np.ascontiguousarray(np.asarray(a, dtype=np.float64)).tobytes()).decode()


out = {'numpy': np.__version__, 'seeds': {}}
for seed in SEEDS:
    d = {}
    g = np.random.default_rng(seed); d['gen_random'] = enc(g.random(N))
    g = np.random.default_rng(seed); d['gen_normal'] = enc(g.normal(0.0, 1.0, N))
    g = np.random.default_rng(seed); d['gen_normal_scalar'] = enc([g.normal(scale=0.5) for _ in range(N)])
    g = np.random.default_rng(seed); d['gen_integers_10'] = enc(g.integers(0, 10, N))
    g = np.random.default_rng(seed); d['gen_integers_wide'] = enc(g.integers(-5, 3_000_000_007, N))
    g = np.random.default_rng(seed); d['gen_permutation'] = enc(g.permutation(N))
    g = np.random.default_rng(seed); d['gen_choice_replace'] = enc(g.choice(100, N))
    g = np.random.default_rng(seed); d['gen_choice_floyd'] = enc(g.choice(N, 500, replace=False))
    g = np.random.default_rng(seed); d['gen_choice_tail'] = enc(g.choice(2 * N, N, replace=False))
    # interleaved calls: the 32-bit half buffered by integers() must survive random()/normal()
    g = np.random.default_rng(seed)
    mixed = []
    for i in range(N // 4):
        mixed.append(g.integers(0, 7)); mixed.append(g.random()); mixed.append(g.integers(0, 1000)); mixed.append(g.normal())
    mixed.append(g.random())
    d['gen_mixed'] = enc(mixed)
    r = np.random.RandomState(seed); d['leg_rand'] = enc(r.rand(N))
    r = np.random.RandomState(seed); d['leg_randn'] = enc(r.randn(N))
    r = np.random.RandomState(seed); r.randn(N); d['leg_after_randn'] = enc(r.rand(100))
    r = np.random.RandomState(seed); d['leg_randint'] = enc(r.randint(0, 1000, N))
    r = np.random.RandomState(seed); d['leg_permutation'] = enc(r.permutation(N))
    r = np.random.RandomState(seed); d['leg_choice_replace'] = enc(r.choice(100, N))
    r = np.random.RandomState(seed); d['leg_choice_noreplace'] = enc(r.choice(N, 500, replace=False))
    np.random.seed(seed); d['global_randn'] = enc(np.random.randn(N))
    out['seeds'][str(seed)] = d
print(json.dumps(out))
