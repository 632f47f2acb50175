#ifndef PB_H
#define PB_H
void pbm_sin(float *out, const float *x, long n, float w);
void pbm_sincos(float *s, float *c, const float *x, long n, float w);
void pbm_tanh(float *out, const float *x, long n);
void pbm_sigmoid(float *out, const float *x, long n);
void pbm_softplus(float *out, const float *x, long n);
void pbm_erf(float *out, const float *x, long n, float scale);
void pbm_exp(float *out, const float *x, long n, float scale);
#endif
