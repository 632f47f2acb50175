/*
 * pipe's native compute kernels: OpenBLAS sgemm glue for the `blas` TF.js backend, a few fused
 * elementwise kernels, and a complete training step for the Mlp family (Dense + activation incl.
 * ActMix, inverted dropout with TF.js's own mask generator, softmax-CE / MSE, entropy term,
 * global-norm clipping, AdamW) working on recycled buffers.
 *
 * Semantics follow src/lib/ml/{mlp,trainer,optim}.ts exactly (see src/lib/ml/blas/trainer.ts).
 * Compiled with -O3 -ffp-contract=off (the dropout generator must round like JavaScript);
 * transcendental loops live in pb_math.c (libmvec). Called from Node through koffi.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pb.h"

/* ---- OpenBLAS (prototypes declared here so only the runtime library is needed) ---- */
#define CblasRowMajor 101
#define CblasNoTrans 111
#define CblasTrans 112
extern void cblas_sgemm(int order, int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                        const float *B, int ldb, float beta, float *C, int ldc);
extern void openblas_set_num_threads(int n);
extern int openblas_get_num_threads(void);
extern char *openblas_get_config(void);

const char *pb_blas_config(void) { return openblas_get_config(); }
void pb_set_threads(int n) { openblas_set_num_threads(n); }
int pb_get_threads(void) { return openblas_get_num_threads(); }
int pb_abi_version(void) { return 1; }

/* C[M×N] = op(A)[M×K] · op(B)[K×N] + beta·C, row-major */
static inline void gemm(int ta, int tb, int M, int N, int K, const float *A, const float *B, float beta, float *C) {
  if (M == 0 || N == 0) return;
  if (K == 0) { if (beta == 0.0f) memset(C, 0, sizeof(float) * (size_t)M * N); return; }
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, A,
              ta ? M : K, B, tb ? K : N, beta, C, N);
}

void pb_sgemm(int ta, int tb, int M, int N, int K, const float *A, const float *B, float *C) {
  gemm(ta, tb, M, N, K, A, B, 0.0f, C);
}

/* batched: A_i = A + i·sA (sA = 0 broadcasts), likewise B; C_i = C + i·M·N */
void pb_sgemm_batch(int batch, int ta, int tb, int M, int N, int K, const float *A, long sA, const float *B, long sB,
                    float *C) {
  for (int i = 0; i < batch; i++) gemm(ta, tb, M, N, K, A + i * sA, B + i * sB, 0.0f, C + (long)i * M * N);
}

/* y[rows×cols] += bias (per column, mode 1) or bias[rows×cols] (mode 2); then activation:
 * 0 linear, 1 relu, 2 relu6, 3 leakyrelu(alpha), 4 sigmoid, 5 elu */
void pb_bias_act(float *y, long rows, long cols, const float *bias, int mode, int act, float alpha) {
  long n = rows * cols;
  if (mode == 1) for (long r = 0; r < rows; r++) { float *yr = y + r * cols; for (long c = 0; c < cols; c++) yr[c] += bias[c]; }
  else if (mode == 2) for (long i = 0; i < n; i++) y[i] += bias[i];
  switch (act) {
    case 1: for (long i = 0; i < n; i++) y[i] = y[i] > 0.0f ? y[i] : 0.0f; break;
    case 2: for (long i = 0; i < n; i++) y[i] = y[i] < 0.0f ? 0.0f : (y[i] > 6.0f ? 6.0f : y[i]); break;
    case 3: for (long i = 0; i < n; i++) y[i] = y[i] < 0.0f ? alpha * y[i] : y[i]; break;
    case 4: pbm_sigmoid(y, y, n); break;
    case 5: for (long i = 0; i < n; i++) y[i] = y[i] >= 0.0f ? y[i] : expf(y[i]) - 1.0f; break;
    default: break;
  }
}

/* ---- elementwise / reduction kernels of the `blas` TF.js backend ---- */
/* out[n] = a op b; an operand of size < n repeats with its period (trailing-dims broadcast).
 * op: 0 add, 1 sub, 2 mul, 3 div, 4 squared difference, 5 maximum, 6 minimum */
#define PB_BIN_LOOP(EXPR)                                                                          \
  if (na == n && nb == n) { for (long i = 0; i < n; i++) { float x = a[i], y = b[i]; out[i] = (EXPR); } } \
  else if (na == n) { for (long o = 0; o < n; o += nb) { const float *ar = a + o; float *rr = out + o;   \
      for (long j = 0; j < nb; j++) { float x = ar[j], y = b[j]; rr[j] = (EXPR); } } }                \
  else { for (long o = 0; o < n; o += na) { const float *br = b + o; float *rr = out + o;                \
      for (long j = 0; j < na; j++) { float x = a[j], y = br[j]; rr[j] = (EXPR); } } }
int pb_binary(int op, const float *a, long na, const float *b, long nb, float *out, long n) {
  if (!((na == n && (nb == n || (nb > 0 && n % nb == 0))) || (nb == n && na > 0 && n % na == 0))) return -1;
  switch (op) {
    case 0: PB_BIN_LOOP(x + y) break;
    case 1: PB_BIN_LOOP(x - y) break;
    case 2: PB_BIN_LOOP(x * y) break;
    case 3: PB_BIN_LOOP(x / y) break;
    case 4: PB_BIN_LOOP((x - y) * (x - y)) break;
    case 5: PB_BIN_LOOP((x >= y || isnan(x)) ? x : y) break;
    case 6: PB_BIN_LOOP((x <= y || isnan(x)) ? x : y) break;
    default: return -2;
  }
  return 0;
}

/* op: 0 relu, 1 square, 2 neg, 3 sqrt, 4 relu6, 5 step(x>0), 6 abs */
int pb_unary(int op, const float *x, float *out, long n) {
  switch (op) {
    case 0: for (long i = 0; i < n; i++) out[i] = x[i] > 0.0f ? x[i] : (isnan(x[i]) ? x[i] : 0.0f); break;
    case 1: for (long i = 0; i < n; i++) out[i] = x[i] * x[i]; break;
    case 2: for (long i = 0; i < n; i++) out[i] = -x[i]; break;
    case 3: for (long i = 0; i < n; i++) out[i] = sqrtf(x[i]); break;
    case 4: for (long i = 0; i < n; i++) out[i] = x[i] < 0.0f ? 0.0f : (x[i] > 6.0f ? 6.0f : x[i]); break;
    case 5: for (long i = 0; i < n; i++) out[i] = x[i] > 0.0f ? 1.0f : (isnan(x[i]) ? x[i] : 0.0f); break;
    case 6: for (long i = 0; i < n; i++) out[i] = fabsf(x[i]); break;
    default: return -2;
  }
  return 0;
}

/* sums of x viewed as [outer, mid, inner] over the mid axis, double accumulators: out[outer×inner] */
void pb_sum_axis(const float *x, long outer, long mid, long inner, float *out, double *acc) {
  for (long o = 0; o < outer; o++) {
    const float *xo = x + o * mid * inner;
    if (inner == 1) {
      double s = 0;
      for (long m = 0; m < mid; m++) s += xo[m];
      out[o] = (float)s;
      continue;
    }
    for (long i = 0; i < inner; i++) acc[i] = 0;
    for (long m = 0; m < mid; m++) { const float *r = xo + m * inner; for (long i = 0; i < inner; i++) acc[i] += r[i]; }
    for (long i = 0; i < inner; i++) out[o * inner + i] = (float)acc[i];
  }
}

/* out[cols×rows] = xᵀ, 32×32 blocks */
void pb_transpose2d(const float *x, long rows, long cols, float *out) {
  for (long r0 = 0; r0 < rows; r0 += 32)
    for (long c0 = 0; c0 < cols; c0 += 32) {
      long r1 = r0 + 32 < rows ? r0 + 32 : rows, c1 = c0 + 32 < cols ? c0 + 32 : cols;
      for (long r = r0; r < r1; r++) for (long c = c0; c < c1; c++) out[c * rows + r] = x[r * cols + c];
    }
}

/* ---- the group-composition models (src/lib/ml/group-models.ts) and the kit's per-neuron SGD ----
 * Fused passes with the same float32 / float64 operations, in the same order, as the JS loops
 * they replace (this file has no FMA contraction), so results are bit-identical to them. */

/* z^(k−1) multiplied left to right (k >= 2): z, then z·z, (z·z)·z, … */
static inline float pbg_pow_km1(float x, int k) {
  if (k == 2) return x;
  float t = x * x;
  for (int e = 3; e < k; e++) t = t * x;
  return t;
}

/* H = z^(k−1) · z (k >= 2), one pass */
void pbg_pow(const float *z, long n, int k, float *H) {
  for (long i = 0; i < n; i++) { float x = z[i]; H[i] = pbg_pow_km1(x, k) * x; }
}

/* dH = (dH ⊙ z^(k−1)) · k, one pass (z^(k−1) recomputed as the forward pass formed it) */
void pbg_dpow(float *dH, const float *z, long n, int k) {
  float kf = (float)k;
  for (long i = 0; i < n; i++) { float g = dH[i] * pbg_pow_km1(z[i], k); dH[i] = g * kf; }
}

/* Σ (ŷ − y)² in float64 (sequential); dY = 2(ŷ − y)/N when dY is given */
double pbg_mse(const float *yhat, const float *y, long n, float *dY) {
  double s = 0, N = (double)n;
  if (dY) for (long i = 0; i < n; i++) { double r = (double)yhat[i] - (double)y[i]; s += r * r; dY[i] = (float)((2 * r) / N); }
  else for (long i = 0; i < n; i++) { double r = (double)yhat[i] - (double)y[i]; s += r * r; }
  return s;
}

/* acc + Σ g² in float64, sequential (the global gradient norm) */
double pbo_sumsq(const float *g, long n, double acc) {
  for (long i = 0; i < n; i++) acc += (double)g[i] * (double)g[i];
  return acc;
}

/* norm2[j] += Σ v² over neuron j's entries: element i belongs to neuron ⌊i / stride⌋ mod N, visited in index order */
void pbo_neuron_norm2(const float *v, long n, long stride, long N, double *norm2) {
  long i = 0;
  while (i < n) for (long j = 0; j < N && i < n; j++) {
    double s = norm2[j];
    for (long e = 0; e < stride; e++, i++) s += (double)v[i] * (double)v[i];
    norm2[j] = s;
  }
}

/* per-neuron SGD step after the global-norm clip: g ← (g·coef)·factor[j] (each rounded to float32
 * as stored), θ ← θ − rate·g; clip = 0 skips the coef multiplication */
void pbo_neuron_step(float *g, float *th, long n, long stride, long N, const double *factor, int clip, double coef, double rate) {
  long i = 0;
  while (i < n) for (long j = 0; j < N && i < n; j++) {
    double f = factor[j];
    for (long e = 0; e < stride; e++, i++) {
      float gi = g[i];
      if (clip) gi = (float)((double)gi * coef);
      gi = (float)((double)gi * f);
      g[i] = gi;
      th[i] = (float)((double)th[i] - rate * (double)gi);
    }
  }
}

/* ---- TF.js's dropout mask generator: seedrandom's Alea, as tf.randomUniform uses it ---- */
/* s = {s0, s1, s2, c}; seeding (Mash of the seed string) is done in JavaScript. */
static inline double alea_next(double *s) {
  double t = 2091639.0 * s[0] + s[3] * 2.3283064365386963e-10;
  s[0] = s[1];
  s[1] = s[2];
  s[3] = (double)(int32_t)t;
  s[2] = t - s[3];
  return s[2];
}

/* multiplier = floor(u + keep) / keep, in float32 steps like TF.js (u ~ U[0,1) as float32) */
void pb_dropout_mask(float *mask, long n, double *state, float keep) {
  float inv = (float)(1.0 / (double)keep);
  for (long i = 0; i < n; i++) {
    float u = (float)alea_next(state);
    float s = u + keep;
    mask[i] = floorf(s) == 0.0f ? 0.0f : inv;
  }
}

/* ---------------------------------------------------------------------------------------- */
/* Training context                                                                          */
/* ---------------------------------------------------------------------------------------- */
enum { A_IDENTITY = 0, A_RELU, A_GELU, A_PRELU, A_TANH, A_SIGMOID, A_LEAKY, A_SOFTPLUS, A_SINE, A_ACTMIX };
enum { B_SIN = 0, B_TANH, B_RELU, B_IDENTITY, B_SIGMOID, B_SILU };
#define MAXL 32
#define MAXK 8

typedef struct {
  int L, act, K, task, C, maxB, maxF;
  long bad; /* what the last -3 return refers to */
  int bases[MAXK];
  int dims[MAXL + 2];
  float omega, slope, keep;
  long np;
  long offW[MAXL + 1], offB[MAXL + 1], offA[MAXL];
  float *P, *G, *M, *V, *Pbest;
  long step;
  float b1, b2, eps, wd, clip;
  /* data */
  float *X, *Y;
  long n;
  int d;
  /* buffers */
  float *xb, *yb;
  float *z[MAXL], *h[MAXL], *mask[MAXL], *gz[MAXL], *phi[MAXL];
  float *alphaT[MAXL]; /* K×F (column-major α) */
  float *logAlpha[MAXL];
  double ent[MAXL];
  float *tmp, *dA, *dh0, *dh1, *out, *dout;
} Ctx;

static void *zalloc(size_t nfloats) {
  void *p = NULL;
  if (posix_memalign(&p, 64, sizeof(float) * (nfloats ? nfloats : 1))) return NULL;
  memset(p, 0, sizeof(float) * (nfloats ? nfloats : 1));
  return p;
}

void pbt_free(Ctx *c) {
  if (!c) return;
  free(c->P); free(c->G); free(c->M); free(c->V); free(c->Pbest);
  free(c->X); free(c->Y); free(c->xb); free(c->yb);
  for (int l = 0; l < c->L; l++) { free(c->z[l]); free(c->h[l]); free(c->mask[l]); free(c->gz[l]); free(c->phi[l]); free(c->alphaT[l]); free(c->logAlpha[l]); }
  free(c->tmp); free(c->dA); free(c->dh0); free(c->dh1); free(c->out); free(c->dout);
  free(c);
}

/* dims: L+2 entries (input, hidden…, output); task 0 = softmax CE over C = dims[L+1] logits, 1 = MSE,
 * 2 = sigmoid BCE on one logit (benchmarks) */
Ctx *pbt_create(int L, const int *dims, int act, int K, const int *bases, float omega, float slope, double dropout,
                int task, int maxB) {
  if (L < 0 || L > MAXL || K > MAXK || maxB < 1) return NULL;
  Ctx *c = calloc(1, sizeof(Ctx));
  if (!c) return NULL;
  c->L = L; c->act = act; c->K = K; c->omega = omega; c->slope = slope; c->keep = (float)(1.0 - dropout);
  c->task = task; c->maxB = maxB; c->C = dims[L + 1];
  for (int k = 0; k < K; k++) c->bases[k] = bases[k];
  long off = 0;
  int maxF = dims[L + 1] > dims[0] ? dims[L + 1] : dims[0];
  for (int l = 0; l <= L + 1; l++) { c->dims[l] = dims[l]; if (dims[l] > maxF) maxF = dims[l]; }
  c->maxF = maxF;
  for (int l = 0; l <= L; l++) {
    c->offW[l] = off; off += (long)dims[l] * dims[l + 1];
    c->offB[l] = off; off += dims[l + 1];
    if (l < L) {
      c->offA[l] = -1;
      if (act == A_PRELU) { c->offA[l] = off; off += dims[l + 1]; }
      else if (act == A_ACTMIX) { c->offA[l] = off; off += (long)dims[l + 1] * K; }
    }
  }
  c->np = off;
  c->P = zalloc(off); c->G = zalloc(off); c->M = zalloc(off); c->V = zalloc(off); c->Pbest = zalloc(off);
  c->xb = zalloc((size_t)maxB * dims[0]); c->yb = zalloc(maxB);
  int ok = c->P && c->G && c->M && c->V && c->Pbest && c->xb && c->yb;
  for (int l = 0; l < L && ok; l++) {
    size_t bf = (size_t)maxB * dims[l + 1];
    c->z[l] = zalloc(bf); c->h[l] = zalloc(bf); c->mask[l] = zalloc(bf); c->gz[l] = zalloc(bf);
    c->phi[l] = zalloc(act == A_ACTMIX ? bf * K : 1);
    c->alphaT[l] = zalloc((size_t)dims[l + 1] * (K ? K : 1));
    c->logAlpha[l] = zalloc((size_t)dims[l + 1] * (K ? K : 1));
    ok = c->z[l] && c->h[l] && c->mask[l] && c->gz[l] && c->phi[l] && c->alphaT[l] && c->logAlpha[l];
  }
  size_t bm = (size_t)maxB * maxF;
  c->tmp = zalloc(bm); c->dh0 = zalloc(bm); c->dh1 = zalloc(bm);
  c->dA = zalloc((size_t)maxF * (K ? K : 1));
  c->out = zalloc((size_t)maxB * c->C); c->dout = zalloc((size_t)maxB * c->C);
  ok = ok && c->tmp && c->dh0 && c->dh1 && c->dA && c->out && c->dout;
  c->b1 = 0.9f; c->b2 = 0.999f; c->eps = 1e-8f; c->wd = 0.0f; c->clip = 0.0f;
  if (!ok) { pbt_free(c); return NULL; }
  return c;
}

long pbt_num_params(Ctx *c) { return c->np; }
/* the row (or batch position) an entry point rejected with -3 */
long pbt_bad_index(Ctx *c) { return c->bad; }
void pbt_get_params(Ctx *c, float *out) { memcpy(out, c->P, sizeof(float) * c->np); }
void pbt_set_params(Ctx *c, const float *in) { memcpy(c->P, in, sizeof(float) * c->np); }
void pbt_snapshot(Ctx *c) { memcpy(c->Pbest, c->P, sizeof(float) * c->np); }
void pbt_restore(Ctx *c) { memcpy(c->P, c->Pbest, sizeof(float) * c->np); }
/* Resume checkpoints: the AdamW moments, the best-parameter slot and the step counter. */
long pbt_get_state(Ctx *c, float *m, float *v, float *best) {
  memcpy(m, c->M, sizeof(float) * c->np); memcpy(v, c->V, sizeof(float) * c->np); memcpy(best, c->Pbest, sizeof(float) * c->np);
  return c->step;
}
void pbt_set_state(Ctx *c, long step, const float *m, const float *v, const float *best) {
  memcpy(c->M, m, sizeof(float) * c->np); memcpy(c->V, v, sizeof(float) * c->np); memcpy(c->Pbest, best, sizeof(float) * c->np);
  c->step = step;
}
long pbt_step(Ctx *c) { return c->step; }

void pbt_set_opt(Ctx *c, float b1, float b2, float eps, float wd, float clip) {
  c->b1 = b1; c->b2 = b2; c->eps = eps; c->wd = wd; c->clip = clip;
}

/* X: n×d row-major; y: class index (as float) or (scaled) regression target */
/* Stores the training rows. Returns 0, -1 (wrong width), -2 (out of memory) or -3: a
 * classification label that is not a class index 0 … C-1 (NaN, fractional, out of range) —
 * pbt_bad_index() names its row. Labels index arrays below: an unchecked one is a wild read. */
int pbt_set_data(Ctx *c, const float *X, long n, int d, const float *y) {
  if (d != c->dims[0]) return -1;
  if (c->task == 0) {
    for (long i = 0; i < n; i++) {
      float v = y[i];
      if (!(v >= 0.0f && v < (float)c->C) || v != floorf(v)) { c->bad = i; return -3; }
    }
  }
  free(c->X); free(c->Y);
  c->X = zalloc((size_t)n * d); c->Y = zalloc(n);
  if (!c->X || !c->Y) return -2;
  memcpy(c->X, X, sizeof(float) * n * d);
  memcpy(c->Y, y, sizeof(float) * n);
  c->n = n; c->d = d;
  return 0;
}

/* α = softmax(a/T) per unit, stored transposed (K×F), log α and per-layer mean entropy */
static void actmix_alpha(Ctx *c, int l, float T) {
  int F = c->dims[l + 1], K = c->K;
  const float *a = c->P + c->offA[l];
  float *aT = c->alphaT[l], *la = c->logAlpha[l];
  double hsum = 0;
  for (int f = 0; f < F; f++) {
    float s[MAXK], m = -INFINITY;
    for (int k = 0; k < K; k++) { s[k] = a[f * K + k] / T; if (s[k] > m) m = s[k]; }
    float z = 0.0f;
    for (int k = 0; k < K; k++) z += expf(s[k] - m);
    float lz = logf(z);
    float h = 0.0f;
    for (int k = 0; k < K; k++) {
      float l_ = s[k] - m - lz;
      float al = expf(l_);
      la[f * K + k] = l_;
      aT[k * F + f] = al;
      h += al * l_;
    }
    hsum += -h;
  }
  c->ent[l] = hsum / F;
}

/* activation of layer l (F units, B rows): h = act(z); gz = act'(z) when training */
static void activate(Ctx *c, int l, int B, int training) {
  int F = c->dims[l + 1];
  long n = (long)B * F;
  float *z = c->z[l], *h = c->h[l], *g = c->gz[l], *t = c->tmp;
  switch (c->act) {
    case A_IDENTITY:
      memcpy(h, z, sizeof(float) * n);
      if (training) for (long i = 0; i < n; i++) g[i] = 1.0f;
      break;
    case A_RELU:
      for (long i = 0; i < n; i++) h[i] = z[i] > 0.0f ? z[i] : 0.0f;
      if (training) for (long i = 0; i < n; i++) g[i] = z[i] > 0.0f ? 1.0f : 0.0f;
      break;
    case A_LEAKY: {
      float s = c->slope;
      for (long i = 0; i < n; i++) h[i] = z[i] < 0.0f ? s * z[i] : z[i];
      if (training) for (long i = 0; i < n; i++) g[i] = z[i] > 0.0f ? 1.0f : s;
      break;
    }
    case A_PRELU: {
      const float *al = c->P + c->offA[l];
      for (int b = 0; b < B; b++) {
        const float *zr = z + (long)b * F; float *hr = h + (long)b * F, *gr = g + (long)b * F;
        for (int f = 0; f < F; f++) hr[f] = zr[f] < 0.0f ? al[f] * zr[f] : zr[f];
        if (training) for (int f = 0; f < F; f++) gr[f] = zr[f] > 0.0f ? 1.0f : al[f];
      }
      break;
    }
    case A_TANH:
      pbm_tanh(h, z, n);
      if (training) for (long i = 0; i < n; i++) g[i] = 1.0f - h[i] * h[i];
      break;
    case A_SIGMOID:
      pbm_sigmoid(h, z, n);
      if (training) for (long i = 0; i < n; i++) g[i] = h[i] * (1.0f - h[i]);
      break;
    case A_SOFTPLUS:
      pbm_softplus(h, z, n);
      if (training) pbm_sigmoid(g, z, n);
      break;
    case A_SINE:
      if (training) { pbm_sincos(h, g, z, n, c->omega); for (long i = 0; i < n; i++) g[i] *= c->omega; }
      else pbm_sin(h, z, n, c->omega);
      break;
    case A_GELU:
      /* 0.5·z·(1 + erf(z/√2)); d/dz = 0.5(1 + erf(z/√2)) + z·exp(−z²/2)/√(2π) */
      pbm_erf(t, z, n, 0.70710678118654752f);
      for (long i = 0; i < n; i++) h[i] = (z[i] * 0.5f) * (1.0f + t[i]);
      if (training) {
        float *e = g;
        for (long i = 0; i < n; i++) e[i] = -0.5f * z[i] * z[i];
        pbm_exp(e, e, n, 1.0f);
        for (long i = 0; i < n; i++) g[i] = 0.5f * (1.0f + t[i]) + z[i] * e[i] * 0.3989422804014327f;
      }
      break;
    case A_ACTMIX: {
      int K = c->K;
      float *phi = c->phi[l];
      const float *aT = c->alphaT[l];
      memset(h, 0, sizeof(float) * n);
      if (training) memset(g, 0, sizeof(float) * n);
      for (int k = 0; k < K; k++) {
        float *p = phi + (long)k * n;
        const float *ak = aT + (long)k * F;
        int bk = c->bases[k];
        int haveD = 0; /* t holds φ'_k */
        switch (bk) {
          case B_SIN:
            if (training) { pbm_sincos(p, t, z, n, c->omega); for (long i = 0; i < n; i++) t[i] *= c->omega; haveD = 1; }
            else pbm_sin(p, z, n, c->omega);
            break;
          case B_TANH:
            pbm_tanh(p, z, n);
            if (training) { for (long i = 0; i < n; i++) t[i] = 1.0f - p[i] * p[i]; haveD = 1; }
            break;
          case B_RELU:
            for (long i = 0; i < n; i++) p[i] = z[i] > 0.0f ? z[i] : 0.0f;
            if (training) { for (long i = 0; i < n; i++) t[i] = z[i] > 0.0f ? 1.0f : 0.0f; haveD = 1; }
            break;
          case B_IDENTITY:
            memcpy(p, z, sizeof(float) * n);
            if (training) { for (long i = 0; i < n; i++) t[i] = 1.0f; haveD = 1; }
            break;
          case B_SIGMOID:
            pbm_sigmoid(p, z, n);
            if (training) { for (long i = 0; i < n; i++) t[i] = p[i] * (1.0f - p[i]); haveD = 1; }
            break;
          case B_SILU:
            pbm_sigmoid(t, z, n);
            for (long i = 0; i < n; i++) p[i] = z[i] * t[i];
            if (training) { for (long i = 0; i < n; i++) t[i] = t[i] * (1.0f + z[i] * (1.0f - t[i])); haveD = 1; }
            break;
        }
        for (int b = 0; b < B; b++) {
          float *hr = h + (long)b * F; const float *pr = p + (long)b * F;
          for (int f = 0; f < F; f++) hr[f] += ak[f] * pr[f];
          if (training && haveD) {
            float *gr = g + (long)b * F; const float *tr = t + (long)b * F;
            for (int f = 0; f < F; f++) gr[f] += ak[f] * tr[f];
          }
        }
      }
      break;
    }
  }
}

/* forward of B rows from xin; training: keeps what backward needs and applies dropout masks
 * generated from drop (4 doubles of Alea state per hidden layer). Output logits in c->out. */
static void forward(Ctx *c, const float *xin, int B, int training, float T, double *drop) {
  const float *hin = xin;
  for (int l = 0; l < c->L; l++) {
    int in = c->dims[l], F = c->dims[l + 1];
    float *z = c->z[l];
    gemm(0, 0, B, F, in, hin, c->P + c->offW[l], 0.0f, z);
    const float *bias = c->P + c->offB[l];
    for (int b = 0; b < B; b++) { float *zr = z + (long)b * F; for (int f = 0; f < F; f++) zr[f] += bias[f]; }
    if (c->act == A_ACTMIX) actmix_alpha(c, l, T);
    activate(c, l, B, training);
    if (training && c->keep < 1.0f) {
      long n = (long)B * F;
      float *m = c->mask[l], *h = c->h[l];
      pb_dropout_mask(m, n, drop + 4 * l, c->keep);
      for (long i = 0; i < n; i++) h[i] *= m[i];
    }
    hin = c->h[l];
  }
  int in = c->dims[c->L], C = c->C;
  gemm(0, 0, B, C, in, hin, c->P + c->offW[c->L], 0.0f, c->out);
  const float *bias = c->P + c->offB[c->L];
  for (int b = 0; b < B; b++) for (int k = 0; k < C; k++) c->out[(long)b * C + k] += bias[k];
}

/* task loss (mean over the batch, double) and dL/dout into c->dout */
static double loss_grad(Ctx *c, int B) {
  int C = c->C;
  double loss = 0;
  float invB = 1.0f / (float)B;
  if (c->task == 0) {
    for (int b = 0; b < B; b++) {
      const float *o = c->out + (long)b * C;
      float *d = c->dout + (long)b * C;
      int y = (int)c->yb[b];
      float m = -INFINITY;
      for (int k = 0; k < C; k++) if (o[k] > m) m = o[k];
      float s = 0.0f;
      for (int k = 0; k < C; k++) s += expf(o[k] - m);
      float ls = logf(s);
      for (int k = 0; k < C; k++) d[k] = (expf(o[k] - m - ls) - (k == y ? 1.0f : 0.0f)) * invB;
      loss += -(double)(o[y] - m - ls);
    }
  } else if (c->task == 2) {
    /* sigmoid cross-entropy on one logit (tf.losses.sigmoidCrossEntropy, BCEWithLogits) */
    for (int b = 0; b < B; b++) {
      float o = c->out[b], y = c->yb[b];
      c->dout[b] = (1.0f / (1.0f + expf(-o)) - y) * invB;
      loss += (double)((o > 0.0f ? o : 0.0f) - o * y + log1pf(expf(-fabsf(o))));
    }
  } else {
    for (int b = 0; b < B; b++) {
      float r = c->out[b] - c->yb[b];
      c->dout[b] = 2.0f * r * invB;
      loss += (double)r * r;
    }
  }
  return loss / B;
}

/* One optimisation step on rows perm[start..start+bs) of the stored data.
 * losses[0] = task loss, losses[1] = total loss (task + λ·H̄), losses[2] = pre-clip grad norm. */
int pbt_train_batch(Ctx *c, const int32_t *perm, long start, int bs, float lr, float T, float lam, double *drop,
                    double *losses) {
  if (bs > c->maxB || !c->X) return -1;
  int L = c->L, d = c->d;
  for (int i = 0; i < bs; i++) {
    long r = perm[start + i];
    if (r < 0 || r >= c->n) { c->bad = start + i; return -3; } /* a row index outside the data */
    memcpy(c->xb + (long)i * d, c->X + r * d, sizeof(float) * d);
    c->yb[i] = c->Y[r];
  }
  forward(c, c->xb, bs, 1, T, drop);
  double task = loss_grad(c, bs);
  double Hbar = 0;
  int am = c->act == A_ACTMIX;
  if (am && L > 0) { for (int l = 0; l < L; l++) Hbar += c->ent[l]; Hbar /= L; }
  losses[0] = task;
  losses[1] = (am && lam != 0.0f && L > 0) ? task + (double)lam * Hbar : task;

  float *G = c->G, *P = c->P;
  /* output layer */
  {
    int in = c->dims[L], C = c->C;
    const float *hin = L > 0 ? c->h[L - 1] : c->xb;
    gemm(1, 0, in, C, bs, hin, c->dout, 0.0f, G + c->offW[L]);
    float *gb = G + c->offB[L];
    for (int k = 0; k < C; k++) gb[k] = 0.0f;
    for (int b = 0; b < bs; b++) for (int k = 0; k < C; k++) gb[k] += c->dout[(long)b * C + k];
    if (L > 0) gemm(0, 1, bs, in, C, c->dout, P + c->offW[L], 0.0f, c->dh0);
  }
  float *dh = c->dh0, *dnext = c->dh1;
  for (int l = L - 1; l >= 0; l--) {
    int in = c->dims[l], F = c->dims[l + 1];
    long n = (long)bs * F;
    if (c->keep < 1.0f) { const float *m = c->mask[l]; for (long i = 0; i < n; i++) dh[i] *= m[i]; }
    if (c->act == A_PRELU) {
      float *ga = G + c->offA[l];
      const float *z = c->z[l];
      for (int f = 0; f < F; f++) ga[f] = 0.0f;
      for (int b = 0; b < bs; b++) {
        const float *zr = z + (long)b * F, *dr = dh + (long)b * F;
        for (int f = 0; f < F; f++) ga[f] += zr[f] > 0.0f ? 0.0f : dr[f] * zr[f];
      }
    } else if (c->act == A_ACTMIX) {
      int K = c->K;
      float *dA = c->dA; /* K×F: dL/dα */
      for (int k = 0; k < K; k++) {
        float *dk = dA + (long)k * F;
        const float *p = c->phi[l] + (long)k * n;
        for (int f = 0; f < F; f++) dk[f] = 0.0f;
        for (int b = 0; b < bs; b++) {
          const float *pr = p + (long)b * F, *dr = dh + (long)b * F;
          for (int f = 0; f < F; f++) dk[f] += dr[f] * pr[f];
        }
      }
      /* through α = softmax(a/T): ds_j = α_j(dα_j − Σ_k α_k dα_k); entropy term λ/(L·F)·(−α_j(log α_j + H_f)) */
      const float *aT = c->alphaT[l], *la = c->logAlpha[l];
      float *ga = G + c->offA[l];
      float ew = (lam != 0.0f) ? lam / (float)L / (float)F : 0.0f;
      for (int f = 0; f < F; f++) {
        float dot = 0.0f, Hf = 0.0f;
        for (int k = 0; k < K; k++) { float a = aT[(long)k * F + f]; dot += a * dA[(long)k * F + f]; Hf -= a * la[f * K + k]; }
        for (int k = 0; k < K; k++) {
          float a = aT[(long)k * F + f];
          float ds = a * (dA[(long)k * F + f] - dot);
          if (ew != 0.0f) ds += ew * (-a * (la[f * K + k] + Hf));
          ga[f * K + k] = ds / T;
        }
      }
    }
    { const float *g = c->gz[l]; for (long i = 0; i < n; i++) dh[i] *= g[i]; } /* dh is now dz */
    const float *hin = l > 0 ? c->h[l - 1] : c->xb;
    gemm(1, 0, in, F, bs, hin, dh, 0.0f, G + c->offW[l]);
    float *gb = G + c->offB[l];
    for (int f = 0; f < F; f++) gb[f] = 0.0f;
    for (int b = 0; b < bs; b++) { const float *dr = dh + (long)b * F; for (int f = 0; f < F; f++) gb[f] += dr[f]; }
    if (l > 0) { gemm(0, 1, bs, in, F, dh, P + c->offW[l], 0.0f, dnext); float *t = dh; dh = dnext; dnext = t; }
  }

  /* global-norm clipping */
  long np = c->np;
  double sq = 0;
  {
    float acc[16] = {0};
    long i = 0;
    for (; i + 16 <= np; i += 16) for (int j = 0; j < 16; j++) acc[j] += G[i + j] * G[i + j];
    for (; i < np; i++) sq += (double)G[i] * G[i];
    for (int j = 0; j < 16; j++) sq += acc[j];
  }
  float norm = (float)sqrt(sq);
  losses[2] = norm;
  if (c->clip > 0.0f) {
    float coef = c->clip / (norm + 1e-6f);
    if (coef > 1.0f) coef = 1.0f;
    for (long i = 0; i < np; i++) G[i] *= coef;
  }

  /* AdamW (decoupled weight decay), as src/lib/ml/optim.ts */
  c->step++;
  double bc1 = 1.0 - pow((double)c->b1, (double)c->step);
  double bc2 = 1.0 - pow((double)c->b2, (double)c->step);
  float ss = (float)((double)lr / bc1), sb = (float)sqrt(bc2);
  float decay = (float)(1.0 - (double)lr * (double)c->wd);
  float b1 = c->b1, b2 = c->b2, b1c = (float)(1.0 - (double)c->b1), b2c = (float)(1.0 - (double)c->b2), eps = c->eps;
  float *M = c->M, *V = c->V;
  int wd = c->wd != 0.0f;
  for (long i = 0; i < np; i++) {
    float g = G[i];
    float m = M[i] * b1 + g * b1c;
    float v = V[i] * b2 + (g * g) * b2c;
    M[i] = m; V[i] = v;
    float denom = sqrtf(v) / sb + eps;
    float p = wd ? P[i] * decay : P[i];
    P[i] = p - (m / denom) * ss;
  }
  return 0;
}

/* outputs (logits / predictions) of n rows of X, in chunks of maxB */
int pbt_predict(Ctx *c, const float *X, long n, float T, float *out) {
  int d = c->dims[0], C = c->C;
  for (long s = 0; s < n; s += c->maxB) {
    int B = (int)((n - s) < c->maxB ? (n - s) : c->maxB);
    forward(c, X + s * d, B, 0, T, NULL);
    memcpy(out + s * C, c->out, sizeof(float) * (size_t)B * C);
  }
  return 0;
}

/* forward + task loss + gradients only (no update): for tests. grads into out (np floats). */
int pbt_grads(Ctx *c, const int32_t *perm, long start, int bs, float T, float lam, double *drop, double *losses,
              float *grads) {
  float clip = c->clip, wd = c->wd, b1 = c->b1, b2 = c->b2;
  long step = c->step;
  float *Psave = malloc(sizeof(float) * c->np), *Msave = malloc(sizeof(float) * c->np), *Vsave = malloc(sizeof(float) * c->np);
  if (!Psave || !Msave || !Vsave) { free(Psave); free(Msave); free(Vsave); return -2; }
  memcpy(Psave, c->P, sizeof(float) * c->np); memcpy(Msave, c->M, sizeof(float) * c->np); memcpy(Vsave, c->V, sizeof(float) * c->np);
  c->clip = 0.0f;
  int r = pbt_train_batch(c, perm, start, bs, 0.0f, T, lam, drop, losses);
  memcpy(grads, c->G, sizeof(float) * c->np);
  memcpy(c->P, Psave, sizeof(float) * c->np); memcpy(c->M, Msave, sizeof(float) * c->np); memcpy(c->V, Vsave, sizeof(float) * c->np);
  c->clip = clip; c->wd = wd; c->b1 = b1; c->b2 = b2; c->step = step;
  free(Psave); free(Msave); free(Vsave);
  return r;
}
