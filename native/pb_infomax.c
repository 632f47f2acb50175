/*
 * The InfoMax single layer of the seed-systems reference §B as one native training step.
 *
 *   z = W x + b (W: K×n, b: K), h = f(z), a = post ? softmax_K(h) : h
 *   f: 0 identity, 1 relu, 2 leaky_relu(slope), 3 softmax over the K units, 4 tanh, 5 softplus (β = 1), 6 sigmoid
 *
 * Loss of a batch A (N×K), §B.2, with hand-derived gradients:
 *   c = A − mean_rows(A), S = cᵀc, v_j = S_jj/(N−1) + ε, d_j = v_j^{-1/2}, R = D S D/(N−1)
 *   L_H  = −Σ_j log v_j
 *   L_TC = ‖R − I‖²_F                      (tc_mode 0, the seed's proxy)   G_R = ∂L/∂R = 2λ_tc(R − I)
 *        = −½ log det(R + δI)               (tc_mode 1, exact Gaussian TC)  G_R = −½λ_tc (R + δI)⁻¹
 *   L_WR = ‖ŴŴᵀ − I‖²_F, ŵ_j = w_j/(‖w_j‖ + 1e-8)
 *   L = L_H + λ_tc L_TC + λ_wr L_WR
 * Backward:  g_v_p = −(1 + Σ_q G_pq R_pq)/v_p   (entropy + the d_p dependence of R)
 *            T = D G_R D/(N−1) + diag(g_v)/(N−1) = ∂L/∂S,   ∂L/∂A = 2 c T
 *            (centring adds nothing: the columns of c sum to zero, so mean_rows(2cT) = 0)
 *            softmax rows (post, and f = softmax): ∂/∂h = a ⊙ (g − Σ_k g_k a_k)
 *            ∂L_WR/∂Ŵ = 4(G − I)Ŵ,  ∂/∂w_j = g_j/(r_j+ε) − w_j (w_j·g_j)/(r_j (r_j+ε)²)
 *            ∂L/∂W = (∂L/∂Z)ᵀ X,  ∂L/∂b = column sums of ∂L/∂Z
 * Optimizer: Adam in torch's form (θ ← θ − (lr/(1−β₁ᵗ)) m/(√v/√(1−β₂ᵗ) + ε), state in double, as
 * src/lib/ml/kit/optimizers.ts) or plain SGD. The K×K statistics are accumulated in double.
 * Semantics are those of src/lib/ml/infomax.ts (the TF.js step); tests/ml/infomax.test.ts checks
 * the two against each other over 100 steps.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CblasRowMajor 101
#define CblasNoTrans 111
#define CblasTrans 112
extern void cblas_sgemm(int order, int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                        const float *B, int ldb, float beta, float *C, int ldc);

extern void cblas_ssyrk(int order, int uplo, int trans, int N, int K, float alpha, const float *A, int lda, float beta,
                        float *C, int ldc);
extern void cblas_dgemm(int order, int ta, int tb, int M, int N, int K, double alpha, const double *A, int lda,
                        const double *B, int ldb, double beta, double *C, int ldc);

static inline void dgemm(int ta, int tb, int M, int N, int K, double alpha, const double *A, const double *B, double *C) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A,
              ta ? M : K, B, tb ? K : N, 0.0, C, N);
}

static inline void gemm(int ta, int tb, int M, int N, int K, const float *A, const float *B, float *C) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, A,
              ta ? M : K, B, tb ? K : N, 0.0f, C, N);
}

typedef struct {
  int n, K, act, post, tc_mode, opt, maxB;
  double slope, lam_tc, lam_wr, eps, delta, b1, b2, aeps;
  long t;
  float *W, *b;             /* K·n, K */
  double *m, *v;            /* Adam state over (W, b): K·n + K each */
  float *X; long N;         /* training rows (own copy) */
  float *xb, *Z, *A, *Hh, *dZ, *gW, *gb, *Wn, *Gw, *gWn;
  double *c, *c2, *S, *R, *T, *var, *d, *L, *M;
} pim;

void pim_free(void *ctx);

void *pim_create(int n, int K, int act, float slope, int post, int tc_mode, double lam_tc, double lam_wr, double eps,
                 double delta, int opt, double b1, double b2, double aeps, int maxB) {
  pim *p = calloc(1, sizeof(pim));
  if (!p) return NULL;
  p->n = n; p->K = K; p->act = act; p->slope = slope; p->post = post; p->tc_mode = tc_mode; p->lam_tc = lam_tc;
  p->lam_wr = lam_wr; p->eps = eps; p->delta = delta; p->opt = opt; p->b1 = b1; p->b2 = b2; p->aeps = aeps; p->maxB = maxB;
  size_t P = (size_t)K * n + K, BK = (size_t)maxB * K, KK = (size_t)K * K, Kn = (size_t)K * n;
  p->W = calloc(Kn, sizeof(float)); p->b = calloc(K, sizeof(float));
  p->m = calloc(P, sizeof(double)); p->v = calloc(P, sizeof(double));
  p->xb = malloc(sizeof(float) * (size_t)maxB * n);
  p->Z = malloc(sizeof(float) * BK); p->A = malloc(sizeof(float) * BK); p->Hh = malloc(sizeof(float) * BK);
  p->dZ = malloc(sizeof(float) * BK); p->gW = malloc(sizeof(float) * Kn); p->gb = malloc(sizeof(float) * K);
  p->Wn = malloc(sizeof(float) * Kn); p->Gw = malloc(sizeof(float) * KK); p->gWn = malloc(sizeof(float) * Kn);
  p->c = malloc(sizeof(double) * BK); p->c2 = malloc(sizeof(double) * BK); p->S = malloc(sizeof(double) * KK); p->R = malloc(sizeof(double) * KK);
  p->T = malloc(sizeof(double) * KK); p->var = malloc(sizeof(double) * K); p->d = malloc(sizeof(double) * K);
  p->L = malloc(sizeof(double) * KK); p->M = malloc(sizeof(double) * KK);
  if (!p->W || !p->b || !p->m || !p->v || !p->xb || !p->Z || !p->A || !p->Hh || !p->dZ || !p->gW || !p->gb || !p->Wn ||
      !p->Gw || !p->gWn || !p->c || !p->c2 || !p->S || !p->R || !p->T || !p->var || !p->d || !p->L || !p->M) {
    pim_free(p); /* what was allocated before the failure */
    return NULL;
  }
  return p;
}

void pim_free(void *ctx) {
  pim *p = ctx;
  if (!p) return;
  void *all[] = {p->W, p->b, p->m, p->v, p->X, p->xb, p->Z, p->A, p->Hh, p->dZ, p->gW, p->gb, p->Wn, p->Gw, p->gWn,
                 p->c, p->c2, p->S, p->R, p->T, p->var, p->d, p->L, p->M};
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) free(all[i]);
  free(p);
}

void pim_get_params(void *ctx, float *out) {
  pim *p = ctx;
  memcpy(out, p->W, sizeof(float) * (size_t)p->K * p->n);
  memcpy(out + (size_t)p->K * p->n, p->b, sizeof(float) * p->K);
}

/* Sets W and b, and resets the optimizer (t = 0, zero moments). */
void pim_set_params(void *ctx, const float *in) {
  pim *p = ctx;
  size_t Kn = (size_t)p->K * p->n;
  memcpy(p->W, in, sizeof(float) * Kn);
  memcpy(p->b, in + Kn, sizeof(float) * p->K);
  memset(p->m, 0, sizeof(double) * (Kn + p->K));
  memset(p->v, 0, sizeof(double) * (Kn + p->K));
  p->t = 0;
}

/* Optimizer state for resume checkpoints: the step counter and the moments m, v over (W, b). */
long pim_get_opt(void *ctx, double *m, double *v) {
  pim *p = ctx;
  size_t P = (size_t)p->K * p->n + p->K;
  memcpy(m, p->m, sizeof(double) * P);
  memcpy(v, p->v, sizeof(double) * P);
  return p->t;
}

void pim_set_opt(void *ctx, long t, const double *m, const double *v) {
  pim *p = ctx;
  size_t P = (size_t)p->K * p->n + p->K;
  memcpy(p->m, m, sizeof(double) * P);
  memcpy(p->v, v, sizeof(double) * P);
  p->t = t;
}

int pim_set_data(void *ctx, const float *X, long N) {
  pim *p = ctx;
  free(p->X);
  p->X = malloc(sizeof(float) * (size_t)N * p->n);
  if (!p->X) return -1;
  memcpy(p->X, X, sizeof(float) * (size_t)N * p->n);
  p->N = N;
  return 0;
}

static void softmax_rows(float *y, const float *x, int rows, int K) {
  for (int i = 0; i < rows; i++) {
    const float *xi = x + (size_t)i * K;
    float *yi = y + (size_t)i * K;
    float mx = xi[0];
    for (int k = 1; k < K; k++) if (xi[k] > mx) mx = xi[k];
    double s = 0;
    for (int k = 0; k < K; k++) { yi[k] = expf(xi[k] - mx); s += yi[k]; }
    float inv = (float)(1.0 / s);
    for (int k = 0; k < K; k++) yi[k] *= inv;
  }
}

/* a = post ? softmax(f(z)) : f(z) for `rows` rows of x; z, h kept in p->Z / p->Hh when rows ≤ maxB */
static void forward(pim *p, const float *x, int rows, float *Z, float *H, float *A) {
  int K = p->K;
  gemm(0, 1, rows, K, p->n, x, p->W, Z);
  size_t nk = (size_t)rows * K;
  for (int i = 0; i < rows; i++) {
    float *zi = Z + (size_t)i * K;
    for (int k = 0; k < K; k++) zi[k] += p->b[k];
  }
  float s = (float)p->slope;
  switch (p->act) {
    case 0: memcpy(H, Z, sizeof(float) * nk); break;
    case 1: for (size_t i = 0; i < nk; i++) H[i] = Z[i] > 0 ? Z[i] : 0.0f; break;
    case 2: for (size_t i = 0; i < nk; i++) H[i] = Z[i] > 0 ? Z[i] : s * Z[i]; break;
    case 3: softmax_rows(H, Z, rows, K); break;
    case 4: for (size_t i = 0; i < nk; i++) H[i] = tanhf(Z[i]); break;
    case 5: for (size_t i = 0; i < nk; i++) { float z = Z[i]; H[i] = z > 0 ? z + log1pf(expf(-z)) : log1pf(expf(z)); } break;
    case 6: for (size_t i = 0; i < nk; i++) H[i] = 1.0f / (1.0f + expf(-Z[i])); break;
  }
  if (p->post) softmax_rows(A, H, rows, K);
  else if (A != H) memcpy(A, H, sizeof(float) * nk);
}

/* Activations of `rows` rows (chunks of maxB through the batch buffers). */
int pim_forward(void *ctx, const float *X, long rows, float *out) {
  pim *p = ctx;
  for (long r0 = 0; r0 < rows; r0 += p->maxB) {
    int r = (int)(rows - r0 < p->maxB ? rows - r0 : p->maxB);
    forward(p, X + (size_t)r0 * p->n, r, p->Z, p->Hh, out + (size_t)r0 * p->K);
  }
  return 0;
}

/* Cholesky of the K×K matrix M (in place into L, lower); returns 0 or −1 if not positive definite. */
static int cholesky(const double *M, double *L, int K) {
  memset(L, 0, sizeof(double) * (size_t)K * K);
  for (int j = 0; j < K; j++) {
    double s = M[(size_t)j * K + j];
    for (int k = 0; k < j; k++) s -= L[(size_t)j * K + k] * L[(size_t)j * K + k];
    if (!(s > 0)) return -1;
    double ljj = sqrt(s);
    L[(size_t)j * K + j] = ljj;
    for (int i = j + 1; i < K; i++) {
      double t = M[(size_t)i * K + j];
      for (int k = 0; k < j; k++) t -= L[(size_t)i * K + k] * L[(size_t)j * K + k];
      L[(size_t)i * K + j] = t / ljj;
    }
  }
  return 0;
}

/* Inverse of M = L Lᵀ into out (column by column: forward then back substitution). */
static void chol_inverse(const double *L, double *out, int K, double *col) {
  for (int e = 0; e < K; e++) {
    for (int i = 0; i < K; i++) {
      double s = i == e ? 1.0 : 0.0;
      for (int k = 0; k < i; k++) s -= L[(size_t)i * K + k] * col[k];
      col[i] = s / L[(size_t)i * K + i];
    }
    for (int i = K - 1; i >= 0; i--) {
      double s = col[i];
      for (int k = i + 1; k < K; k++) s -= L[(size_t)k * K + i] * col[k];
      col[i] = s / L[(size_t)i * K + i];
    }
    for (int i = 0; i < K; i++) out[(size_t)i * K + e] = col[i];
  }
}

/* Loss of the batch in p->A (bs rows) and, if grad, ∂L/∂Z into p->dZ and ∂L/∂W, ∂L/∂b into gW, gb. */
static int loss_grad(pim *p, const float *xb, int bs, double *losses, int grad) {
  int K = p->K, n = p->n;
  double nm1 = bs - 1.0;
  const float *A = p->A;
  double *c = p->c, *S = p->S, *R = p->R, *T = p->T, *var = p->var, *d = p->d;
  for (int j = 0; j < K; j++) d[j] = 0;
  for (int i = 0; i < bs; i++) for (int j = 0; j < K; j++) d[j] += A[(size_t)i * K + j];
  for (int j = 0; j < K; j++) d[j] /= bs;
  for (int i = 0; i < bs; i++) for (int j = 0; j < K; j++) c[(size_t)i * K + j] = A[(size_t)i * K + j] - d[j];
  dgemm(1, 0, K, K, bs, 1.0, c, c, S);   /* S = cᵀc */
  double LH = 0;
  for (int j = 0; j < K; j++) { var[j] = S[(size_t)j * K + j] / nm1 + p->eps; LH -= log(var[j]); d[j] = 1.0 / sqrt(var[j]); }
  for (int a = 0; a < K; a++) for (int q = 0; q < K; q++) R[(size_t)a * K + q] = S[(size_t)a * K + q] * d[a] * d[q] / nm1;
  double TC = 0;
  double *G = p->M; /* ∂L/∂R */
  if (p->tc_mode == 0) {
    for (int a = 0; a < K; a++) for (int q = 0; q < K; q++) {
      double e = R[(size_t)a * K + q] - (a == q ? 1.0 : 0.0);
      TC += e * e;
      G[(size_t)a * K + q] = 2.0 * p->lam_tc * e;
    }
  } else {
    for (int a = 0; a < K; a++) for (int q = 0; q < K; q++) T[(size_t)a * K + q] = R[(size_t)a * K + q] + (a == q ? p->delta : 0.0);
    if (cholesky(T, p->L, K) != 0) return -2;
    double ld = 0;
    for (int j = 0; j < K; j++) ld += 2.0 * log(p->L[(size_t)j * K + j]);
    TC = -0.5 * ld;
    if (grad) {
      chol_inverse(p->L, G, K, T); /* T as scratch column (K doubles) */
      for (size_t i = 0; i < (size_t)K * K; i++) G[i] *= -0.5 * p->lam_tc;
    }
  }
  /* weight redundancy of the current W (value always, gradient when λ_wr ≠ 0): from the raw Gram
     matrix G = WWᵀ (ssyrk), r_j = √G_jj, Ĝ_pq = G_pq / ((r_p + 1e-8)(r_q + 1e-8)) */
  size_t Kn = (size_t)K * n;
  cblas_ssyrk(CblasRowMajor, 121 /* upper */, CblasNoTrans, K, n, 1.0f, p->W, n, 0.0f, p->Gw, K);
  for (int j = 0; j < K; j++) p->L[j] = sqrt((double)p->Gw[(size_t)j * K + j]); /* row norms (L is free here) */
  double WR = 0;
  for (int a = 0; a < K; a++) for (int q = a; q < K; q++) {
    double g = p->Gw[(size_t)a * K + q] / ((p->L[a] + 1e-8) * (p->L[q] + 1e-8));
    p->Gw[(size_t)a * K + q] = p->Gw[(size_t)q * K + a] = (float)g;
    double e = g - (a == q ? 1.0 : 0.0);
    WR += a == q ? e * e : 2.0 * e * e;
  }
  losses[0] = LH + p->lam_tc * TC + p->lam_wr * WR;
  losses[1] = LH; losses[2] = TC; losses[3] = WR;
  if (!grad) return 0;

  /* T = ∂L/∂S */
  for (int a = 0; a < K; a++) {
    double s = 0;
    for (int q = 0; q < K; q++) s += G[(size_t)a * K + q] * R[(size_t)a * K + q];
    double gv = -(1.0 + s) / var[a];
    for (int q = 0; q < K; q++) T[(size_t)a * K + q] = G[(size_t)a * K + q] * d[a] * d[q] / nm1;
    T[(size_t)a * K + a] += gv / nm1;
  }
  /* ∂L/∂A = 2 c T, then back through the softmax(es) and f into dZ */
  float *dZ = p->dZ;
  double *dA = p->c2;
  dgemm(0, 0, bs, K, K, 2.0, c, T, dA);   /* ∂L/∂A = 2 c T */
  for (int i = 0; i < bs; i++) {
    float *gi = dZ + (size_t)i * K;
    for (int q = 0; q < K; q++) gi[q] = (float)dA[(size_t)i * K + q];
    if (p->post) {
      const float *ai = A + (size_t)i * K;
      double dot = 0;
      for (int k = 0; k < K; k++) dot += (double)gi[k] * ai[k];
      for (int k = 0; k < K; k++) gi[k] = ai[k] * (float)(gi[k] - dot);
    }
    const float *zi = p->Z + (size_t)i * K, *hi = p->Hh + (size_t)i * K;
    switch (p->act) {
      case 0: break;
      case 1: for (int k = 0; k < K; k++) if (!(zi[k] > 0)) gi[k] = 0.0f; break;
      case 2: for (int k = 0; k < K; k++) if (!(zi[k] > 0)) gi[k] *= (float)p->slope; break;
      case 3: {
        double dot = 0;
        for (int k = 0; k < K; k++) dot += (double)gi[k] * hi[k];
        for (int k = 0; k < K; k++) gi[k] = hi[k] * (float)(gi[k] - dot);
        break;
      }
      case 4: for (int k = 0; k < K; k++) gi[k] *= 1.0f - hi[k] * hi[k]; break;
      case 5: for (int k = 0; k < K; k++) gi[k] *= 1.0f / (1.0f + expf(-zi[k])); break;
      case 6: for (int k = 0; k < K; k++) gi[k] *= hi[k] * (1.0f - hi[k]); break;
    }
  }
  gemm(1, 0, K, n, bs, dZ, xb, p->gW);
  for (int k = 0; k < K; k++) p->gb[k] = 0;
  for (int i = 0; i < bs; i++) for (int k = 0; k < K; k++) p->gb[k] += dZ[(size_t)i * K + k];
  if (p->lam_wr != 0) {
    for (int j = 0; j < K; j++) {
      float inv = (float)(1.0 / (p->L[j] + 1e-8));
      const float *w = p->W + (size_t)j * n;
      float *wn = p->Wn + (size_t)j * n;
      for (int k = 0; k < n; k++) wn[k] = w[k] * inv;
    }
    /* gWn = 4 λ_wr (G − I) Ŵ */
    for (int a = 0; a < K; a++) p->Gw[(size_t)a * K + a] -= 1.0f;
    gemm(0, 0, K, n, K, p->Gw, p->Wn, p->gWn);
    float s4 = (float)(4.0 * p->lam_wr);
    for (int j = 0; j < K; j++) {
      double r = p->L[j], re = r + 1e-8;
      const float *w = p->W + (size_t)j * n, *g = p->gWn + (size_t)j * n;
      double wg = 0;
      for (int k = 0; k < n; k++) wg += (double)w[k] * g[k];
      double c1 = s4 / re, c2 = r > 0 ? s4 * wg / (r * re * re) : 0;
      float *gw = p->gW + (size_t)j * n;
      for (int k = 0; k < n; k++) gw[k] += (float)(c1 * g[k] - c2 * w[k]);
    }
  }
  (void)Kn;
  return 0;
}

static void adam_loop(float *restrict th, const float *restrict gr, double *restrict m, double *restrict v, size_t n, double b1,
                      double b2, double step, double ibc2, double eps) {
  for (size_t i = 0; i < n; i++) {
    double g = gr[i];
    double mi = m[i] = b1 * m[i] + (1 - b1) * g;
    double vi = v[i] = b2 * v[i] + (1 - b2) * g * g;
    th[i] = (float)(th[i] - step * mi / (sqrt(vi) * ibc2 + eps));
  }
}

static void update(pim *p, float lr) {
  size_t Kn = (size_t)p->K * p->n, P = Kn + p->K;
  if (p->opt == 1) {
    for (size_t i = 0; i < Kn; i++) p->W[i] = (float)(p->W[i] - (double)lr * p->gW[i]);
    for (int k = 0; k < p->K; k++) p->b[k] = (float)(p->b[k] - (double)lr * p->gb[k]);
    return;
  }
  p->t++;
  double b1 = p->b1, b2 = p->b2, eps = p->aeps;
  double bc1 = 1.0 - pow(b1, (double)p->t), bc2 = sqrt(1.0 - pow(b2, (double)p->t));
  double step = lr / bc1, ibc2 = 1.0 / bc2;
  /* branch-free loops (vectorised): W, then b */
  adam_loop(p->W, p->gW, p->m, p->v, Kn, b1, b2, step, ibc2, eps);
  adam_loop(p->b, p->gb, p->m + Kn, p->v + Kn, (size_t)p->K, b1, b2, step, ibc2, eps);
  (void)P;
}

/* One step on the rows perm[start … start+bs) of the data; losses[4] = total, entropy, tc, wr (before the update). */
int pim_train_batch(void *ctx, const int *perm, long start, int bs, float lr, double *losses) {
  pim *p = ctx;
  if (bs > p->maxB || bs < 2) return -1;
  int n = p->n;
  for (int i = 0; i < bs; i++) memcpy(p->xb + (size_t)i * n, p->X + (size_t)perm[start + i] * n, sizeof(float) * n);
  forward(p, p->xb, bs, p->Z, p->Hh, p->A);
  int rc = loss_grad(p, p->xb, bs, losses, 1);
  if (rc) return rc;
  update(p, lr);
  return 0;
}

/* Loss and gradients (W then b into grads) of the given rows without updating (for tests). */
int pim_grads(void *ctx, const float *X, int bs, double *losses, float *grads) {
  pim *p = ctx;
  if (bs > p->maxB || bs < 2) return -1;
  memcpy(p->xb, X, sizeof(float) * (size_t)bs * p->n);
  forward(p, p->xb, bs, p->Z, p->Hh, p->A);
  int rc = loss_grad(p, p->xb, bs, losses, 1);
  if (rc) return rc;
  size_t Kn = (size_t)p->K * p->n;
  memcpy(grads, p->gW, sizeof(float) * Kn);
  memcpy(grads + Kn, p->gb, sizeof(float) * p->K);
  return 0;
}
