/* es_conv2d_f32: general convolution, NHWC, weights [OC][KH][KW][IC/groups].
 *
 * A convolution is a GEMM of patches (one row of KH*KW*IC/groups inputs per output pixel,
 * zeros where the window leaves the input) by the weights. The reduction is cut into
 * slices of at most KC; per slice, the weights of as many output-channel strips as fit in
 * PANEL floats are transposed into packed panels on the stack, then every block of pixels
 * gathers its patch rows once and runs the register tile of gemm_tile.h against each panel,
 * accumulating into `out` across slices. On x86, a block of pixels whose windows lie inside
 * the input skips the gather: the tile reads its patch rows in place, one segment per piece
 * of the slice. Output channels beyond the last whole vector of a
 * group take plain loops. */
#define ES_TILE_LONG_REDUCTIONS /* gemm_tile.h: the 8 x 32 tile wherever AVX-512 is */
#include "gemm_tile.h"

ES_OPTIMIZE_REGISTER_HEAVY

/* The reduction slice (ES_FP32_KC) and the floats of packed weights per pass (ES_FP32_PANEL)
 * come from the build: src/toolchain/build/fp32Blocking.ts chooses them from the target's
 * L1d, L2, vector width and stack (for host, what the build machine's CPU reports). The
 * defaults are its choices for a 32 KiB L1d and a 512 KiB L2: on x86, 256 and 64 KiB
 * (several strips per pass share one gather of the patch rows: ResNet18's 3x3 layers ran
 * 15-20 % faster than with one strip); on AArch64, 128 and 16 KiB, which with the patch
 * rows keep within a third of the bare-metal targets' 64 KiB stack. */
#ifndef ES_FP32_KC
#if ES_NEON
#define ES_FP32_KC 128
#else
#define ES_FP32_KC 256
#endif
#endif
#ifndef ES_FP32_PANEL
#if defined(__x86_64__) || defined(__i386__)
#define ES_FP32_PANEL 16384
#else
#define ES_FP32_PANEL 4096
#endif
#endif

enum {
  MR = ES_TILE_MR,
  VL = ES_TILE_VL,
  NV = ES_TILE_NV,
  KC = ES_FP32_KC, /* reduction slice */
  PANEL = ES_FP32_PANEL,
  MAX_PIECES = KC /* every piece holds at least one reduction index */
};

/* A pass packs at least one full-width strip of a slice. */
_Static_assert(KC >= 8 && KC % 8 == 0, "ES_FP32_KC must be a positive multiple of 8");
_Static_assert(PANEL >= KC * NV * VL, "ES_FP32_PANEL must hold one strip: ES_FP32_KC x the tile's columns");

typedef struct {
  const float *w, *bias;
  int32_t ih, iw, ic, oh, ow, oc, kh, kw, sh, sw, pt, pl, dh, dw, groups, icg, ocg;
  int32_t k; /* reduction length: weights per output channel */
} conv_args;

/* A piece of a slice: `len` consecutive reduction indices from channel c of tap (ky, kx),
 * stored at `dst` in the patch row. Pieces stay within one kernel row; they span several
 * taps only when those are adjacent in the input too (groups == 1, dilation_w == 1). */
typedef struct {
  int32_t ky, kx, c, len, dst;
} piece;

static int merges_taps(const conv_args *a) { return a->groups == 1 && a->dw == 1; }

/* Splits reduction indices [k0, k0 + kc) into pieces. */
static int32_t slice_pieces(const conv_args *a, int32_t k0, int32_t kc, piece *pieces) {
  const int32_t row = a->kw * a->icg; /* reduction indices per kernel row */
  int32_t n = 0;
  for (int32_t k = k0; k < k0 + kc;) {
    const int32_t ky = k / row, in_row = k % row, kx = in_row / a->icg, c = in_row % a->icg;
    const int32_t end = merges_taps(a) ? ky * row + row : k - c + a->icg;
    const int32_t len = ES_MIN(end, k0 + kc) - k;
    pieces[n++] = (piece){ky, kx, c, len, k - k0};
    k += len;
  }
  return n;
}

/* The patch row of output pixel m (of one image) for a slice: `row` gets kc values, zero
 * where the window leaves the input. */
static void gather(const conv_args *a, const float *in, int32_t group, int32_t m,
                   const piece *pieces, int32_t n_pieces, float *row) {
  const int32_t y0 = m / a->ow * a->sh - a->pt, x0 = m % a->ow * a->sw - a->pl;
  const float *base = in + (size_t)group * a->icg;
#if !ES_NEON
  const float *in_end = in + (size_t)a->ih * a->iw * a->ic;
  /* A window wholly inside the input: every piece is copied whole, in vectors, without
   * clipping (with one input channel, as in KWS's first layer, the per-piece clipping was
   * as costly as the multiply-adds). */
  if (y0 >= 0 && y0 + (a->kh - 1) * a->dh < a->ih && x0 >= 0 && x0 + (a->kw - 1) * a->dw < a->iw) {
    const float *window = base + ((size_t)y0 * a->iw + x0) * a->ic;
    for (int32_t i = 0; i < n_pieces; i++) {
      const piece *p = &pieces[i];
      const float *src = window + ((size_t)p->ky * a->dh * a->iw + (size_t)p->kx * a->dw) * a->ic + p->c;
      float *dst = row + p->dst;
      if (src + p->len + VL - 1 <= in_end) {
        for (int32_t j = 0; j < p->len; j += 8) {
          const es_v8 v = es_v8_load(src + j);
          es_v8_store(dst + j, &v);
        }
      } else {
        for (int32_t j = 0; j < p->len; j++) dst[j] = src[j];
      }
    }
    return;
  }
#endif
  for (int32_t i = 0; i < n_pieces; i++) {
    const piece *p = &pieces[i];
    const int32_t y = y0 + p->ky * a->dh, x = x0 + p->kx * a->dw;
    float *dst = row + p->dst;
    int32_t lo = 0, hi = 0; /* the elements [lo, hi) that lie inside the input */
    if (y >= 0 && y < a->ih) {
      /* Element e is at column x + (p->c + e) / icg (consecutive taps only when merged). */
      lo = ES_MIN(p->len, ES_MAX(0, -x * a->icg - p->c));
      hi = ES_MAX(lo, ES_MIN(p->len, (a->iw - x) * a->icg - p->c));
    }
    const float *src = base + ((ptrdiff_t)y * a->iw + x) * a->ic + p->c;
#if !ES_NEON
    /* A piece wholly inside the input is copied in whole vectors: up to 7 floats past its
     * end are read (when that stays inside the input) and written (over the next piece or
     * row, written after it, or the patch's spare vector). Element by element, the gather
     * took a third of the time of convolutions with 3 input channels (ResNet18's stem). */
    if (lo == 0 && hi == p->len && src + hi + VL - 1 <= in_end) {
      for (int32_t j = 0; j < hi; j += 8) {
        const es_v8 v = es_v8_load(src + j);
        es_v8_store(dst + j, &v);
      }
      continue;
    }
    /* Zeros in whole vectors (past the end as above), then the part inside the input. */
    const es_v8 zero = es_v8_splat(0.0f);
    for (int32_t j = 0; j < p->len; j += 8) es_v8_store(dst + j, &zero);
    for (int32_t j = lo; j < hi; j++) dst[j] = src[j];
    continue;
#endif
    for (int32_t j = 0; j < lo; j++) dst[j] = 0.0f;
    for (int32_t j = lo; j < hi; j++) dst[j] = src[j];
    for (int32_t j = hi; j < p->len; j++) dst[j] = 0.0f;
  }
}

#include "conv2d_winograd.h"

/* Weights of output channels [o, o + width) of the slice, transposed: panel[kk][j]. */
static void pack(const conv_args *a, int32_t o, int32_t width, int32_t k0, int32_t kc, float *panel) {
#if !ES_NEON
  /* width is a multiple of 8 here. 8 x 8 blocks transposed in registers, and the same rows'
   * next slice prefetched: element by element, the pack took a quarter of the time of
   * ResNet18's 7x7 layers, where each packed weight serves only 49 pixels. */
  for (int32_t j0 = 0; j0 < width; j0 += 8) {
    const float *src = a->w + (size_t)(o + j0) * a->k + k0;
    int32_t kk = 0;
    for (; kk + 8 <= kc; kk += 8) {
      es_v8 r[8];
      for (int i = 0; i < 8; i++) r[i] = es_v8_load(src + (size_t)i * a->k + kk);
      for (int i = 0; i < 8; i++) __builtin_prefetch(src + (size_t)i * a->k + kk + KC);
      es_v8_transpose8(r);
      for (int i = 0; i < 8; i++) es_v8_store(panel + (size_t)(kk + i) * width + j0, &r[i]);
    }
    for (; kk < kc; kk++)
      for (int32_t j = 0; j < 8; j++) panel[(size_t)kk * width + j0 + j] = src[(size_t)j * a->k + kk];
  }
#else
  for (int32_t j = 0; j < width; j++) {
    const float *src = a->w + (size_t)(o + j) * a->k + k0;
    for (int32_t kk = 0; kk < kc; kk++) panel[(size_t)kk * width + j] = src[kk];
  }
#endif
}

#if !ES_NEON
/* Where the patch rows of pixels [m, m + rows) can be read in place: the start of the first
 * one's window in `in`, when taps are merged, the pixels share an output row and their
 * windows lie inside the input; else NULL. Row r's window starts r * sw * ic floats on. */
static const float *in_place_rows(const conv_args *a, const float *in, int32_t m, int32_t rows) {
  if (!merges_taps(a)) return NULL;
  const int32_t oy = m / a->ow, ox = m % a->ow;
  if (ox + rows > a->ow) return NULL;
  const int32_t y0 = oy * a->sh - a->pt, x0 = ox * a->sw - a->pl;
  if (y0 < 0 || y0 + (a->kh - 1) * a->dh >= a->ih) return NULL;
  if (x0 < 0 || x0 + (rows - 1) * a->sw + a->kw - 1 >= a->iw) return NULL;
  return in + ((size_t)y0 * a->iw + x0) * a->ic;
}
#endif

#if !ES_NEON
/* 2 * MR rows (pixels) x one 8-lane vector of output channels, reading the rows in place
 * like es_tile_segments, with the same sums. A tile of MR rows x one vector had MR
 * dependent chains of multiply-adds, too few to hide their latency, and a broadcast per
 * multiply-add: VWW's first layer (3 -> 8 channels) ran at 15 GMAC/s. */
ES_INLINE void tile_2mr_v8(const float *a, int32_t lda, int32_t n_seg, const int32_t *seg_offset,
                           const int32_t *seg_len, const float *w, const float *bias, float *out,
                           int32_t ldo, int accumulate, const es_kernel_bounds *bounds) {
  es_v8 acc[2 * MR];
  for (int r = 0; r < 2 * MR; r++)
    acc[r] = accumulate ? es_v8_load(out + (size_t)r * ldo) : bias ? es_v8_load(bias) : es_v8_splat(0.0f);
  for (int32_t s = 0; s < n_seg; s++) {
    const float *as = a + seg_offset[s];
    for (int32_t p = 0; p < seg_len[s]; p++, w += 8) {
      const es_v8 b = es_v8_load(w);
      for (int r = 0; r < 2 * MR; r++) acc[r] += es_v8_splat(as[(size_t)r * lda + p]) * b;
    }
  }
  /* Unrolled, with the bounds copied once: as a loop GCC kept the accumulators in an array
   * on the stack, clamped them there and stored each in two halves through a reload (a
   * quarter of the time of VWW's first layer). */
  if (bounds) {
    const es_bounds b = *bounds;
#pragma GCC unroll 16
    for (int r = 0; r < 2 * MR; r++) es_v8_bounds_apply(&b, &acc[r]);
  }
#pragma GCC unroll 16
  for (int r = 0; r < 2 * MR; r++) es_v8_store(out + (size_t)r * ldo, &acc[r]);
}
#endif

#if !ES_NEON
/* tile_2mr_v8 with the distance between rows a constant where it is small (first
 * convolutions: input channels x stride at most 8): the 12 rows' offsets are then
 * immediates. With lda a variable GCC kept them on the stack and reloaded one per
 * broadcast (VWW's first layer, 3 channels at stride 2: 12 GMAC/s). */
static void tile_2mr_v8_rows(const float *a, int32_t lda, int32_t n_seg, const int32_t *seg_offset,
                             const int32_t *seg_len, const float *w, const float *bias, float *out,
                             int32_t ldo, int accumulate, const es_kernel_bounds *bounds) {
#define ES_TILE_2MR(LDA) tile_2mr_v8(a, LDA, n_seg, seg_offset, seg_len, w, bias, out, ldo, accumulate, bounds)
  switch (lda) {
  case 1: ES_TILE_2MR(1); break;
  case 2: ES_TILE_2MR(2); break;
  case 3: ES_TILE_2MR(3); break;
  case 4: ES_TILE_2MR(4); break;
  case 5: ES_TILE_2MR(5); break;
  case 6: ES_TILE_2MR(6); break;
  case 7: ES_TILE_2MR(7); break;
  case 8: ES_TILE_2MR(8); break;
  default: ES_TILE_2MR(lda); break;
  }
#undef ES_TILE_2MR
}
#endif

#if defined(ES_FP32_SPLIT_512) && defined(ES_TILE_WIDE)
/* On a CPU that splits 512-bit multiply-adds (gemm_tile.h), a group of fewer output channels
 * than the 8 x 32 tile's strip takes AVX2's 6 x 16 tile in 8-lane vectors instead: first
 * layers of 16 and 24 channels ran 25 % faster with it (3 -> 16 at 224x224, stride 2:
 * 199 -> 148 us), while longer reductions over more channels keep the wider tile. */
#define ES_CONV_NARROW_TILE 1
enum { NARROW_MR = 6, NARROW_NV = 2 };
#endif

#if !ES_NEON
/* The tile, or with `narrow` (a constant) the 6 x 16 one in 8-lane vectors. */
ES_INLINE void conv_tile(const int narrow, const float *a, int32_t lda, const float *w, int32_t ldw,
                         const float *bias, float *out, int32_t ldo, int32_t k, const int mr, const int nv,
                         int accumulate, const es_kernel_bounds *bounds) {
  if (narrow) es_tile_v8(a, lda, w, ldw, bias, out, ldo, k, mr, nv, accumulate, bounds);
  else es_tile(a, lda, w, ldw, bias, out, ldo, k, mr, nv, accumulate, bounds);
}

ES_INLINE void conv_tile_segments(const int narrow, const float *a, int32_t lda, int32_t n_seg,
                                  const int32_t *seg_offset, const int32_t *seg_len, const float *w, int32_t ldw,
                                  const float *bias, float *out, int32_t ldo, const int mr, const int nv,
                                  int accumulate, const es_kernel_bounds *bounds) {
  if (narrow) es_tile_segments_v8(a, lda, n_seg, seg_offset, seg_len, w, ldw, bias, out, ldo, mr, nv, accumulate, bounds);
  else es_tile_segments(a, lda, n_seg, seg_offset, seg_len, w, ldw, bias, out, ldo, mr, nv, accumulate, bounds);
}
#endif

/* A pass: output channels [o0, o0 + n_strips * strip_width) of one group over one slice. */
ES_INLINE void pass(const conv_args *a, const float *in, float *out, int32_t group, int32_t o0,
                    int32_t n_strips, const int nv, int32_t k0, int32_t kc, const piece *pieces,
                    int32_t n_pieces, float *panel, float *patch, const es_kernel_bounds *bounds,
                    const int narrow) {
  const int32_t width = nv * VL, m_total = a->oh * a->ow;
  const int accumulate = k0 > 0, last = k0 + kc == a->k;
  for (int32_t s = 0; s < n_strips; s++) pack(a, o0 + s * width, width, k0, kc, panel + (size_t)s * kc * width);
#if ES_NEON
  (void)narrow;
  for (int32_t m = 0; m < m_total; m += MR) {
    const int32_t rows = ES_MIN(MR, m_total - m);
#else
  /* Blocks of MR pixels, then as many of MR - 1 as leave none over (49 = 4 x 6 + 5 x 5 with
   * MR = 6, 7 x 7 with MR = 8): rows left over run in smaller tiles, a lone row at about a
   * quarter of the tile's rate. With the 6-row tile, 7x7 maps had one row over: ResNet18's
   * 512 -> 512 layers ran 20 % slower than with the 8-row tile. */
#ifdef ES_CONV_NARROW_TILE
  const int mr = narrow ? NARROW_MR : MR;
#else
  const int mr = MR;
  (void)narrow;
#endif
  int32_t short_blocks = (mr - m_total % mr) % mr;
  if (short_blocks * (mr - 1) > m_total) short_blocks = 0;
  const int32_t long_end = m_total - short_blocks * (mr - 1); /* blocks of mr before it */
  int32_t seg_offset[MAX_PIECES], seg_len[MAX_PIECES]; /* the pieces, within a pixel's window */
  for (int32_t i = 0; i < n_pieces; i++) {
    seg_offset[i] = (pieces[i].ky * a->dh * a->iw + pieces[i].kx) * a->ic + pieces[i].c;
    seg_len[i] = pieces[i].len;
  }
  for (int32_t m = 0; m < m_total; m += m < long_end ? mr : mr - 1) {
    const int32_t rows = ES_MIN(m < long_end ? mr : mr - 1, m_total - m);
    /* A block whose windows lie inside the input is read where it is, without the gather
     * (a sixth of the time of ResNet18's stem, 4-8 % of its 3x3 layers, most of that of
     * first convolutions with 3 input channels). */
    const float *direct = rows >= mr - 1 ? in_place_rows(a, in, m, rows) : NULL;
    /* One vector of output channels: two blocks at once where both are read in place. */
    if (!narrow && nv == 1 && direct && rows == MR && m + 2 * MR <= long_end && in_place_rows(a, in, m, 2 * MR)) {
      for (int32_t s = 0; s < n_strips; s++) {
        const int32_t o = o0 + s * width;
        tile_2mr_v8_rows(direct, a->sw * a->ic, n_pieces, seg_offset, seg_len, panel + (size_t)s * kc * width,
                    a->bias ? a->bias + o : NULL, out + (size_t)m * a->oc + o, a->oc, accumulate,
                    last ? bounds : NULL);
      }
      m += MR; /* and the loop adds MR: the two blocks */
      continue;
    }
    if (direct) {
      for (int32_t s = 0; s < n_strips; s++) {
        const int32_t o = o0 + s * width;
        const float *w = panel + (size_t)s * kc * width;
        const float *bias = a->bias ? a->bias + o : NULL;
        float *dst = out + (size_t)m * a->oc + o;
        const int32_t lda = a->sw * a->ic;
        if (rows == mr)
          conv_tile_segments(narrow, direct, lda, n_pieces, seg_offset, seg_len, w, width, bias, dst, a->oc, mr,
                             nv, accumulate, last ? bounds : NULL);
        else
          conv_tile_segments(narrow, direct, lda, n_pieces, seg_offset, seg_len, w, width, bias, dst, a->oc,
                             mr - 1, nv, accumulate, last ? bounds : NULL);
      }
      continue;
    }
#endif
    for (int32_t r = 0; r < rows; r++) gather(a, in, group, m + r, pieces, n_pieces, patch + (size_t)r * KC);
    for (int32_t s = 0; s < n_strips; s++) {
      const int32_t o = o0 + s * width;
      const float *bias = a->bias ? a->bias + o : NULL;
      const float *w = panel + (size_t)s * kc * width;
      float *dst = out + (size_t)m * a->oc + o;
#if ES_NEON
      if (rows == MR) {
        es_tile(patch, KC, w, width, bias, dst, a->oc, kc, MR, nv, accumulate, last ? bounds : NULL);
#else
      if (rows == mr) {
        conv_tile(narrow, patch, KC, w, width, bias, dst, a->oc, kc, mr, nv, accumulate, last ? bounds : NULL);
      } else if (rows == mr - 1) {
        conv_tile(narrow, patch, KC, w, width, bias, dst, a->oc, kc, mr - 1, nv, accumulate, last ? bounds : NULL);
#endif
      } else {
#if ES_NEON
        for (int32_t r = 0; r < rows; r++)
          es_tile(patch + (size_t)r * KC, KC, w, width, bias, dst + (size_t)r * a->oc, a->oc, kc, 1, nv,
                  accumulate, last ? bounds : NULL);
#else
        /* The last pixels of a map (4 of ResNet-8's 8x8, 16x16 and 32x32 maps with MR = 6) in
         * tiles of up to 4 rows: one row at a time they ran at about a quarter of the rate. */
        for (int32_t r = 0; r < rows;) {
          const int32_t take = ES_MIN(rows - r, 4);
          const float *pr = patch + (size_t)r * KC;
          float *dr = dst + (size_t)r * a->oc;
          const es_kernel_bounds *b = last ? bounds : NULL;
          if (take == 4) conv_tile(narrow, pr, KC, w, width, bias, dr, a->oc, kc, 4, nv, accumulate, b);
          else if (take == 3) conv_tile(narrow, pr, KC, w, width, bias, dr, a->oc, kc, 3, nv, accumulate, b);
          else if (take == 2) conv_tile(narrow, pr, KC, w, width, bias, dr, a->oc, kc, 2, nv, accumulate, b);
          else conv_tile(narrow, pr, KC, w, width, bias, dr, a->oc, kc, 1, nv, accumulate, b);
          r += take;
        }
#endif
      }
    }
  }
}

/* Plain loops for output channels [o_begin, o_end) of one image. */
static void conv_plain(const conv_args *a, const float *in, float *out, int32_t o_begin,
                       int32_t o_end, es_bounds bounds) {
  for (int32_t y = 0; y < a->oh; y++)
    for (int32_t x = 0; x < a->ow; x++)
      for (int32_t o = o_begin; o < o_end; o++) {
        const int32_t g = o / a->ocg;
        float acc = a->bias ? a->bias[o] : 0.0f;
        for (int32_t ky = 0; ky < a->kh; ky++) {
          const int32_t iy = y * a->sh - a->pt + ky * a->dh;
          if (iy < 0 || iy >= a->ih) continue;
          for (int32_t kx = 0; kx < a->kw; kx++) {
            const int32_t ix = x * a->sw - a->pl + kx * a->dw;
            if (ix < 0 || ix >= a->iw) continue;
            const float *ip = in + ((size_t)iy * a->iw + ix) * a->ic + (size_t)g * a->icg;
            const float *wp = a->w + (size_t)o * a->k + ((size_t)ky * a->kw + kx) * a->icg;
            for (int32_t c = 0; c < a->icg; c++) acc += ip[c] * wp[c];
          }
        }
        out[((size_t)y * a->ow + x) * a->oc + o] = es_bounds_apply(bounds, acc);
      }
}

#ifdef ES_FP32_HAS_WINOGRAD
/* x86: a padded convolution of at most 8 input channels runs on a zero-padded copy of its
 * input on the stack (within ES_FP32_SCRATCH floats) without padding, so that every block of
 * pixels inside an output row reads its patch rows in place instead of gathering them, which
 * costs most per multiply-add with few channels: KWS's 10x4 first layer (1 channel, most
 * windows clipped) 13.6 -> 8.0 us, VWW's (3 channels) 25 -> 20 us; with 16 or 64 channels
 * the copy cost 1-3 % more than it saved. Returns 0 where it does not apply. */
static int pad_into_copy(const float *in, es_shape4 is, const float *weights, const float *bias,
                         float *out, es_shape4 os, int32_t kh, int32_t kw, int32_t sh, int32_t sw,
                         int32_t pt, int32_t pl, int32_t dh, int32_t dw, int32_t groups, float act_min,
                         float act_max) {
  const int32_t pb = ES_MAX(0, (os.h - 1) * sh + (kh - 1) * dh + 1 - pt - is.h);
  const int32_t pr = ES_MAX(0, (os.w - 1) * sw + (kw - 1) * dw + 1 - pl - is.w);
  if (pt + pl + pb + pr == 0 || pt < 0 || pl < 0 || groups != 1 || dw != 1 || is.c > 8 ||
      winograd_fits(kh, kw, sh, sw, dh, dw, groups, is.c, os.c, os.h, os.w))
    return 0;
  const es_shape4 ps = {1, is.h + pt + pb, is.w + pl + pr, is.c};
  const size_t floats = (size_t)ps.h * ps.w * ps.c;
  if (floats > ES_FP32_SCRATCH) return 0;
  float padded[floats] __attribute__((aligned(64)));
  memset(padded, 0, floats * sizeof(float));
  const es_shape4 one = {1, os.h, os.w, os.c};
  for (int32_t n = 0; n < is.n; n++) {
    for (int32_t y = 0; y < is.h; y++)
      memcpy(padded + ((size_t)(y + pt) * ps.w + pl) * ps.c, in + ((size_t)(n * is.h + y) * is.w) * is.c,
             (size_t)is.w * is.c * sizeof(float));
    es_conv2d_f32(padded, ps, weights, bias, out + (size_t)n * os.h * os.w * os.c, one, kh, kw, sh, sw, 0, 0,
                  dh, dw, groups, act_min, act_max);
  }
  return 1;
}
#endif

/* The direct path for every group of one image: slices of the reduction, passes of strips of
 * output channels (nv_full vectors wide), the channels past the last vector in plain loops. */
ES_INLINE void convolve_groups(const conv_args *a, const float *in_n, float *out_n, piece *pieces, float *panel,
                               float *patch, const es_kernel_bounds *bounds, es_bounds plain_bounds, const int narrow) {
#ifdef ES_CONV_NARROW_TILE
  const int nv_full = narrow ? NARROW_NV : NV;
#else
  const int nv_full = NV;
#endif
  const int32_t vector_channels = a->ocg / VL * VL; /* per group, through the tile */
  for (int32_t g = 0; g < a->groups; g++) {
#if ES_NEON
    const int32_t slice = KC;
#else
    const int32_t slice = es_div_ceil(a->k, es_div_ceil(a->k, KC)); /* equal slices */
#endif
    for (int32_t k0 = 0; k0 < a->k; k0 += slice) {
      const int32_t kc = ES_MIN(slice, a->k - k0);
      const int32_t n_pieces = slice_pieces(a, k0, kc, pieces);
      /* Full-width strips, as many per pass as the panel holds; then one narrower strip
       * per remaining power of two of vectors. */
      const int32_t per_pass = ES_MAX(1, PANEL / (kc * nv_full * VL));
      int32_t o = 0;
      while (o + nv_full * VL <= vector_channels) {
        const int32_t strips = ES_MIN(per_pass, (vector_channels - o) / (nv_full * VL));
        pass(a, in_n, out_n, g, g * a->ocg + o, strips, nv_full, k0, kc, pieces, n_pieces, panel, patch, bounds, narrow);
        o += strips * nv_full * VL;
      }
      if (nv_full >= 4 && o + 2 * VL <= vector_channels) {
        pass(a, in_n, out_n, g, g * a->ocg + o, 1, 2, k0, kc, pieces, n_pieces, panel, patch, bounds, narrow);
        o += 2 * VL;
      }
      if (nv_full >= 2 && o + VL <= vector_channels) { /* one vector: the wide tile's blocks (tile_2mr_v8) */
        pass(a, in_n, out_n, g, g * a->ocg + o, 1, 1, k0, kc, pieces, n_pieces, panel, patch, bounds, 0);
        o += VL;
      }
    }
    if (vector_channels < a->ocg)
      conv_plain(a, in_n, out_n, g * a->ocg + vector_channels, (g + 1) * a->ocg, plain_bounds);
  }
}

void es_conv2d_f32(const float *in, es_shape4 is, const float *weights, const float *bias,
                   float *out, es_shape4 os, int32_t kh, int32_t kw, int32_t stride_h,
                   int32_t stride_w, int32_t pad_top, int32_t pad_left, int32_t dilation_h,
                   int32_t dilation_w, int32_t groups, float act_min, float act_max) {
  if (os.n <= 0 || os.h <= 0 || os.w <= 0 || os.c <= 0 || kh <= 0 || kw <= 0 || stride_h <= 0 ||
      stride_w <= 0 || dilation_h <= 0 || dilation_w <= 0 || groups <= 0 || is.c % groups != 0 ||
      os.c % groups != 0)
    return;
#ifdef ES_FP32_HAS_WINOGRAD
  if (pad_into_copy(in, is, weights, bias, out, os, kh, kw, stride_h, stride_w, pad_top, pad_left,
                    dilation_h, dilation_w, groups, act_min, act_max))
    return;
#endif
  const conv_args a = {weights, bias, is.h, is.w, is.c, os.h, os.w, os.c, kh, kw, stride_h,
                       stride_w, pad_top, pad_left, dilation_h, dilation_w, groups, is.c / groups,
                       os.c / groups, kh * kw * (is.c / groups)};
  const es_kernel_bounds bounds = es_kernel_bounds_make(act_min, act_max);
  float panel[PANEL] __attribute__((aligned(64)));
  /* x86: + the vector that gather may write past the last row */
  float patch[MR * KC + (ES_NEON ? 0 : VL)] __attribute__((aligned(64)));
  piece pieces[MAX_PIECES];

  for (int32_t n = 0; n < os.n; n++) {
    const float *in_n = in + (size_t)n * is.h * is.w * is.c;
    float *out_n = out + (size_t)n * os.h * os.w * os.c;
#ifdef ES_FP32_HAS_WINOGRAD
    if (winograd_fits(kh, kw, stride_h, stride_w, dilation_h, dilation_w, groups, is.c, os.c, os.h, os.w)) {
      winograd_conv(in_n, is.h, is.w, is.c, weights, bias, out_n, os.h, os.w, os.c, pad_top, pad_left,
                    es_bounds_make(act_min, act_max));
      continue;
    }
#endif
#ifdef ES_CONV_NARROW_TILE
    if (a.ocg < NV * VL) {
      convolve_groups(&a, in_n, out_n, pieces, panel, patch, &bounds, es_bounds_make(act_min, act_max), 1);
      continue;
    }
#endif
    convolve_groups(&a, in_n, out_n, pieces, panel, patch, &bounds, es_bounds_make(act_min, act_max), 0);
  }
}
