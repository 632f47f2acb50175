/*
 * Vectorised transcendental loops for pipe's native kernels.
 *
 * This translation unit alone is compiled with -ffast-math so that GCC maps sinf/cosf/tanhf/
 * expf/logf in these loops onto glibc's libmvec SIMD variants (≤ 4 ulp). The shared library is
 * linked WITHOUT -ffast-math, so crtfastmath.o (which would switch the whole Node process to
 * flush-to-zero) is not pulled in.
 *
 * NaN and infinities: -ffast-math lets the compiler assume neither occurs, yet a diverging
 * network produces both and pipe's divergence detection relies on NaN reaching the loss. So
 * every loop (a) keeps its arguments in the range where the fast code is exact enough (sigmoid's
 * exp argument clamped: 1/(1+exp(100)) must be ~0, not NaN from a reciprocal of infinity) and
 * (b) passes a NaN input through as NaN, tested on the bits (integer compares, which fast-math
 * does not touch). tests: test/blas/native-nan.test.ts.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "pb.h"

static inline int nan_bits(float v) {
  uint32_t u;
  memcpy(&u, &v, sizeof u);
  return (u & 0x7fffffffu) > 0x7f800000u;
}

void pbm_sin(float *restrict out, const float *restrict x, long n, float w) {
  for (long i = 0; i < n; i++) { float v = x[i], r = sinf(w * v); out[i] = nan_bits(v) ? v : r; }
}

void pbm_sincos(float *restrict s, float *restrict c, const float *restrict x, long n, float w) {
  for (long i = 0; i < n; i++) { float v = x[i], t = w * v, a = sinf(t), b = cosf(t); s[i] = nan_bits(v) ? v : a; c[i] = nan_bits(v) ? v : b; }
}

void pbm_tanh(float *restrict out, const float *restrict x, long n) {
  for (long i = 0; i < n; i++) { float v = x[i], r = tanhf(v); out[i] = nan_bits(v) ? v : r; }
}

/* in place allowed (out == x): no restrict */
void pbm_sigmoid(float *out, const float *x, long n) {
  for (long i = 0; i < n; i++) {
    float v = x[i], c = v < -80.0f ? -80.0f : v, r = 1.0f / (1.0f + expf(-c));
    out[i] = nan_bits(v) ? v : r;
  }
}

/* softplus as TF.js computes it (log(1+exp(x)) with the usual large/small-x guards) */
void pbm_softplus(float *restrict out, const float *restrict x, long n) {
  for (long i = 0; i < n; i++) {
    float v = x[i], r = v > 13.942385f ? v : (v < -13.942385f ? expf(v) : log1pf(expf(v)));
    out[i] = nan_bits(v) ? v : r;
  }
}

void pbm_erf(float *restrict out, const float *restrict x, long n, float scale) {
  for (long i = 0; i < n; i++) { float v = x[i], r = erff(scale * v); out[i] = nan_bits(v) ? v : r; }
}

void pbm_exp(float *restrict out, const float *restrict x, long n, float scale) {
  for (long i = 0; i < n; i++) { float v = x[i], r = expf(scale * v); out[i] = nan_bits(v) ? v : r; }
}
