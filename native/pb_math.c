/*
 * Vectorised transcendental loops for pipe's native kernels.
 *
 * This translation unit alone is compiled with -ffast-math so that GCC maps sinf/cosf/tanhf/
 * expf/logf in these loops onto glibc's libmvec SIMD variants (≤ 4 ulp). The shared library is
 * linked WITHOUT -ffast-math, so crtfastmath.o (which would switch the whole Node process to
 * flush-to-zero) is not pulled in. Inputs are finite (pre-activations of a finite network).
 */
#include <math.h>
#include "pb.h"

void pbm_sin(float *restrict out, const float *restrict x, long n, float w) {
  for (long i = 0; i < n; i++) out[i] = sinf(w * x[i]);
}

void pbm_sincos(float *restrict s, float *restrict c, const float *restrict x, long n, float w) {
  for (long i = 0; i < n; i++) { float t = w * x[i]; s[i] = sinf(t); c[i] = cosf(t); }
}

void pbm_tanh(float *restrict out, const float *restrict x, long n) {
  for (long i = 0; i < n; i++) out[i] = tanhf(x[i]);
}

void pbm_sigmoid(float *restrict out, const float *restrict x, long n) {
  for (long i = 0; i < n; i++) out[i] = 1.0f / (1.0f + expf(-x[i]));
}

/* softplus as TF.js computes it (log(1+exp(x)) with the usual large/small-x guards) */
void pbm_softplus(float *restrict out, const float *restrict x, long n) {
  for (long i = 0; i < n; i++) {
    float v = x[i];
    out[i] = v > 13.942385f ? v : (v < -13.942385f ? expf(v) : log1pf(expf(v)));
  }
}

void pbm_erf(float *restrict out, const float *restrict x, long n, float scale) {
  for (long i = 0; i < n; i++) out[i] = erff(scale * x[i]);
}

void pbm_exp(float *restrict out, const float *restrict x, long n, float scale) {
  for (long i = 0; i < n; i++) out[i] = expf(scale * x[i]);
}
