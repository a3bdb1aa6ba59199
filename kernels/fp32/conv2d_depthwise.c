/* es_conv2d_depthwise_f32: one filter per channel, NHWC, weights [KH][KW][C].
 *
 * Every output pixel is computed over runs of channels with the taps that land inside
 * the input, so padding costs nothing and any kernel size, stride and dilation works.
 * 3x3 windows fully inside the input take a faster path: a vector of channels at a time
 * (NEON: 4; elsewhere es_vf: 16 with AVX-512, else 8) with the nine weight vectors held in
 * registers, four output pixels per step. On x86, 3x3 and 5x5 kernels at stride 1 or 2 take
 * it for whole rows, borders included, and 3x3 maps at most 8 wide in whole rows. */
#include "internal.h"

ES_OPTIMIZE_REGISTER_HEAVY

typedef struct {
  const float *in;     /* image n */
  float *out;          /* image n */
  const float *w, *bias;
  int32_t ih, iw, c, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw;
  es_bounds bounds; /* for single channels */
#if ES_NEON
  es_bounds4 bounds4;
#endif
} dw_args;

/* Output pixel (y, x), channels [c0, c1), with the taps clipped to the input. */
static void pixel(const dw_args *a, int32_t y, int32_t x, int32_t c0, int32_t c1) {
  const int32_t iy0 = y * a->sh - a->pt, ix0 = x * a->sw - a->pl;
  int32_t ky0 = 0, ky1 = a->kh, kx0 = 0, kx1 = a->kw;
  while (ky0 < ky1 && iy0 + ky0 * a->dh < 0) ky0++;
  while (ky1 > ky0 && iy0 + (ky1 - 1) * a->dh >= a->ih) ky1--;
  while (kx0 < kx1 && ix0 + kx0 * a->dw < 0) kx0++;
  while (kx1 > kx0 && ix0 + (kx1 - 1) * a->dw >= a->iw) kx1--;
  const int32_t C = a->c;
  float *o = a->out + ((size_t)y * a->ow + x) * C;
  int32_t c = c0;
#if ES_NEON
  for (; c + 16 <= c1; c += 16) {
    float32x4_t acc[4];
    for (int v = 0; v < 4; v++) acc[v] = a->bias ? vld1q_f32(a->bias + c + 4 * v) : vdupq_n_f32(0.0f);
    for (int32_t ky = ky0; ky < ky1; ky++) {
      const float *row = a->in + ((size_t)(iy0 + ky * a->dh) * a->iw + ix0) * C + c;
      const float *wrow = a->w + (size_t)ky * a->kw * C + c;
      for (int32_t kx = kx0; kx < kx1; kx++) {
        const float *ip = row + (size_t)kx * a->dw * C, *wp = wrow + (size_t)kx * C;
        for (int v = 0; v < 4; v++) acc[v] = vfmaq_f32(acc[v], vld1q_f32(ip + 4 * v), vld1q_f32(wp + 4 * v));
      }
    }
    for (int v = 0; v < 4; v++) vst1q_f32(o + c + 4 * v, es_bounds4_apply(&a->bounds4, acc[v]));
  }
  for (; c + 4 <= c1; c += 4) {
    float32x4_t acc = a->bias ? vld1q_f32(a->bias + c) : vdupq_n_f32(0.0f);
    for (int32_t ky = ky0; ky < ky1; ky++) {
      const float *row = a->in + ((size_t)(iy0 + ky * a->dh) * a->iw + ix0) * C + c;
      const float *wrow = a->w + (size_t)ky * a->kw * C + c;
      for (int32_t kx = kx0; kx < kx1; kx++)
        acc = vfmaq_f32(acc, vld1q_f32(row + (size_t)kx * a->dw * C), vld1q_f32(wrow + (size_t)kx * C));
    }
    vst1q_f32(o + c, es_bounds4_apply(&a->bounds4, acc));
  }
#else
  /* Vectors of channels (es_vf, then one es_v8 with AVX-512): with these layers of 8 channels
   * (MLPerf Tiny VWW's first, 48x48x8) spent 70 % of their time in their border pixels,
   * one channel at a time. */
  for (; c + 4 * ES_VF_LANES <= c1; c += 4 * ES_VF_LANES) { /* 4 chains, 1 loop step per 4 */
    es_vf acc[4];
    for (int v = 0; v < 4; v++) acc[v] = a->bias ? es_vf_load(a->bias + c + ES_VF_LANES * v) : es_vf_splat(0.0f);
    for (int32_t ky = ky0; ky < ky1; ky++) {
      const float *row = a->in + ((size_t)(iy0 + ky * a->dh) * a->iw + ix0) * C + c;
      const float *wrow = a->w + (size_t)ky * a->kw * C + c;
      for (int32_t kx = kx0; kx < kx1; kx++) {
        const float *ip = row + (size_t)kx * a->dw * C, *wp = wrow + (size_t)kx * C;
        for (int v = 0; v < 4; v++) acc[v] += es_vf_load(ip + ES_VF_LANES * v) * es_vf_load(wp + ES_VF_LANES * v);
      }
    }
    for (int v = 0; v < 4; v++) {
      es_vf_bounds_apply(&a->bounds, &acc[v]);
      es_vf_store(o + c + ES_VF_LANES * v, &acc[v]);
    }
  }
  for (; c + ES_VF_LANES <= c1; c += ES_VF_LANES) {
    es_vf acc = a->bias ? es_vf_load(a->bias + c) : es_vf_splat(0.0f);
    for (int32_t ky = ky0; ky < ky1; ky++) {
      const float *row = a->in + ((size_t)(iy0 + ky * a->dh) * a->iw + ix0) * C + c;
      const float *wrow = a->w + (size_t)ky * a->kw * C + c;
      for (int32_t kx = kx0; kx < kx1; kx++)
        acc += es_vf_load(row + (size_t)kx * a->dw * C) * es_vf_load(wrow + (size_t)kx * C);
    }
    es_vf_bounds_apply(&a->bounds, &acc);
    es_vf_store(o + c, &acc);
  }
#if ES_VF_LANES == 16
  for (; c + 8 <= c1; c += 8) {
    es_v8 acc = a->bias ? es_v8_load(a->bias + c) : es_v8_splat(0.0f);
    for (int32_t ky = ky0; ky < ky1; ky++) {
      const float *row = a->in + ((size_t)(iy0 + ky * a->dh) * a->iw + ix0) * C + c;
      const float *wrow = a->w + (size_t)ky * a->kw * C + c;
      for (int32_t kx = kx0; kx < kx1; kx++)
        acc += es_v8_load(row + (size_t)kx * a->dw * C) * es_v8_load(wrow + (size_t)kx * C);
    }
    es_v8_bounds_apply(&a->bounds, &acc);
    es_v8_store(o + c, &acc);
  }
#endif
#endif
  for (; c < c1; c++) {
    float acc = a->bias ? a->bias[c] : 0.0f;
    for (int32_t ky = ky0; ky < ky1; ky++)
      for (int32_t kx = kx0; kx < kx1; kx++)
        acc += a->in[((size_t)(iy0 + ky * a->dh) * a->iw + ix0 + kx * a->dw) * C + c] *
               a->w[((size_t)ky * a->kw + kx) * C + c];
    o[c] = es_bounds_apply(a->bounds, acc);
  }
}

/* The vector of channels the 3x3 interior path works on: NEON's 4 lanes, else es_vf. */
#if ES_NEON
#define ES_DW_LANES 4
typedef float32x4_t dw_vec;
typedef es_bounds4 dw_bounds;
ES_INLINE dw_vec dw_load(const float *p) { return vld1q_f32(p); }
ES_INLINE dw_vec dw_zero(void) { return vdupq_n_f32(0.0f); }
ES_INLINE dw_vec dw_fma(dw_vec acc, dw_vec x, dw_vec w) { return vfmaq_f32(acc, x, w); }
ES_INLINE dw_bounds dw_bounds_of(const dw_args *a) { return a->bounds4; }
ES_INLINE void dw_store(const dw_bounds *b, float *p, dw_vec v) { vst1q_f32(p, es_bounds4_apply(b, v)); }
#else
#define ES_DW_LANES ES_VF_LANES
typedef es_vf dw_vec;
typedef es_bounds dw_bounds;
ES_INLINE dw_vec dw_load(const float *p) { return es_vf_load(p); }
ES_INLINE dw_vec dw_zero(void) { return es_vf_splat(0.0f); }
ES_INLINE dw_vec dw_fma(dw_vec acc, dw_vec x, dw_vec w) { return acc + x * w; }
ES_INLINE dw_bounds dw_bounds_of(const dw_args *a) { return a->bounds; }
ES_INLINE void dw_store(const dw_bounds *b, float *p, dw_vec v) {
  es_vf_bounds_apply(b, &v);
  es_vf_store(p, &v);
}
#endif

/* 3x3, dilation 1, output row y, columns [x0, x1) whose windows lie inside the input:
 * channels [0, C - C % ES_DW_LANES) a vector at a time. `stride` is 1 or 2 (a constant when
 * inlined). */
ES_INLINE void interior_3x3(const dw_args *a, int32_t y, int32_t x0, int32_t x1, const int stride) {
  const int32_t C = a->c, c_end = C - C % ES_DW_LANES;
  const size_t pix = (size_t)C; /* floats between neighbouring pixels */
  const dw_bounds bounds = dw_bounds_of(a);
  const int32_t iy0 = y * a->sh - a->pt;
  for (int32_t c = 0; c < c_end; c += ES_DW_LANES) {
    dw_vec w[9];
    for (int t = 0; t < 9; t++) w[t] = dw_load(a->w + (size_t)t * C + c);
    const dw_vec b = a->bias ? dw_load(a->bias + c) : dw_zero();
    const float *rows[3];
    for (int r = 0; r < 3; r++) rows[r] = a->in + (size_t)(iy0 + r) * a->iw * pix + c;
    float *o = a->out + ((size_t)y * a->ow) * pix + c;
    int32_t x = x0;
    for (; x + 4 <= x1; x += 4) {
      const int32_t ix = x * stride - a->pl;
      dw_vec acc[4] = {b, b, b, b};
      for (int r = 0; r < 3; r++) {
        const float *ip = rows[r] + (size_t)ix * pix;
        for (int j = 0; j < 3 * stride + 3; j++) { /* the input columns of the 4 outputs */
          const dw_vec v = dw_load(ip + (size_t)j * pix);
          for (int p = 0; p < 4; p++) {
            const int t = j - p * stride;
            if (t >= 0 && t < 3) acc[p] = dw_fma(acc[p], v, w[r * 3 + t]);
          }
        }
      }
      for (int p = 0; p < 4; p++) dw_store(&bounds, o + (size_t)(x + p) * pix, acc[p]);
    }
    for (; x < x1; x++) {
      const int32_t ix = x * stride - a->pl;
      dw_vec acc = b;
      for (int r = 0; r < 3; r++)
        for (int t = 0; t < 3; t++) acc = dw_fma(acc, dw_load(rows[r] + (size_t)(ix + t) * pix), w[r * 3 + t]);
      dw_store(&bounds, o + (size_t)x * pix, acc);
    }
  }
}

#if defined(__x86_64__) || defined(__i386__)
/* x86 hosts: 3x3 and 5x5 rows whole, borders included (row_kxk). Not on the ARM targets:
 * compiled for NEON it was 5 times the code of interior_3x3 and pixel() (42 KB against 8 KB,
 * GCC 12), where an MLPerf Tiny image holds all its code in 64 KiB, and ran more guest
 * instructions per multiply-add on MobileNetV2's 3x3 layers (1.1 against 0.83: its border
 * blocks test every tap, where pixel() clips the loops). */
#define ES_DW_ROWS 1

/* Output pixels [x, x + np) (np <= 4) of a row_kxk row, four accumulators whatever np is.
 * `checked` (a constant): some of their taps fall outside the input across and are skipped;
 * else every pixel's window lies inside across and np is 4. Each input vector is loaded once
 * for every pixel whose window holds it; the taps are added in the order of pixel() (kernel
 * row, then column), so the sums are the same. */
ES_INLINE void block_kxk(const dw_args *a, const dw_vec *w, dw_vec b, int32_t iy0, int32_t r0, int32_t r1,
                         float *o, int32_t x, int32_t np, int32_t c, const int K, const int stride,
                         const int checked) {
  const size_t pix = (size_t)a->c;
  const int32_t ix0 = x * stride - a->pl;
  dw_vec acc[4] = {b, b, b, b};
#pragma GCC unroll 5
  for (int r = 0; r < K; r++) {
    if (r < r0 || r >= r1) continue;
    const float *row = a->in + (size_t)(iy0 + r) * a->iw * pix + c;
#pragma GCC unroll 16
    for (int j = 0; j < 3 * stride + K; j++) { /* the input columns of the 4 outputs */
      if (checked && (ix0 + j < 0 || ix0 + j >= a->iw)) continue;
      const dw_vec v = dw_load(row + (size_t)(ix0 + j) * pix);
#pragma GCC unroll 4
      for (int p = 0; p < 4; p++) {
        const int t = j - p * stride;
        if (t >= 0 && t < K && (!checked || p < np)) acc[p] = dw_fma(acc[p], v, w[r * K + t]);
      }
    }
  }
  const dw_bounds bounds = dw_bounds_of(a);
  for (int p = 0; p < 4; p++)
    if (!checked || p < np) dw_store(&bounds, o + (size_t)(x + p) * pix, acc[p]);
}

/* K x K (3 or 5, a constant), dilation 1, stride 1 or 2 both ways (a constant), output row y:
 * channels [0, C - C % ES_DW_LANES) a vector at a time, with the K * K weight vectors held in
 * registers, in blocks of four pixels; the kernel rows outside the input are skipped, and in
 * blocks that reach outside [x0, x1) (the columns whose windows lie inside the input across)
 * the columns outside too. EfficientNet-B0's 5x5 layers went through pixel() before, two loads
 * per multiply-add (14x14x672: 221 us alone), and the borders of the 3x3 ones too. */
ES_INLINE void row_kxk(const dw_args *a, int32_t y, int32_t x0, int32_t x1, const int K, const int stride) {
  const int32_t C = a->c, c_end = C - C % ES_DW_LANES;
  const int32_t iy0 = y * stride - a->pt;
  const int32_t r0 = ES_MAX(0, -iy0), r1 = ES_MIN(K, a->ih - iy0);
  for (int32_t c = 0; c < c_end; c += ES_DW_LANES) {
    dw_vec w[25];
#pragma GCC unroll 25
    for (int t = 0; t < K * K; t++) w[t] = dw_load(a->w + (size_t)t * C + c);
    const dw_vec b = a->bias ? dw_load(a->bias + c) : dw_zero();
    float *o = a->out + (size_t)y * a->ow * (size_t)C + c; /* output row y */
    for (int32_t x = 0; x < a->ow; x += 4) {
      const int32_t np = ES_MIN(4, a->ow - x);
      if (x >= x0 && x + 4 <= x1) block_kxk(a, w, b, iy0, r0, r1, o, x, 4, c, K, stride, 0);
      else block_kxk(a, w, b, iy0, r0, r1, o, x, np, c, K, stride, 1);
    }
  }
}

/* row_kxk with K and the stride as constants. */
static void row_fast(const dw_args *a, int32_t y, int32_t x0, int32_t x1) {
  if (a->kh == 3) {
    if (a->sw == 1) row_kxk(a, y, x0, x1, 3, 1);
    else row_kxk(a, y, x0, x1, 3, 2);
  } else {
    if (a->sw == 1) row_kxk(a, y, x0, x1, 5, 1);
    else row_kxk(a, y, x0, x1, 5, 2);
  }
}
#endif

#if !ES_NEON
/* x86: maps at most BLOCK columns wide (KWS's 25x5x64; VWW's 6x6x128 and 3x3x256) take
 * whole output rows, 3x3, dilation 1, stride 1 or 2: one vector of channels at a time, each
 * pixel of the row in its own accumulator, the taps that fall outside the input skipped
 * (rows by their bounds, columns by a check on the constant column index). Each input
 * vector is loaded once and multiplied into every pixel whose window holds it, with one
 * kernel row's three weight vectors live at a time. Before, maps up to 5 wide loaded each
 * input once per tap (KWS 4.6 -> 4.1 us per layer), and wider ones sent their border pixels
 * through pixel(): a 6x6 map has 20 border pixels of 36 (VWW's 6x6x128: 3.4 -> 2.3 us).
 * Wider maps keep the interior path: blocks of 8 there ran slower at 12x12x64 and
 * 24x24x32. The taps are added in the same order as in pixel() (kernel row, then column),
 * so the sums are the same. */
enum { BLOCK = 8 };

/* Output row y (ow = width, a constant), channels [c, c + ES_DW_LANES). */
ES_INLINE void narrow_row_3x3(const dw_args *a, int32_t y, int32_t c, const int stride, const int width) {
  const size_t pix = (size_t)a->c;
  const int32_t iy0 = y * stride - a->pt, ix0 = -a->pl;
  const int32_t r0 = ES_MAX(0, -iy0), r1 = ES_MIN(3, a->ih - iy0);
  const dw_vec b = a->bias ? dw_load(a->bias + c) : dw_zero();
  dw_vec acc[BLOCK];
  for (int p = 0; p < width; p++) acc[p] = b;
  for (int32_t r = r0; r < r1; r++) {
    const float *row = a->in + ((size_t)(iy0 + r) * a->iw + ix0) * pix + c;
    const float *wr = a->w + (size_t)(r * 3) * pix + c;
    const dw_vec w0 = dw_load(wr), w1 = dw_load(wr + pix), w2 = dw_load(wr + 2 * pix);
#pragma GCC unroll 32
    for (int j = 0; j < (width - 1) * stride + 3; j++) { /* the row's input columns */
      if (ix0 + j < 0 || ix0 + j >= a->iw) continue;
      const dw_vec v = dw_load(row + (size_t)j * pix);
#pragma GCC unroll 8
      for (int p = 0; p < width; p++) {
        const int t = j - p * stride;
        if (t == 0) acc[p] = dw_fma(acc[p], v, w0);
        else if (t == 1) acc[p] = dw_fma(acc[p], v, w1);
        else if (t == 2) acc[p] = dw_fma(acc[p], v, w2);
      }
    }
  }
  const dw_bounds bounds = dw_bounds_of(a);
  float *o = a->out + (size_t)y * width * pix + c;
  for (int p = 0; p < width; p++) dw_store(&bounds, o + (size_t)p * pix, acc[p]);
}

/* Output row y of a map at most BLOCK wide: narrow_row_3x3 with the width and the stride as
 * constants, so that every pixel's accumulator stays in a register. */
static void narrow_row(const dw_args *a, int32_t y) {
#define ES_NARROW_WIDTHS(S) \
  for (int32_t c = 0; c < c_end; c += ES_DW_LANES) \
    switch (a->ow) { \
    case 1: narrow_row_3x3(a, y, c, S, 1); break; \
    case 2: narrow_row_3x3(a, y, c, S, 2); break; \
    case 3: narrow_row_3x3(a, y, c, S, 3); break; \
    case 4: narrow_row_3x3(a, y, c, S, 4); break; \
    case 5: narrow_row_3x3(a, y, c, S, 5); break; \
    case 6: narrow_row_3x3(a, y, c, S, 6); break; \
    case 7: narrow_row_3x3(a, y, c, S, 7); break; \
    default: narrow_row_3x3(a, y, c, S, 8); break; \
    }
  const int32_t c_end = a->c - a->c % ES_DW_LANES;
  if (a->sw == 1) ES_NARROW_WIDTHS(1)
  else ES_NARROW_WIDTHS(2)
#undef ES_NARROW_WIDTHS
  if (c_end < a->c)
    for (int32_t x = 0; x < a->ow; x++) pixel(a, y, x, c_end, a->c);
}
#endif

void es_conv2d_depthwise_f32(const float *in, es_shape4 is, const float *weights,
                             const float *bias, float *out, es_shape4 os, int32_t kh, int32_t kw,
                             int32_t stride_h, int32_t stride_w, int32_t pad_top,
                             int32_t pad_left, int32_t dilation_h, int32_t dilation_w,
                             float act_min, float act_max) {
  if (os.n <= 0 || os.h <= 0 || os.w <= 0 || os.c <= 0 || kh <= 0 || kw <= 0 || stride_h <= 0 ||
      stride_w <= 0 || dilation_h <= 0 || dilation_w <= 0 || is.c != os.c)
    return;
  dw_args a = {0, 0, weights, bias, is.h, is.w, is.c, os.h, os.w, kh, kw, stride_h, stride_w,
               pad_top, pad_left, dilation_h, dilation_w, es_bounds_make(act_min, act_max)
#if ES_NEON
               , es_bounds4_make(act_min, act_max)
#endif
  };
  /* Rows and columns whose whole window lies inside the input. */
#ifndef ES_DW_ROWS
  const int32_t y_lo = ES_MIN(os.h, es_first_valid_out(pad_top, 0, dilation_h, stride_h));
  const int32_t y_hi = ES_MAX(y_lo, ES_MIN(os.h, es_end_valid_out(is.h, pad_top, kh - 1, dilation_h, stride_h)));
#endif
  const int32_t x_lo = ES_MIN(os.w, es_first_valid_out(pad_left, 0, dilation_w, stride_w));
  const int32_t x_hi = ES_MAX(x_lo, ES_MIN(os.w, es_end_valid_out(is.w, pad_left, kw - 1, dilation_w, stride_w)));
  const int square = kh == kw && dilation_h == 1 && dilation_w == 1 && stride_h == stride_w &&
                     (stride_w == 1 || stride_w == 2) && is.c >= ES_DW_LANES;
  const int fast = square && kh == 3;
  const int32_t tail = os.c % ES_DW_LANES;
#if !ES_NEON
  const int narrow = fast && os.w <= BLOCK;
#endif
#ifdef ES_DW_ROWS
  const int whole_rows = square && (kh == 3 || kh == 5);
#endif

  for (int32_t n = 0; n < os.n; n++) {
    a.in = in + (size_t)n * is.h * is.w * is.c;
    a.out = out + (size_t)n * os.h * os.w * os.c;
    for (int32_t y = 0; y < os.h; y++) {
#if !ES_NEON
      if (narrow) {
        narrow_row(&a, y);
        continue;
      }
#endif
#ifdef ES_DW_ROWS
      if (whole_rows) {
        row_fast(&a, y, x_lo, x_hi);
        if (tail)
          for (int32_t x = 0; x < os.w; x++) pixel(&a, y, x, os.c - tail, os.c);
        continue;
      }
#else
      if (fast && y >= y_lo && y < y_hi && x_hi > x_lo) {
        for (int32_t x = 0; x < x_lo; x++) pixel(&a, y, x, 0, os.c);
        if (stride_w == 1) interior_3x3(&a, y, x_lo, x_hi, 1);
        else interior_3x3(&a, y, x_lo, x_hi, 2);
        if (tail)
          for (int32_t x = x_lo; x < x_hi; x++) pixel(&a, y, x, os.c - tail, os.c);
        for (int32_t x = x_hi; x < os.w; x++) pixel(&a, y, x, 0, os.c);
        continue;
      }
#endif
      for (int32_t x = 0; x < os.w; x++) pixel(&a, y, x, 0, os.c);
    }
  }
}
