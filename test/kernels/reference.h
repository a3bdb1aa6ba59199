/* Naive double-precision references for the fp32 kernels: straight from the definitions in
 * src/common/ops.json, no blocking, no shortcuts. */
#ifndef EDGESPEC_TEST_REFERENCE_H
#define EDGESPEC_TEST_REFERENCE_H

#include <stdint.h>

#include "edgespec/kernels.h"

double ref_clamp(double v, double lo, double hi);
void ref_conv2d(const float *in, es_shape4 is, const float *w, const float *bias, double *out,
                es_shape4 os, int kh, int kw, int sh, int sw, int pt, int pl, int dh, int dw,
                int groups, double lo, double hi);
void ref_depthwise(const float *in, es_shape4 is, const float *w, const float *bias, double *out,
                   es_shape4 os, int kh, int kw, int sh, int sw, int pt, int pl, int dh, int dw,
                   double lo, double hi);
void ref_gemm(const float *a, const float *w, const float *bias, double *out, int m, int k, int n,
              double lo, double hi);
/* op: '+', '-', '*', '/', 'M' (maximum), 'm' (minimum), 'p' (prelu: a >= 0 ? a : a * b). */
void ref_binary(char op, const float *a, const int32_t as[4], const float *b, const int32_t bs[4],
                double *out, const int32_t shape[4], double lo, double hi);
void ref_max_pool(const float *in, es_shape4 is, double *out, es_shape4 os, int kh, int kw, int sh,
                  int sw, int pt, int pl, int dh, int dw);
void ref_avg_pool(const float *in, es_shape4 is, double *out, es_shape4 os, int kh, int kw, int sh,
                  int sw, int pt, int pl, int pb, int pr, int count_include_pad, int divisor_override);
void ref_adaptive_avg_pool(const float *in, es_shape4 is, double *out, es_shape4 os);
void ref_softmax(const float *in, double *out, int outer, int axis, int inner);
void ref_transpose(const float *in, const int32_t *shape, const int32_t *perm, int rank, double *out);
void ref_pad(const float *in, const int32_t *shape, const int32_t *pads, int rank, double value,
             double *out);

#endif
