/* The Winograd F(2x2, 3x3) path of es_conv2d_f32 (x86): a 3x3 convolution at stride 1 as 16
 * GEMMs, one per point of a 4x4 transformed tile, each output tile of 2x2 pixels taking 16
 * multiply-adds per input/output channel pair instead of 36 (Lavin and Gray, "Fast
 * Algorithms for Convolutional Neural Networks", 2016):
 *   Y = A^T [ (G g G^T) . (B^T d B) ] A
 * with d a 4x4 input patch at stride 2, g the 3x3 kernel, "." element-wise over the 16
 * points and summed over input channels by the GEMMs. The weights are transformed on every
 * call, so the model's weights keep the one layout every target reads: on an 8x8 map of 64
 * channels that takes about as long as the products, on larger maps a small part. x86 only: the AArch64 targets
 * keep their NEON tiles and small stacks. Included by conv2d.c only. */
#ifndef EDGESPEC_FP32_CONV2D_WINOGRAD_H
#define EDGESPEC_FP32_CONV2D_WINOGRAD_H

#include "gemm_tile.h"

#if !ES_NEON && (defined(__x86_64__) || defined(__i386__))
#define ES_FP32_HAS_WINOGRAD 1

/* Floats of stack scratch of conv2d.c's x86 paths (here: transformed weights, one block's
 * transformed inputs and products; in conv2d.c: a padded copy of the input):
 * src/toolchain/build/fp32Blocking.ts passes a quarter of the target's stack; the default is
 * its choice for an 8 MiB stack. */
#ifndef ES_FP32_SCRATCH
#define ES_FP32_SCRATCH 524288
#endif

/* The rows of the products' tile: gemm_tile.h's, except on a CPU that splits 512-bit
 * multiply-adds, where its 6 rows in 8-lane vectors ran 10-16 % faster than 8 (ResNet18's
 * 56x56 64 -> 64 layers, profile build). */
#ifdef ES_FP32_SPLIT_512
#define WG_MR 6
#else
#define WG_MR ES_TILE_MR
#endif

enum {
  WG_POINTS = 16,      /* points of a transformed 4x4 tile */
  WG_TILES = 2 * WG_MR /* output tiles per block: the GEMMs' rows */
};

/* Floats between two points' planes of transformed weights: one cache line more than the
 * plane, so that the 16 planes do not fall into one set of L1d when ic x oc floats are a
 * multiple of 4 KiB (64 x 64 channels: transforming the weights took 23 us, 9 with this). */
ES_INLINE size_t winograd_weight_plane(int32_t ic, int32_t oc) { return (size_t)ic * oc + 16; }

/* Floats of the path's buffers for output channels in strips of `width`. */
ES_INLINE int64_t winograd_floats(int32_t ic, int32_t width) {
  return (int64_t)WG_POINTS * ((int64_t)ic * width + 16 + (int64_t)WG_TILES * (ic + width));
}

/* The widest strip of output channels (a multiple of 16, or 8) whose buffers fit in
 * ES_FP32_SCRATCH floats, at most oc; 0 when not even 8 fit. */
static int32_t winograd_strip_width(int32_t ic, int32_t oc) {
  int32_t width = oc;
  while (width > 16 && winograd_floats(ic, width) > ES_FP32_SCRATCH) width = (width - 1) / 16 * 16;
  if (winograd_floats(ic, width) > ES_FP32_SCRATCH) width = 8;
  return winograd_floats(ic, width) <= ES_FP32_SCRATCH ? width : 0;
}

/* Whether the path takes this convolution: 3x3, stride and dilation 1, one group, channels in
 * whole vectors, a strip of at least 8 output channels within ES_FP32_SCRATCH floats and a
 * map of at least 16 tiles of 2x2 (on smaller maps transforming the weights costs more than
 * the tiles save), or 24 when the output channels take several strips: each block of tiles
 * reads a strip's transformed weights again, and 16 tiles in blocks of 12 and 4 read them
 * from L3 for little work (7x7, 512 -> 512: 3.9 ms direct, 4.1 ms in strips of 48). */
static int winograd_fits(int32_t kh, int32_t kw, int32_t sh, int32_t sw, int32_t dh, int32_t dw,
                         int32_t groups, int32_t ic, int32_t oc, int32_t oh, int32_t ow) {
  if (kh != 3 || kw != 3 || sh != 1 || sw != 1 || dh != 1 || dw != 1 || groups != 1 || ic % 8 != 0 || oc % 8 != 0)
    return 0;
  const int32_t tiles = (oh + 1) / 2 * ((ow + 1) / 2), strip = winograd_strip_width(ic, oc);
  return strip > 0 && tiles >= 16 && (strip == oc || tiles >= 2 * WG_TILES);
}

/* u[point][c][o] = (G g G^T) for the kernel g of output channel o, input channel c; weights
 * [OC][3][3][IC]. Blocks of 8 output x 8 input channels, each tap's block transposed in
 * registers so that the vectors run over output channels; the blocks of 8 input channels
 * outermost, so that the rows of u they write are finished before the next ones. */
static void winograd_weights(const float *w, int32_t ic, int32_t oc, float *u) {
  const int32_t k = 9 * ic;
  for (int32_t c0 = 0; c0 < ic; c0 += 8)
    for (int32_t o0 = 0; o0 < oc; o0 += 8) {
      es_v8 g[9][8]; /* g[tap][c - c0]: over the 8 output channels */
      for (int t = 0; t < 9; t++) {
        es_v8 r[8];
        for (int i = 0; i < 8; i++) r[i] = es_v8_load(w + (size_t)(o0 + i) * k + t * ic + c0);
        es_v8_transpose8(r);
        for (int i = 0; i < 8; i++) g[t][i] = r[i];
      }
      const es_v8 half = es_v8_splat(0.5f);
      for (int i = 0; i < 8; i++) {
        es_v8 h[4][3]; /* G g */
        for (int x = 0; x < 3; x++) {
          const es_v8 g0 = g[x][i], g1 = g[3 + x][i], g2 = g[6 + x][i];
          h[0][x] = g0;
          h[1][x] = (g0 + g1 + g2) * half;
          h[2][x] = (g0 - g1 + g2) * half;
          h[3][x] = g2;
        }
        float *dst = u + (size_t)(c0 + i) * oc + o0;
        const size_t plane = winograd_weight_plane(ic, oc);
        for (int y = 0; y < 4; y++) {
          const es_v8 u0 = h[y][0], u1 = (h[y][0] + h[y][1] + h[y][2]) * half;
          const es_v8 u2 = (h[y][0] - h[y][1] + h[y][2]) * half, u3 = h[y][2];
          es_v8_store(dst + (4 * y + 0) * plane, &u0);
          es_v8_store(dst + (4 * y + 1) * plane, &u1);
          es_v8_store(dst + (4 * y + 2) * plane, &u2);
          es_v8_store(dst + (4 * y + 3) * plane, &u3);
        }
      }
    }
}

/* Stores B^T d B of one vector of channels at v (points `plane` floats apart). */
ES_INLINE void winograd_input_points(es_v8 d[4][4], float *v, size_t plane) {
  es_v8 e[4][4]; /* B^T d */
#pragma GCC unroll 4
  for (int x = 0; x < 4; x++) {
    e[0][x] = d[0][x] - d[2][x];
    e[1][x] = d[1][x] + d[2][x];
    e[2][x] = d[2][x] - d[1][x];
    e[3][x] = d[1][x] - d[3][x];
  }
#pragma GCC unroll 4
  for (int y = 0; y < 4; y++) {
    const es_v8 t0 = e[y][0] - e[y][2], t1 = e[y][1] + e[y][2];
    const es_v8 t2 = e[y][2] - e[y][1], t3 = e[y][1] - e[y][3];
    es_v8_store(v + (4 * y + 0) * plane, &t0);
    es_v8_store(v + (4 * y + 1) * plane, &t1);
    es_v8_store(v + (4 * y + 2) * plane, &t2);
    es_v8_store(v + (4 * y + 3) * plane, &t3);
  }
}

/* v[point][row][c] = (B^T d B) of the 4x4 input patch at (y0, x0), zeros outside the input. */
static void winograd_input_tile(const float *in, int32_t ih, int32_t iw, int32_t ic, int32_t y0,
                                int32_t x0, float *v, int32_t row) {
  const size_t plane = (size_t)WG_TILES * ic;
  float *dst = v + (size_t)row * ic;
  if (y0 >= 0 && x0 >= 0 && y0 + 4 <= ih && x0 + 4 <= iw) {
    const float *src = in + ((size_t)y0 * iw + x0) * ic;
    for (int32_t c = 0; c < ic; c += 8) {
      es_v8 d[4][4];
#pragma GCC unroll 4
      for (int y = 0; y < 4; y++)
#pragma GCC unroll 4
        for (int x = 0; x < 4; x++) d[y][x] = es_v8_load(src + ((size_t)y * iw + x) * ic + c);
      winograd_input_points(d, dst + c, plane);
    }
    return;
  }
  for (int32_t c = 0; c < ic; c += 8) {
    es_v8 d[4][4];
    for (int y = 0; y < 4; y++)
      for (int x = 0; x < 4; x++) {
        const int32_t iy = y0 + y, ix = x0 + x;
        d[y][x] = iy >= 0 && iy < ih && ix >= 0 && ix < iw ? es_v8_load(in + ((size_t)iy * iw + ix) * ic + c)
                                                           : es_v8_splat(0.0f);
      }
    winograd_input_points(d, dst + c, plane);
  }
}

/* The 2x2 output pixels at (y0, x0) from m[point][row][o] = A^T m A, + bias, clamped, for
 * `width` output channels (pixels `oc` floats apart in out); pixels past the map's last row
 * or column are dropped. */
static void winograd_output_tile(const float *m, int32_t row, const float *bias, float *out,
                                 int32_t oh, int32_t ow, int32_t oc, int32_t width, int32_t y0,
                                 int32_t x0, const es_bounds *b) {
  const size_t plane = (size_t)WG_TILES * width;
  const int whole = y0 + 2 <= oh && x0 + 2 <= ow;
  float *dst = out + ((size_t)y0 * ow + x0) * oc;
  for (int32_t o = 0; o < width; o += 8) {
    const float *src = m + (size_t)row * width + o;
    es_v8 s[2][4]; /* A^T m */
#pragma GCC unroll 4
    for (int x = 0; x < 4; x++) {
      const es_v8 m0 = es_v8_load(src + (0 + x) * plane), m1 = es_v8_load(src + (4 + x) * plane);
      const es_v8 m2 = es_v8_load(src + (8 + x) * plane), m3 = es_v8_load(src + (12 + x) * plane);
      s[0][x] = m0 + m1 + m2;
      s[1][x] = m1 - m2 - m3;
    }
    const es_v8 b0 = bias ? es_v8_load(bias + o) : es_v8_splat(0.0f);
    es_v8 p[2][2];
#pragma GCC unroll 2
    for (int y = 0; y < 2; y++) {
      p[y][0] = b0 + s[y][0] + s[y][1] + s[y][2];
      p[y][1] = b0 + s[y][1] - s[y][2] - s[y][3];
      es_v8_bounds_apply(b, &p[y][0]);
      es_v8_bounds_apply(b, &p[y][1]);
    }
    if (whole) {
      es_v8_store(dst + o, &p[0][0]);
      es_v8_store(dst + oc + o, &p[0][1]);
      es_v8_store(dst + (size_t)ow * oc + o, &p[1][0]);
      es_v8_store(dst + (size_t)(ow + 1) * oc + o, &p[1][1]);
    } else {
      for (int y = 0; y < 2 && y0 + y < oh; y++)
        for (int x = 0; x < 2 && x0 + x < ow; x++) es_v8_store(dst + ((size_t)y * ow + x) * oc + o, &p[y][x]);
    }
  }
}

/* rows x (nv x 8) of m[point] = v[point] u[point], over all k = ic: the tile of gemm_tile.h
 * without its bias, slices and clamp. With those, GCC kept the accumulators in memory at
 * the tile's start and end, a third of the time at k = 16. */
ES_INLINE void winograd_tile(const float *a, int32_t lda, const float *w, int32_t ldw, float *out,
                             int32_t ldo, int32_t k, const int mr, const int nv) {
  es_v8 acc[WG_MR][2];
#pragma GCC unroll 16
  for (int r = 0; r < mr; r++)
#pragma GCC unroll 2
    for (int x = 0; x < nv; x++) acc[r][x] = es_v8_splat(0.0f);
  for (int32_t p = 0; p < k; p++, w += ldw) {
    es_v8 b[2];
#pragma GCC unroll 2
    for (int x = 0; x < nv; x++) b[x] = es_v8_load(w + 8 * x);
#pragma GCC unroll 16
    for (int r = 0; r < mr; r++) {
      const es_v8 ar = es_v8_splat(a[(size_t)r * lda + p]);
#pragma GCC unroll 2
      for (int x = 0; x < nv; x++) acc[r][x] += ar * b[x];
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < mr; r++)
#pragma GCC unroll 2
    for (int x = 0; x < nv; x++) es_v8_store(out + (size_t)r * ldo + 8 * x, &acc[r][x]);
}

/* Rows [0, rows) of m[point] for output channels [o, o + nv x 8), in tiles of MR rows and
 * then 4, 2, 1. */
ES_INLINE void winograd_strip(const float *v, const float *u, float *m, int32_t rows, int32_t ic,
                              int32_t oc, const int nv) {
  int32_t r = 0;
  for (; r + WG_MR <= rows; r += WG_MR) winograd_tile(v + (size_t)r * ic, ic, u, oc, m + (size_t)r * oc, oc, ic, WG_MR, nv);
  if (r + 4 <= rows) winograd_tile(v + (size_t)r * ic, ic, u, oc, m + (size_t)r * oc, oc, ic, 4, nv), r += 4;
  if (r + 2 <= rows) winograd_tile(v + (size_t)r * ic, ic, u, oc, m + (size_t)r * oc, oc, ic, 2, nv), r += 2;
  if (r < rows) winograd_tile(v + (size_t)r * ic, ic, u, oc, m + (size_t)r * oc, oc, ic, 1, nv);
}

/* m[point][r][o] = sum_c v[point][r][c] u[point][c][o] for rows [0, rows) of a block. */
static void winograd_products(const float *v, const float *u, float *m, int32_t rows, int32_t ic,
                              int32_t oc) {
  const size_t vplane = (size_t)WG_TILES * ic, uplane = winograd_weight_plane(ic, oc), mplane = (size_t)WG_TILES * oc;
  for (int pt = 0; pt < WG_POINTS; pt++) {
    const float *vp = v + pt * vplane, *up = u + pt * uplane;
    float *mp = m + pt * mplane;
    int32_t o = 0;
    for (; o + 16 <= oc; o += 16) winograd_strip(vp, up + o, mp + o, rows, ic, oc, 2);
    if (o < oc) winograd_strip(vp, up + o, mp + o, rows, ic, oc, 1); /* 8 columns left */
  }
}

/* One image: out (oh x ow x oc) from in (ih x iw x ic), padding pt/pl; the output channels in
 * strips whose transformed weights fit the stack budget, each strip transforming the input
 * tiles again (with 512 channels in and out: strips of 48, the inputs transformed 11 times,
 * which costs less than the products by about the strip's width over 4). */
static void winograd_conv(const float *in, int32_t ih, int32_t iw, int32_t ic, const float *w,
                          const float *bias, float *out, int32_t oh, int32_t ow, int32_t oc,
                          int32_t pt, int32_t pl, es_bounds bounds) {
  const int32_t strip = winograd_strip_width(ic, oc);
  float u[WG_POINTS * winograd_weight_plane(ic, strip)] __attribute__((aligned(64)));
  float v[WG_POINTS * WG_TILES * ic] __attribute__((aligned(64)));
  float m[WG_POINTS * WG_TILES * strip] __attribute__((aligned(64)));
  const int32_t tw = (ow + 1) / 2, tiles = (oh + 1) / 2 * tw;
  for (int32_t o0 = 0; o0 < oc; o0 += strip) {
    const int32_t width = ES_MIN(strip, oc - o0);
    winograd_weights(w + (size_t)o0 * 9 * ic, ic, width, u);
    for (int32_t t0 = 0; t0 < tiles; t0 += WG_TILES) {
      const int32_t rows = ES_MIN(WG_TILES, tiles - t0);
      for (int32_t r = 0; r < rows; r++) {
        const int32_t t = t0 + r;
        winograd_input_tile(in, ih, iw, ic, t / tw * 2 - pt, t % tw * 2 - pl, v, r);
      }
      winograd_products(v, u, m, rows, ic, width);
      for (int32_t r = 0; r < rows; r++) {
        const int32_t t = t0 + r;
        winograd_output_tile(m, r, bias ? bias + o0 : NULL, out + o0, oh, ow, oc, width, t / tw * 2,
                             t % tw * 2, &bounds);
      }
    }
  }
}

#endif

#endif
