#!/usr/bin/env python3
"""Derives the strip widths (wi) and acceptance bounds (ki) of NumPy's standard-normal ziggurat
from what numpy.random.Generator draws, and writes src/lib/random/numpy-ziggurat-tables.ts.

NumPy's Generator.standard_normal takes one 64-bit word r per try: idx = r & 0xff,
rabs = (r >> 9) & (2^52 - 1), x = rabs * wi[idx], accepted at once when rabs < ki[idx] (one word
consumed). So every draw that consumed exactly one word is a pair (rabs, |x|) with
|x| = fl(rabs * wi[idx]): the double wi[idx] is the one (searched ulp by ulp around |x| / rabs)
that reproduces every observed pair of its strip, and ki[idx] lies above every accepted rabs and
at or below every rejected one. No table is copied from NumPy's source: they are measured.

  /usr/bin/python3 scripts/derive-numpy-ziggurat.py [draws]      (default 400000)
"""
import json, math, os, sys
import numpy as np
from numpy.random import PCG64, Generator

N = int(sys.argv[1]) if len(sys.argv) > 1 else 400_000
MASK52 = (1 << 52) - 1
pairs = [dict() for _ in range(256)]  # rabs -> |x|
acc_max = [-1] * 256
rej_min = [1 << 53] * 256

bg = PCG64(20261207)
g = Generator(bg)
for _ in range(N):
    st = bg.state
    raw = int(bg.random_raw())
    one = bg.state['state']['state']
    bg.random_raw()
    two = bg.state['state']['state']
    bg.state = st
    x = g.standard_normal()
    idx = raw & 0xFF
    rabs = (raw >> 9) & MASK52
    after = bg.state['state']['state']
    if after == one:
        pairs[idx][rabs] = abs(x)
        acc_max[idx] = max(acc_max[idx], rabs)
    else:
        rej_min[idx] = min(rej_min[idx], rabs)
        if after == two and idx > 0:
            # a wedge acceptance: the second word was the uniform of the wedge test, x is still
            # rabs * wi[idx] (a wedge rejection would have taken a third word)
            pairs[idx][rabs] = abs(x)

wi = []
for idx in range(256):
    ps = pairs[idx]
    if not ps:
        sys.exit(f'strip {idx}: no accepted draw; use more draws')
    r0 = max(ps)
    w = ps[r0] / r0
    cands = []
    lo = w
    for _ in range(64):
        lo = math.nextafter(lo, 0)
    c = lo
    for _ in range(129):
        if all(float(r) * c == ax for r, ax in ps.items()):
            cands.append(c)
        c = math.nextafter(c, math.inf)
    if len(cands) != 1:
        sys.exit(f'strip {idx}: {len(cands)} widths fit {len(ps)} pairs; use more draws')
    wi.append(cands[0])

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', 'lib', 'random', 'numpy-ziggurat-tables.ts')
with open(out, 'w') as f:
    f.write('/**\n * NumPy\'s standard-normal ziggurat, measured (scripts/derive-numpy-ziggurat.py, NumPy ' + np.__version__ + ', ' + str(N) + ' draws):\n')
    f.write(' * WI[i] is the strip width every accepted draw of strip i was computed with; KI_LOW[i] < ki ≤ KI_HIGH[i]\n')
    f.write(' * brackets the acceptance bound (above every accepted rabs, at or below every rejected one).\n * Generated: do not edit.\n */\n')
    f.write('export const WI = new Float64Array([\n' + ''.join(f'  {repr(v)},\n' for v in wi) + ']);\n')
    f.write('export const KI_LOW = [' + ', '.join(str(v) for v in acc_max) + '];\n')
    f.write('export const KI_HIGH = [' + ', '.join(str(v if v != (1 << 53) else -1) for v in rej_min) + '];\n')
print(f'wrote {out}: {sum(len(p) for p in pairs)} accepted pairs', file=sys.stderr)
