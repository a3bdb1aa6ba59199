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
 * (no VNNI), blocks of 6 pixels read their patches from bands of the input widened to int16
 * (conv_avx2_bands) and are multiplied by chunks of packed int16 panels (panel_avx2.h). */
#include "panel_avx2.h"
#include "panel_vnni.h"
#include "tile_s8.h"
#include "edgespec/pool_window.h"

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
/* copy_bytes and fill_bytes out of line, for the gather and the band copy (image size). */
static __attribute__((noinline, noclone)) void copy_run(int8_t *dst, const int8_t *src, int32_t n) { copy_bytes(dst, src, n); }
static __attribute__((noinline, noclone)) void fill_run(int8_t *dst, int8_t value, int32_t n) { fill_bytes(dst, value, n); }

static inline void put(const patch_args *p, int8_t *row, int32_t k0, int32_t kc, int32_t kb, const int8_t *src, int32_t len) {
  int32_t lo = kb > k0 ? kb : k0, hi = kb + len < k0 + kc ? kb + len : k0 + kc;
  if (lo >= hi) return;
  if (src) copy_run(row + (lo - k0), src + (lo - kb), hi - lo);
  else fill_run(row + (lo - k0), p->zp, hi - lo);
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

#if defined(ES_S8_VNNI)
/* The whole patch row of `pixel` for the group's input channels from c0 on, sign bits
 * flipped for vpdpbusd (panel_vnni.h), in_zp where the window leaves the input: one
 * vector copy per kernel row when a kernel row is one span of the input (one group,
 * dilation_w 1), else one per tap. */
static inline void gather_flipped(const patch_args *p, int32_t y0, int32_t x0, int32_t c0, uint8_t *row) {
  const int32_t row_len = p->kw * p->icg;
  const int merged = p->dw == 1 && p->icg == p->ic;
  const int8_t *end = p->in + (size_t)p->ih * p->iw * p->ic;
  if (merged && x0 >= 0 && x0 + p->kw <= p->iw && y0 >= 0 && y0 + (p->kh - 1) * p->dh < p->ih) {
    const int8_t *src = p->in + ((size_t)y0 * p->iw + x0) * p->ic + c0;
    for (int32_t ky = 0; ky < p->kh; ky++, row += row_len, src += (size_t)p->dh * p->iw * p->ic) es_s8_flip_copy(row, src, row_len, end);
    return;
  }
  for (int32_t ky = 0; ky < p->kh; ky++, row += row_len) {
    const int32_t y = y0 + ky * p->dh;
    if (y < 0 || y >= p->ih) {
      es_s8_flip_fill(row, p->zp, row_len);
      continue;
    }
    const int8_t *line = p->in + (size_t)y * p->iw * p->ic + c0;
    if (merged) {
      int32_t first, last;
      es_pool_taps_inside(x0, p->iw, p->kw, 1, &first, &last);
      if (last <= first) first = last = p->kw;
      if (first > 0) es_s8_flip_fill(row, p->zp, first * p->icg);
      es_s8_flip_copy(row + first * p->icg, line + (ptrdiff_t)(x0 + first) * p->ic, (last - first) * p->icg, end);
      if (last < p->kw) es_s8_flip_fill(row + last * p->icg, p->zp, (p->kw - last) * p->icg);
      continue;
    }
    for (int32_t kx = 0; kx < p->kw; kx++) {
      const int32_t x = x0 + kx * p->dw;
      if (x < 0 || x >= p->iw) es_s8_flip_fill(row + kx * p->icg, p->zp, p->icg);
      else es_s8_flip_copy(row + kx * p->icg, line + (ptrdiff_t)x * p->ic, p->icg, end);
    }
  }
}
#endif

#if defined(ES_S8_VNNI)
enum {
  PADDED_BYTES = 1 << 18, /* the padded copy of one image's input, at most */
  PADDED_SEGMENTS = 64    /* patch row segments (kernel rows, or taps when they are not one span) */
};

/* The patch rows read in place: the image's input is copied once with its padding (in_zp)
 * and sign bits flipped, and each output pixel's patch row is nseg segments of it (a
 * kernel row of kw * icg bytes when that is one span of the input, else a tap's icg
 * bytes), found from the pixel's position; the panels hold each segment's weights padded
 * to a multiple of 4 (the bytes read past a segment meet zero weights). Nothing is
 * gathered per pixel. Returns 0 (nothing done) when the copy or the packed reduction does
 * not fit. */
static int conv_vnni_padded(const int8_t *in, es_shape4 is, int32_t in_zp, const int8_t *weights, const int32_t *bias,
                            int8_t *out, es_shape4 os, int32_t kh, int32_t kw, int32_t stride_h, int32_t stride_w,
                            int32_t pad_top, int32_t pad_left, int32_t dilation_h, int32_t dilation_w, int32_t groups,
                            const int32_t *mult, const int8_t *shift, const es_s8_output *o, int32_t pack_slot) {
  const int32_t icg = is.c / groups, ocg = os.c / groups, k = kh * kw * icg;
  const int merged = dilation_w == 1 && groups == 1;
  const int32_t seg_len = merged ? kw * icg : icg, nseg = merged ? kh : kh * kw, k4 = nseg * ((seg_len + 3) / 4);
  const int32_t rows = (os.h - 1) * stride_h + (kh - 1) * dilation_h + 1;
  const int32_t cols = (os.w - 1) * stride_w + (kw - 1) * dilation_w + 1;
  const size_t pitch = (size_t)cols * is.c, bytes = (size_t)rows * pitch + 64; /* + 64: the last segment's last step */
  if (4 * k4 > PANEL_KMAX || nseg > PADDED_SEGMENTS || bytes > PADDED_BYTES) return 0;
  uint8_t padded[PADDED_BYTES] __attribute__((aligned(64)));
  es_s8_panel_room room;
  const es_s8_packed *cached = es_s8_panel_cache(pack_slot, weights, k, seg_len, groups, ocg, bias, mult, shift);
  ptrdiff_t seg_off[PADDED_SEGMENTS];
  for (int32_t s = 0; s < nseg; s++)
    seg_off[s] = merged ? (ptrdiff_t)s * dilation_h * pitch
                        : (ptrdiff_t)(s / kw) * dilation_h * pitch + (ptrdiff_t)(s % kw) * dilation_w * is.c;
  const int32_t pixels = os.h * os.w, per_set = es_s8_panel_set_columns(4 * k4);
  /* columns [lo, hi) of a padded row hold input columns lo - pad_left .. */
  const int32_t lo = pad_left < cols ? pad_left : cols, hi = is.w + pad_left < cols ? is.w + pad_left : cols;
  for (int32_t b = 0; b < os.n; b++) {
    const int8_t *in_b = in + (size_t)b * is.h * is.w * is.c;
    for (int32_t y = 0; y < rows; y++) {
      /* where a row has input, padded column lo = pad_left is its column 0 */
      const int32_t iy = y - pad_top, inside = iy >= 0 && iy < is.h && lo < hi;
      es_s8_flip_pad_row(padded + (size_t)y * pitch, (int32_t)pitch, inside ? lo * is.c : 0, inside ? hi * is.c : 0,
                         inside ? in_b + (size_t)iy * is.w * is.c : NULL, (int8_t)in_zp);
    }
    es_s8_flip_fill(padded + (size_t)rows * pitch, (int8_t)in_zp, 64);
    for (int32_t g = 0; g < groups; g++) {
      for (int32_t n0 = 0; n0 < ocg; n0 += per_set) {
        const es_s8_panel_set set = cached ? cached->set[g * cached->chunks + n0 / per_set]
                                           : es_s8_panel_pack_group(room.w, room.c, weights, k, seg_len, ocg, g, n0, per_set,
                                                                    bias, mult, shift);
        int8_t *out_g = out + (size_t)b * pixels * os.c + g * ocg + n0;
        int32_t oy = 0, ox = 0;
        for (int32_t p0 = 0; p0 < pixels; p0 += PANEL_MR) {
          const int32_t n = pixels - p0 < PANEL_MR ? pixels - p0 : PANEL_MR;
          const uint8_t *a[PANEL_MR];
          for (int32_t r = 0; r < PANEL_MR; r++) {
            a[r] = padded + (size_t)oy * stride_h * pitch + (size_t)ox * stride_w * is.c + g * icg;
            if (r + 1 < n && ++ox == os.w) ox = 0, oy++; /* rows past n repeat the last pixel */
          }
          if (++ox == os.w) ox = 0, oy++;
          es_s8_panel_set_rows_seg(&set, a, seg_off, nseg, n, o, out_g + (size_t)p0 * os.c, os.c);
        }
      }
    }
  }
  return 1;
}
#endif

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

enum { BAND_VALUES = 1 << 16 }; /* int16 values of the widened input band */

/* n int8 values widened to int16 (no reads past src + n). */
static inline void widen_span(int16_t *dst, const int8_t *src, int32_t n) {
  int32_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256((__m256i *)(dst + i), _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(src + i))));
  for (; i < n; i++) dst[i] = src[i];
}

static inline void fill_span(int16_t *dst, int16_t value, int32_t n) {
  const __m256i v = _mm256_set1_epi16(value);
  int32_t i = 0;
  for (; i + 16 <= n; i += 16) _mm256_storeu_si256((__m256i *)(dst + i), v);
  for (; i < n; i++) dst[i] = value;
}

/* Input rows y0 .. y0 + rows - 1 (they may lie outside the input: in_zp) of one group's
 * channels [c0, c0 + icg), columns -pad_left .. -pad_left + wp - 1, widened to int16 into
 * band[rows][wp][icg]. */
static void widen_band(const patch_args *p, int32_t c0, int32_t y0, int32_t rows, int32_t wp, int16_t *band) {
  const int32_t x_lo = -p->pl, in_lo = x_lo < 0 ? 0 : x_lo, in_hi = x_lo + wp < p->iw ? x_lo + wp : p->iw;
  for (int32_t r = 0; r < rows; r++) {
    int16_t *dst = band + (size_t)r * wp * p->icg;
    const int32_t y = y0 + r;
    if (y < 0 || y >= p->ih || in_lo >= in_hi) {
      fill_span(dst, p->zp, wp * p->icg);
      continue;
    }
    fill_span(dst, p->zp, (in_lo - x_lo) * p->icg);
    const int8_t *line = p->in + ((size_t)y * p->iw + in_lo) * p->ic + c0;
    int16_t *inside = dst + (size_t)(in_lo - x_lo) * p->icg;
    if (p->icg == p->ic) {
      widen_span(inside, line, (in_hi - in_lo) * p->ic);
    } else {
      for (int32_t x = 0; x < in_hi - in_lo; x++) widen_span(inside + (size_t)x * p->icg, line + (size_t)x * p->ic, p->icg);
    }
    fill_span(dst + (size_t)(in_hi - x_lo) * p->icg, p->zp, (x_lo + wp - in_hi) * p->icg);
  }
}

/* The AVX2 path without gathering: per group, the input is widened to int16 once, in bands
 * of output rows whose input rows fit in BAND_VALUES, and each block of PANEL2_MR output
 * pixels reads its patch straight from the band, as kh spans of kw * icg values (dilation
 * 1 in x) or kh * kw spans of icg values: the segments of es_s8_panel2_rows, with the
 * weights packed to match (a span of odd length gets a zero weight at its end; the value it
 * meets is the next one in the band, which holds BAND_SLACK values past its last row).
 * Returns 0, having done nothing, when one output row's input rows do not fit or the padded
 * reduction is longer than PANEL2_KMAX. */
static __attribute__((noinline)) int conv_avx2_bands(const patch_args *p, int32_t batch, int32_t groups, int32_t oh,
                                                     int32_t ocg, const int8_t *weights, const int32_t *bias,
                                                     const int32_t *mult, const int8_t *shift, const es_s8_output *o,
                                                     int8_t *out, int32_t oc) {
  enum { BAND_SLACK = 16, MAX_SEGMENTS = 256 };
  const int32_t merged = p->dw == 1, nseg = merged ? p->kh : p->kh * p->kw;
  const int32_t seg_len = merged ? p->kw * p->icg : p->icg, seg2 = (seg_len + 1) / 2, kp2 = nseg * seg2;
  const int32_t wp = (p->ow - 1) * p->sw + (p->kw - 1) * p->dw + 1; /* band columns */
  const int32_t span_h = (p->kh - 1) * p->dh + 1;                   /* input rows of one output row */
  if (kp2 * 2 > PANEL2_KMAX || nseg > MAX_SEGMENTS || (int64_t)span_h * wp * p->icg + BAND_SLACK > BAND_VALUES) return 0;
  const int32_t row_values = wp * p->icg;
  int32_t band_oh = ((BAND_VALUES - BAND_SLACK) / row_values - span_h) / p->sh + 1; /* output rows per band */
  if (band_oh > oh) band_oh = oh;
  const int32_t band_rows = (band_oh - 1) * p->sh + span_h;
  ptrdiff_t seg_off[MAX_SEGMENTS];
  for (int32_t s = 0; s < nseg; s++) {
    const int32_t ky = merged ? s : s / p->kw, kx = merged ? 0 : s % p->kw;
    seg_off[s] = ((ptrdiff_t)ky * p->dh * wp + (ptrdiff_t)kx * p->dw) * p->icg;
  }
  const int32_t chunk = es_s8_panel2_chunk(kp2, ocg);
  int16_t packed[(size_t)chunk * kp2 * 2] __attribute__((aligned(32)));
  int16_t band[(size_t)band_rows * row_values + BAND_SLACK] __attribute__((aligned(32)));
  es_s8_panel2_cols cols_c[PANEL2_MAX_PANELS];
  const int32_t k = p->kh * p->kw * p->icg, pixels = oh * p->ow;
  fill_span(band + (size_t)band_rows * row_values, 0, BAND_SLACK);
  for (int32_t b = 0; b < batch; b++) {
    patch_args pb = *p;
    pb.in = p->in + (size_t)b * p->ih * p->iw * p->ic;
    int8_t *out_b = out + (size_t)b * pixels * oc;
    for (int32_t g = 0; g < groups; g++) {
      for (int32_t n0 = 0; n0 < ocg; n0 += chunk) {
        const int32_t cols = ocg - n0 < chunk ? ocg - n0 : chunk;
        es_s8_panel2_pack(packed, cols_c, weights + (size_t)g * ocg * k, k, seg_len, n0, cols, bias ? bias + g * ocg : NULL,
                          mult + g * ocg, shift + g * ocg, o);
        for (int32_t oy0 = 0; oy0 < oh; oy0 += band_oh) {
          const int32_t rows_oh = oh - oy0 < band_oh ? oh - oy0 : band_oh;
          widen_band(&pb, g * p->icg, oy0 * p->sh - p->pt, (rows_oh - 1) * p->sh + span_h, wp, band);
          const int32_t p_end = (oy0 + rows_oh) * p->ow;
          for (int32_t p0 = oy0 * p->ow; p0 < p_end; p0 += PANEL2_MR) {
            const int32_t rows = p_end - p0 < PANEL2_MR ? p_end - p0 : PANEL2_MR;
            const int16_t *x[PANEL2_MR];
            for (int32_t r = 0; r < PANEL2_MR; r++) {
              const int32_t pixel = p0 + (r < rows ? r : rows - 1), oy = pixel / p->ow, ox = pixel % p->ow;
              x[r] = band + ((size_t)(oy - oy0) * p->sh * wp + (size_t)ox * p->sw) * p->icg;
            }
            es_s8_panel2_block(packed, cols_c, cols, x, seg_off, nseg, seg2, rows,
                               out_b + (size_t)p0 * oc + g * ocg + n0, oc);
          }
        }
      }
    }
  }
  return 1;
}
#endif

#if !defined(ES_S8_AVX2) && !defined(ES_S8_VNNI)
/* The tile of both paths below and its store, out of line: one copy of their code in the image. */
static __attribute__((noinline, noclone)) void tile_spans(es_s8_tile *t, const int8_t *const a[4], const ptrdiff_t *a_off,
                                                          int32_t nseg, const int8_t *const w[4], int32_t len) {
  es_s8_tile_dot_spans(t, a, a_off, nseg, w, len);
}

static __attribute__((noinline, noclone)) void tile_store(const es_s8_tile *t, const es_s8_columns *c,
                                                          const es_s8_output *o, int8_t *out, ptrdiff_t ldo,
                                                          int32_t rows, int32_t cols) {
  es_s8_tile_store(t, c, o, out, ldo, rows, cols);
}

enum { TILE_BAND_BYTES = 12288 }; /* the int8 input band of conv_tile_bands, on the stack */

/* Input rows y0 .. y0 + rows - 1 (in_zp outside the input) of one group's channels [c0, c0 +
 * icg), columns -pad_left .. -pad_left + wp - 1, into band[rows][wp][icg]. */
static void copy_band(const patch_args *p, int32_t c0, int32_t y0, int32_t rows, int32_t wp, int8_t *band) {
  const int32_t x_lo = -p->pl, in_lo = x_lo < 0 ? 0 : x_lo, in_hi = x_lo + wp < p->iw ? x_lo + wp : p->iw;
  for (int32_t r = 0; r < rows; r++) {
    int8_t *dst = band + (size_t)r * wp * p->icg;
    const int32_t y = y0 + r;
    if (y < 0 || y >= p->ih || in_lo >= in_hi) {
      fill_run(dst, p->zp, wp * p->icg);
      continue;
    }
    fill_run(dst, p->zp, (in_lo - x_lo) * p->icg);
    const int8_t *line = p->in + ((size_t)y * p->iw + in_lo) * p->ic + c0;
    int8_t *inside = dst + (size_t)(in_lo - x_lo) * p->icg;
    if (p->icg == p->ic) copy_run(inside, line, (in_hi - in_lo) * p->ic);
    else
      for (int32_t x = 0; x < in_hi - in_lo; x++) copy_run(inside + (size_t)x * p->icg, line + (size_t)x * p->ic, p->icg);
    fill_run(dst + (size_t)(in_hi - x_lo) * p->icg, p->zp, (x_lo + wp - in_hi) * p->icg);
  }
}

/* The tile path without gathering (NEON and portable C): per group, the input is copied with
 * its padding (in_zp) into bands of output rows whose input rows fit in TILE_BAND_BYTES, and
 * each 4 x 4 tile runs es_s8_tile_dot once per span of the patch, straight from the band: kh
 * spans of kw * icg values (dilation 1 in x) or kh * kw spans of icg, against the weights'
 * matching span; or, where the spans are short (spans_pay), over each pixel's spans packed into
 * one row. Returns 0, having done nothing, when a span is shorter than 8 values (the tile's
 * scalar tail), a group has more than OCC output channels, one output row's input rows do not
 * fit, or the bands' last blocks of pixels would repeat more than 1/16 of the rows. */
/* About the instructions es_s8_tile_dot_spans takes for one span of n values of a 4 x 4 tile:
 * 56 per 16 values, 40 for 8 more, 44 for the masked last 1 to 7, and about 16 to start it. */
static inline int32_t span_cost(int32_t n) { return n / 16 * 56 + (n % 16 >= 8 ? 40 : 0) + (n % 8 ? 44 : 0) + 16; }

/* Whether a tile should read its nseg spans of len values in place rather than one packed row
 * of nseg * len (pack_spans): short spans with a remainder (a 3x3 or 7x7 stem on 3 channels:
 * spans of 9 or 21 values) waste most of a step each, where a packed row pays its remainder
 * once, plus the packing (two instructions per 16 bytes and two per span, for each of the 4
 * pixels), shared by the ocg / 4 tiles of those pixels. */
static inline int spans_pay(int32_t nseg, int32_t len, int32_t ocg) {
  const int64_t tiles = (ocg + 3) / 4;
  const int64_t spans = (int64_t)nseg * span_cost(len);
  const int64_t packed = span_cost(nseg * len) + 4 * (int64_t)nseg * (2 * ((len + 15) / 16) + 2) / tiles;
  return 10 * packed >= 9 * spans;
}

/* row[0, nseg * len) = the nseg spans of len values at base + off[s], in 16-byte copies: each
 * may read up to 15 bytes past its span (the band has 16 bytes of slack) and write up to 15
 * past it, into the next span's place (written after it) or the row's 16 bytes of slack. */
static inline void pack_spans(int8_t *row, const int8_t *base, const ptrdiff_t *off, int32_t nseg, int32_t len) {
  for (int32_t s = 0; s < nseg; s++)
    for (int32_t i = 0; i < len; i += 16) memcpy(row + s * len + i, base + off[s] + i, 16);
}

static __attribute__((noinline)) int conv_tile_bands(const patch_args *p, int32_t batch, int32_t groups, int32_t oh,
                                                     int32_t ocg, const int8_t *weights, const int32_t *bias,
                                                     const int32_t *mult, const int8_t *shift, const es_s8_output *o,
                                                     int8_t *out, int32_t oc) {
  enum { MAX_SEGMENTS = 64, PACKED_MAX = 512 };
  const int32_t merged = p->dw == 1, nseg = merged ? p->kh : p->kh * p->kw;
  const int32_t seg_len = merged ? p->kw * p->icg : p->icg;
  const int32_t wp = (p->ow - 1) * p->sw + (p->kw - 1) * p->dw + 1, span_h = (p->kh - 1) * p->dh + 1;
  const int32_t row_bytes = wp * p->icg;
  if (seg_len < 8 || nseg > MAX_SEGMENTS || ocg > OCC || (int64_t)span_h * row_bytes > TILE_BAND_BYTES) return 0;
  const int32_t k = p->kh * p->kw * p->icg, pixels = oh * p->ow;
  const int packed = nseg > 1 && k <= PACKED_MAX && !spans_pay(nseg, seg_len, ocg);
  int32_t band_oh = (TILE_BAND_BYTES / row_bytes - span_h) / p->sh + 1;
  if (band_oh > oh) band_oh = oh;
  /* Blocks of 4 pixels end at a band's end: when a band's pixels are not a multiple of 4, its
   * last block computes repeated rows (ResNet18's 14-wide layers in one-row bands: 16 for 14).
   * Beyond 1/16 of the work, the gathering path below, whose blocks run on through the image. */
  const int32_t band_pixels = band_oh * p->ow, waste = (band_pixels + 3) / 4 * 4 - band_pixels;
  if (waste * 16 > band_pixels) return 0;
  int8_t band[TILE_BAND_BYTES + 16] __attribute__((aligned(16)));
  int8_t packed_rows[4][PACKED_MAX + 16] __attribute__((aligned(16)));
  if (packed) fill_run(band + TILE_BAND_BYTES, 0, 16);
  const ptrdiff_t no_offset = 0;
  es_s8_columns columns[OCC / 4];
  ptrdiff_t seg_off[MAX_SEGMENTS];
  for (int32_t s = 0; s < nseg; s++) {
    const int32_t ky = merged ? s : s / p->kw, kx = merged ? 0 : s % p->kw;
    seg_off[s] = ((ptrdiff_t)ky * p->dh * wp + (ptrdiff_t)kx * p->dw) * p->icg;
  }
  for (int32_t b = 0; b < batch; b++) {
    patch_args pb = *p;
    pb.in = p->in + (size_t)b * p->ih * p->iw * p->ic;
    int8_t *out_b = out + (size_t)b * pixels * oc;
    for (int32_t g = 0; g < groups; g++) {
      const int32_t oc0 = g * ocg;
      for (int32_t j0 = 0; j0 < ocg; j0 += 4)
        es_s8_columns_make(&columns[j0 / 4], weights + (size_t)oc0 * k, k, bias ? bias + oc0 : NULL, mult + oc0,
                           shift + oc0, j0, ocg - j0 < 4 ? ocg - j0 : 4);
      for (int32_t oy0 = 0; oy0 < oh; oy0 += band_oh) {
        const int32_t rows_oh = oh - oy0 < band_oh ? oh - oy0 : band_oh;
        copy_band(&pb, g * p->icg, oy0 * p->sh - p->pt, (rows_oh - 1) * p->sh + span_h, wp, band);
        const int32_t p_end = (oy0 + rows_oh) * p->ow;
        for (int32_t p0 = oy0 * p->ow; p0 < p_end; p0 += 4) {
          const int32_t rows = p_end - p0 < 4 ? p_end - p0 : 4;
          const int8_t *base[4];
          for (int32_t r = 0; r < 4; r++) {
            const int32_t pixel = p0 + (r < rows ? r : rows - 1), oy = pixel / p->ow, ox = pixel % p->ow;
            base[r] = band + ((size_t)(oy - oy0) * p->sh * wp + (size_t)ox * p->sw) * p->icg;
          }
          if (packed) {
            for (int32_t r = 0; r < rows; r++) pack_spans(packed_rows[r], base[r], seg_off, nseg, seg_len);
            for (int32_t r = 0; r < 4; r++) base[r] = packed_rows[r < rows ? r : rows - 1];
          }
          for (int32_t j0 = 0; j0 < ocg; j0 += 4) {
            const int32_t cols = ocg - j0 < 4 ? ocg - j0 : 4;
            const int8_t *w[4];
            for (int32_t j = 0; j < 4; j++) w[j] = weights + (size_t)(oc0 + j0 + (j < cols ? j : cols - 1)) * k;
            es_s8_tile t = es_s8_tile_zero();
            if (packed) tile_spans(&t, base, &no_offset, 1, w, k);
            else tile_spans(&t, base, seg_off, nseg, w, seg_len);
            tile_store(&t, &columns[j0 / 4], o, out_b + (size_t)p0 * oc + oc0 + j0, oc, rows, cols);
          }
        }
      }
    }
  }
  return 1;
}
#endif

void es_conv2d_s8(const int8_t *in, es_shape4 is, int32_t in_zp, const int8_t *weights,
                  const int32_t *bias, int8_t *out, es_shape4 os, int32_t kh, int32_t kw,
                  int32_t stride_h, int32_t stride_w, int32_t pad_top, int32_t pad_left,
                  int32_t dilation_h, int32_t dilation_w, int32_t groups, int32_t out_zp,
                  const int32_t *mult, const int8_t *shift, int32_t act_min, int32_t act_max,
                  int32_t pack_slot) {
  const int32_t icg = is.c / groups, ocg = os.c / groups, k = kh * kw * icg;
  const int32_t pixels = os.h * os.w;
  if (pixels <= 0 || os.c <= 0) return;
  (void)pack_slot; /* used by the VNNI panels only */
  const es_s8_output o = {out_zp, act_min, act_max};
#if defined(ES_S8_VNNI)
  /* with a pack slot the packing is paid once, so few pixels take the panels too */
  const int panels = pixels >= PANEL_MIN_ROWS || pack_slot > 0;
  if (panels &&
      conv_vnni_padded(in, is, in_zp, weights, bias, out, os, kh, kw, stride_h, stride_w, pad_top, pad_left, dilation_h,
                       dilation_w, groups, mult, shift, &o, pack_slot))
    return;
  if (k <= PANEL_KMAX && panels) {
    es_s8_panel_room room;
    const es_s8_packed *cached = es_s8_panel_cache(pack_slot, weights, k, k, groups, ocg, bias, mult, shift);
    uint8_t rows_buf[2][PANEL_MR][PANEL_ROW_BYTES] __attribute__((aligned(64)));
    const int32_t per_set = es_s8_panel_set_columns(k);
    for (int32_t g = 0; g < groups; g++) {
      for (int32_t n0 = 0; n0 < ocg; n0 += per_set) {
        const es_s8_panel_set set = cached ? cached->set[g * cached->chunks + n0 / per_set]
                                           : es_s8_panel_pack_group(room.w, room.c, weights, k, k, ocg, g, n0, per_set,
                                                                    bias, mult, shift);
        for (int32_t b = 0; b < os.n; b++) {
          const patch_args p = {in + (size_t)b * is.h * is.w * is.c, is.h, is.w, is.c, os.w, kh, kw, stride_h, stride_w,
                                pad_top, pad_left, dilation_h, dilation_w, icg, k, (int8_t)in_zp};
          int8_t *out_b = out + (size_t)b * pixels * os.c + g * ocg + n0;
          /* The next block's rows are gathered before this block's are multiplied, so that
           * the broadcasts read stores made a block earlier; rows past the last pixel repeat
           * it (computed, not stored). */
          int32_t oy = 0, ox = 0;
          for (int32_t p0 = 0, i = 0; p0 < pixels + PANEL_MR; p0 += PANEL_MR, i ^= 1) {
            if (p0 < pixels)
              for (int32_t r = 0; r < PANEL_MR; r++) {
                gather_flipped(&p, oy * stride_h - pad_top, ox * stride_w - pad_left, g * icg, rows_buf[i][r]);
                if (p0 + r + 1 < pixels && ++ox == os.w) ox = 0, oy++;
              }
            if (p0 == 0) continue;
            const int32_t q0 = p0 - PANEL_MR, rows = pixels - q0 < PANEL_MR ? pixels - q0 : PANEL_MR;
            es_s8_panel_set_rows(&set, rows_buf[i ^ 1][0], rows, &o, out_b + (size_t)q0 * os.c, os.c);
          }
        }
      }
    }
    return;
  }
#elif defined(ES_S8_AVX2)
  {
    const patch_args p = {in, is.h, is.w, is.c, os.w, kh, kw, stride_h, stride_w, pad_top, pad_left,
                          dilation_h, dilation_w, icg, k, (int8_t)in_zp};
    if (conv_avx2_bands(&p, os.n, groups, os.h, ocg, weights, bias, mult, shift, &o, out, os.c)) return;
  }
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
#else
  {
    const patch_args p = {in, is.h, is.w, is.c, os.w, kh, kw, stride_h, stride_w, pad_top, pad_left,
                          dilation_h, dilation_w, icg, k, (int8_t)in_zp};
    if (conv_tile_bands(&p, os.n, groups, os.h, ocg, weights, bias, mult, shift, &o, out, os.c)) return;
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
#if defined(ES_S8_AVX2) || defined(ES_S8_VNNI)
              es_s8_tile_dot(&t, rp, w, kc);
#else
              const ptrdiff_t whole = 0;
              tile_spans(&t, rp, &whole, 1, w, kc);
#endif
#if defined(ES_S8_AVX2) || defined(ES_S8_VNNI)
              if (last_slice) es_s8_tile_store(&t, &columns[j0 / 4], &o, out_b + (size_t)p0 * os.c + oc0 + j0, os.c, rows, cols);
#else
              if (last_slice) tile_store(&t, &columns[j0 / 4], &o, out_b + (size_t)p0 * os.c + oc0 + j0, os.c, rows, cols);
#endif
              else es_s8_tile_save(&t, partial[j0 / 4]);
            }
          }
        }
      }
    }
  }
}
