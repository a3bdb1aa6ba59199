/* es_conv2d_s8: general convolution as a GEMM of patches.
 *
 * Per group, blocks of 4 consecutive output pixels gather their patch rows (KH*KW*ICg
 * values in the weights' [KH][KW][ICg] order, in_zp where the window leaves the input)
 * into a stack buffer, and the 4 x 4 tile of tile_s8.h multiplies them by 4 output
 * channels' weight rows at a time. Reductions longer than KC are cut into slices whose
 * int32 partial sums wait in `partial`; output channels are taken OCC at a time so that
 * both buffers stay small (about 15 KiB of stack in all).
 * With AVX-512 VNNI, a reduction of at most PANEL_KMAX and enough pixels, each group's output channels
 * are packed 32 at a time (panel_vnni.h) and blocks of 8 pixels gathered for each. With AVX2
 * (no VNNI) and a reduction of at most PANEL2_KMAX, blocks of 6 pixels are gathered, widened
 * to int16 and multiplied by chunks of packed int16 panels (panel_avx2.h). */
#include "panel_avx2.h"
#include "panel_vnni.h"
#include "tile_s8.h"

ES_S8_REGISTER_HEAVY
/* Keeps GCC from turning copy_bytes and fill_bytes back into memcpy and memset calls. */
#pragma GCC optimize("no-tree-loop-distribute-patterns")

enum {
  KC = 2048, /* patch bytes per row and slice */
  OCC = 256  /* output channels per chunk */
};

typedef struct {
  const int8_t *in;
  int32_t ih, iw, ic, ow, kh, kw, sh, sw, pt, pl, dh, dw, icg, k;
  int8_t zp;
} patch_args;

/* n bytes, 16 at a time: fixed-size copies become single vector loads and stores, where
 * picolibc's memcpy and memset on bare metal cost about 7 instructions per byte. */
static inline void copy_bytes(int8_t *dst, const int8_t *src, int32_t n) {
  for (; n >= 16; n -= 16, dst += 16, src += 16) memcpy(dst, src, 16);
  if (n >= 8) memcpy(dst, src, 8), dst += 8, src += 8, n -= 8;
  if (n >= 4) memcpy(dst, src, 4), dst += 4, src += 4, n -= 4;
  for (; n > 0; n--) *dst++ = *src++;
}

static inline void fill_bytes(int8_t *dst, int8_t value, int32_t n) {
  int8_t pattern[16];
  for (int i = 0; i < 16; i++) pattern[i] = value;
  for (; n >= 16; n -= 16, dst += 16) memcpy(dst, pattern, 16);
  for (; n > 0; n--) *dst++ = value;
}

/* Bytes [kb, kb + len) of a patch row: copied from src, or in_zp if src is NULL; only the
 * part inside the slice [k0, k0 + kc) is written, at row + (kb - k0). */
static inline void put(const patch_args *p, int8_t *row, int32_t k0, int32_t kc, int32_t kb, const int8_t *src, int32_t len) {
  int32_t lo = kb > k0 ? kb : k0, hi = kb + len < k0 + kc ? kb + len : k0 + kc;
  if (lo >= hi) return;
  if (src) copy_bytes(row + (lo - k0), src + (lo - kb), hi - lo);
  else fill_bytes(row + (lo - k0), p->zp, hi - lo);
}

/* The slice [k0, k0 + kc) of the patch row of output pixel `pixel` (of one image) for the
 * input channels starting at `c0` (the group's). */
static void gather(const patch_args *p, int32_t pixel, int32_t c0, int32_t k0, int32_t kc, int8_t *row) {
  const int32_t y0 = pixel / p->ow * p->sh - p->pt, x0 = pixel % p->ow * p->sw - p->pl;
  const int32_t row_len = p->kw * p->icg; /* patch bytes per kernel row */
  const int merged = p->dw == 1 && p->icg == p->ic; /* a kernel row is one span of the input */
  for (int32_t ky = 0; ky < p->kh; ky++) {
    const int32_t kb = ky * row_len;
    if (kb >= k0 + kc || kb + row_len <= k0) continue;
    const int32_t y = y0 + ky * p->dh;
    if (y < 0 || y >= p->ih) {
      put(p, row, k0, kc, kb, NULL, row_len);
      continue;
    }
    const int8_t *line = p->in + (size_t)y * p->iw * p->ic + c0;
    if (merged) {
      /* Taps [first, last) lie inside the input. */
      const int32_t first = x0 < 0 ? (-x0 < p->kw ? -x0 : p->kw) : 0;
      const int32_t last = p->iw - x0 < p->kw ? (p->iw - x0 > first ? p->iw - x0 : first) : p->kw;
      put(p, row, k0, kc, kb, NULL, first * p->icg);
      put(p, row, k0, kc, kb + first * p->icg, line + (ptrdiff_t)(x0 + first) * p->ic, (last - first) * p->icg);
      put(p, row, k0, kc, kb + last * p->icg, NULL, (p->kw - last) * p->icg);
      continue;
    }
    for (int32_t kx = 0; kx < p->kw; kx++) {
      const int32_t x = x0 + kx * p->dw;
      put(p, row, k0, kc, kb + kx * p->icg, x < 0 || x >= p->iw ? NULL : line + (ptrdiff_t)x * p->ic, p->icg);
    }
  }
}

#if defined(ES_S8_AVX2)
typedef struct {
  const patch_args *p;
  int32_t c0;
} conv_rows;

/* Row `pixel` of the patch matrix of one group, gathered and widened to int16. */
static void gather_widened(const void *ctx, int32_t pixel, int16_t *dst) {
  const conv_rows *c = ctx;
  int8_t row[PANEL2_KMAX + 16] __attribute__((aligned(32))); /* + 16: widened 16 at a time */
  gather(c->p, pixel, c->c0, 0, c->p->k, row);
  es_s8_widen_row_over(dst, row, c->p->k);
}
#endif

void es_conv2d_s8(const int8_t *in, es_shape4 is, int32_t in_zp, const int8_t *weights,
                  const int32_t *bias, int8_t *out, es_shape4 os, int32_t kh, int32_t kw,
                  int32_t stride_h, int32_t stride_w, int32_t pad_top, int32_t pad_left,
                  int32_t dilation_h, int32_t dilation_w, int32_t groups, int32_t out_zp,
                  const int32_t *mult, const int8_t *shift, int32_t act_min, int32_t act_max) {
  const int32_t icg = is.c / groups, ocg = os.c / groups, k = kh * kw * icg;
  const int32_t pixels = os.h * os.w;
  if (pixels <= 0 || os.c <= 0) return;
  const es_s8_output o = {out_zp, act_min, act_max};
#if defined(ES_S8_VNNI)
  if (k <= PANEL_KMAX && pixels >= PANEL_MIN_ROWS) {
    es_s8_panel panel;
    int8_t rows_buf[PANEL_MR][PANEL_KMAX];
    for (int32_t b = 0; b < os.n; b++) {
      const patch_args p = {in + (size_t)b * is.h * is.w * is.c, is.h, is.w, is.c, os.w, kh, kw, stride_h, stride_w,
                            pad_top, pad_left, dilation_h, dilation_w, icg, k, (int8_t)in_zp};
      int8_t *out_b = out + (size_t)b * pixels * os.c;
      for (int32_t g = 0; g < groups; g++) {
        const int8_t *wg = weights + (size_t)g * ocg * k;
        for (int32_t n0 = 0; n0 < ocg; n0 += PANEL_N) {
          es_s8_panel_pack(&panel, wg, k, n0, ocg - n0 < PANEL_N ? ocg - n0 : PANEL_N, bias ? bias + g * ocg : NULL,
                           mult + g * ocg, shift + g * ocg);
          for (int32_t p0 = 0; p0 < pixels; p0 += PANEL_MR) {
            const int32_t rows = pixels - p0 < PANEL_MR ? pixels - p0 : PANEL_MR;
            const int8_t *rp[PANEL_MR];
            for (int32_t r = 0; r < PANEL_MR; r++) {
              if (r < rows) gather(&p, p0 + r, g * icg, 0, k, rows_buf[r]);
              rp[r] = rows_buf[r < rows ? r : rows - 1];
            }
            es_s8_panel_rows(&panel, rp, rows, &o, out_b + (size_t)p0 * os.c + g * ocg + n0, os.c);
          }
        }
      }
    }
    return;
  }
#elif defined(ES_S8_AVX2)
  if (k <= PANEL2_KMAX) {
    for (int32_t b = 0; b < os.n; b++) {
      const patch_args p = {in + (size_t)b * is.h * is.w * is.c, is.h, is.w, is.c, os.w, kh, kw, stride_h, stride_w,
                            pad_top, pad_left, dilation_h, dilation_w, icg, k, (int8_t)in_zp};
      for (int32_t g = 0; g < groups; g++) {
        const conv_rows rows = {&p, g * icg};
        es_s8_panel2_matmul(&rows, gather_widened, pixels, k, weights + (size_t)g * ocg * k, ocg,
                            bias ? bias + g * ocg : NULL, mult + g * ocg, shift + g * ocg, &o,
                            out + (size_t)b * pixels * os.c + g * ocg, os.c);
      }
    }
    return;
  }
#endif
  int8_t patch[4][KC];
  int32_t partial[OCC / 4][16];
  es_s8_columns columns[OCC / 4];
  for (int32_t b = 0; b < os.n; b++) {
    const patch_args p = {in + (size_t)b * is.h * is.w * is.c, is.h, is.w, is.c, os.w, kh, kw, stride_h, stride_w,
                          pad_top, pad_left, dilation_h, dilation_w, icg, k, (int8_t)in_zp};
    int8_t *out_b = out + (size_t)b * pixels * os.c;
    for (int32_t g = 0; g < groups; g++) {
      for (int32_t c0 = 0; c0 < ocg; c0 += OCC) {
        const int32_t chunk = ocg - c0 < OCC ? ocg - c0 : OCC;
        const int32_t oc0 = g * ocg + c0; /* first output channel of the chunk */
        for (int32_t j0 = 0; j0 < chunk; j0 += 4)
          es_s8_columns_make(&columns[j0 / 4], weights + (size_t)oc0 * k, k, bias ? bias + oc0 : NULL, mult + oc0,
                             shift + oc0, j0, chunk - j0 < 4 ? chunk - j0 : 4);
        for (int32_t p0 = 0; p0 < pixels; p0 += 4) {
          const int32_t rows = pixels - p0 < 4 ? pixels - p0 : 4;
          const int8_t *rp[4];
          for (int32_t r = 0; r < 4; r++) rp[r] = patch[r < rows ? r : rows - 1];
          for (int32_t k0 = 0; k0 < k; k0 += KC) {
            const int32_t kc = k - k0 < KC ? k - k0 : KC;
            const int last_slice = k0 + kc >= k;
            for (int32_t r = 0; r < rows; r++) gather(&p, p0 + r, g * icg, k0, kc, patch[r]);
            for (int32_t j0 = 0; j0 < chunk; j0 += 4) {
              const int32_t cols = chunk - j0 < 4 ? chunk - j0 : 4;
              const int8_t *w[4];
              for (int32_t j = 0; j < 4; j++) w[j] = weights + (size_t)(oc0 + j0 + (j < cols ? j : cols - 1)) * k + k0;
              es_s8_tile t = k0 == 0 ? es_s8_tile_zero() : es_s8_tile_load(partial[j0 / 4]);
              es_s8_tile_dot(&t, rp, w, kc);
              if (last_slice) es_s8_tile_store(&t, &columns[j0 / 4], &o, out_b + (size_t)p0 * os.c + oc0 + j0, os.c, rows, cols);
              else es_s8_tile_save(&t, partial[j0 / 4]);
            }
          }
        }
      }
    }
  }
}
