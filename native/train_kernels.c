/*
 * Training kernels for TensorFlow.js's wasm backend, in C with WebAssembly SIMD (128-bit).
 *
 * The module imports the backend's own WebAssembly.Memory, so every pointer below is a byte
 * offset into the tfjs heap: kernels read tfjs tensors and write tfjs-allocated outputs in place,
 * with no copies. The module therefore owns NO memory of its own: no static data, no C stack
 * (no arrays or address-taken locals), no libc; scratch space is passed in by the caller.
 * tools/build-wasm.sh builds it twice: for the plain heap and for the threaded build's shared heap;
 * and both again with relaxed SIMD (-mrelaxed-simd), where every multiply-add below is one fused
 * f32x4.relaxed_madd (one rounding instead of two) instead of f32x4.mul then f32x4.add.
 *
 * Layouts are TensorFlow's: NHWC activations, HWIO filters, all float32, stride 1, no dilation.
 * Valid 3x3 convolutions have Winograd kernels too (at the end): fewer multiply-adds, other rounding.
 * Sums over the batch are exact to float32 rounding of per-image partial sums: each image's
 * contribution is summed in float32 registers (a few hundred terms), then added into float64
 * totals, so that long sums over nearly cancelling terms do not lose precision.
 */
#include <wasm_simd128.h>

#define INLINE static inline __attribute__((always_inline))
#define EXPORT __attribute__((visibility("default")))

typedef float f32;
typedef double f64;

INLINE v128_t load4(const f32 *p) { return wasm_v128_load(p); }
INLINE void store4(f32 *p, v128_t v) { wasm_v128_store(p, v); }
INLINE v128_t splat(const f32 *p) { return wasm_v128_load32_splat(p); }

/* acc + a * b, lane by lane: fused where the build has relaxed SIMD (the runtime may round once or
 * twice, as its hardware does), multiply then add otherwise. */
#ifdef __wasm_relaxed_simd__
typedef float f32x4 __attribute__((__vector_size__(16), __aligned__(16)));
INLINE v128_t madd(v128_t acc, v128_t a, v128_t b) {
  return (v128_t)__builtin_wasm_relaxed_madd_f32x4((f32x4)a, (f32x4)b, (f32x4)acc);
}
#else
INLINE v128_t madd(v128_t acc, v128_t a, v128_t b) { return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b)); }
#endif

/* totals[0..3] (float64) += v (float32x4). */
INLINE void add_to_f64(f64 *totals, v128_t v) {
  v128_t lo = wasm_f64x2_promote_low_f32x4(v);
  v128_t hi = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 2, 3));
  wasm_v128_store(totals, wasm_f64x2_add(wasm_v128_load(totals), lo));
  wasm_v128_store(totals + 2, wasm_f64x2_add(wasm_v128_load(totals + 2), hi));
}

/* out[i] = (float) totals[i]. */
static void f64_to_f32(const f64 *totals, f32 *out, int count) {
  for (int i = 0; i < count; i++) out[i] = (f32)totals[i];
}

static void zero_f64(f64 *p, int count) {
  for (int i = 0; i < count; i++) p[i] = 0.0;
}

/* ------------------------------------------------------------------------------------------- */
/* Filter gradient, many input channels:                                                        */
/*   dw[ky,kx,c,o] = sum_{n,oy,ox} x[n, oy+ky-pt, ox+kx-pl, c] * dy[n, oy, ox, o]               */
/* Blocks of RB input channels x CBV*4 output channels live in registers for one image.         */
/* ------------------------------------------------------------------------------------------- */

typedef struct {
  int h, w, c, oh, ow, co, kh, kw, pt, pl;
} ConvShape;

INLINE void filter_grad_block(const f32 *x, const f32 *dy, f64 *totals, const ConvShape *s,
                              int ky, int kx, int c0, int o0, int oy0, int oy1, int ox0, int ox1,
                              const int RB, const int CBV) {
  v128_t acc[4][4];
  for (int r = 0; r < RB; r++)
    for (int v = 0; v < CBV; v++) acc[r][v] = wasm_f32x4_splat(0.0f);
  for (int oy = oy0; oy < oy1; oy++) {
    const f32 *xrow = x + ((oy + ky - s->pt) * s->w + (ox0 + kx - s->pl)) * s->c + c0;
    const f32 *dyrow = dy + (oy * s->ow + ox0) * s->co + o0;
    for (int ox = ox0; ox < ox1; ox++, xrow += s->c, dyrow += s->co) {
      v128_t g[4];
      for (int v = 0; v < CBV; v++) g[v] = load4(dyrow + 4 * v);
      for (int r = 0; r < RB; r++) {
        v128_t xv = splat(xrow + r);
        for (int v = 0; v < CBV; v++) acc[r][v] = madd(acc[r][v], xv, g[v]);
      }
    }
  }
  for (int r = 0; r < RB; r++) {
    f64 *t = totals + ((ky * s->kw + kx) * s->c + c0 + r) * s->co + o0;
    for (int v = 0; v < CBV; v++) add_to_f64(t + 4 * v, acc[r][v]);
  }
}

/* Valid output rows for filter row ky: input row oy+ky-pt must lie in [0, h). */
INLINE int range_lo(int k, int pad) { return pad - k > 0 ? pad - k : 0; }
INLINE int range_hi(int k, int pad, int in, int out) {
  int hi = in + pad - k;
  return hi < out ? hi : out;
}

/*
 * x [n,h,w,c], dy [n,oh,ow,co]: adds dw [kh,kw,c,co] into the float64 `totals` (the caller clears
 * them with clear_f64 and rounds them with totals_to_f32). Needs c % 4 == 0 and co % 8 == 0.
 */
EXPORT void filter_grad(const f32 *x, const f32 *dy, f64 *totals, int n, int h, int w, int c,
                        int oh, int ow, int co, int kh, int kw, int pt, int pl) {
  ConvShape s = {h, w, c, oh, ow, co, kh, kw, pt, pl};
  for (int b = 0; b < n; b++) {
    const f32 *xb = x + b * h * w * c;
    const f32 *dyb = dy + b * oh * ow * co;
    for (int ky = 0; ky < kh; ky++) {
      int oy0 = range_lo(ky, pt), oy1 = range_hi(ky, pt, h, oh);
      for (int kx = 0; kx < kw; kx++) {
        int ox0 = range_lo(kx, pl), ox1 = range_hi(kx, pl, w, ow);
        if (oy0 >= oy1 || ox0 >= ox1) continue;
        for (int c0 = 0; c0 < c; c0 += 4) {
          for (int o0 = 0; o0 < co; o0 += 8)
            filter_grad_block(xb, dyb, totals, &s, ky, kx, c0, o0, oy0, oy1, ox0, ox1, 4, 2);
        }
      }
    }
  }
}

/* ------------------------------------------------------------------------------------------- */
/* Filter gradient, one input channel (every net's first layer): rows are the RB filter taps    */
/* kx..kx+RB-1 of one filter row, so one dy load serves RB taps.                                */
/* ------------------------------------------------------------------------------------------- */

INLINE void filter_grad1_block(const f32 *x, const f32 *dy, f64 *totals, const ConvShape *s,
                               int ky, int kx, int o0, int oy0, int oy1, int ox0, int ox1,
                               const int RB, const int CBV) {
  v128_t acc[5][2];
  for (int r = 0; r < RB; r++)
    for (int v = 0; v < CBV; v++) acc[r][v] = wasm_f32x4_splat(0.0f);
  for (int oy = oy0; oy < oy1; oy++) {
    const f32 *xrow = x + (oy + ky - s->pt) * s->w + (ox0 + kx - s->pl);
    const f32 *dyrow = dy + (oy * s->ow + ox0) * s->co + o0;
    for (int ox = ox0; ox < ox1; ox++, xrow += 1, dyrow += s->co) {
      v128_t g[2];
      for (int v = 0; v < CBV; v++) g[v] = load4(dyrow + 4 * v);
      for (int r = 0; r < RB; r++) {
        v128_t xv = splat(xrow + r);
        for (int v = 0; v < CBV; v++) acc[r][v] = madd(acc[r][v], xv, g[v]);
      }
    }
  }
  for (int r = 0; r < RB; r++) {
    f64 *t = totals + (ky * s->kw + kx + r) * s->co + o0;
    for (int v = 0; v < CBV; v++) add_to_f64(t + 4 * v, acc[r][v]);
  }
}

/*
 * x [n,h,w,1], dy [n,oh,ow,co]: adds dw [kh,kw,1,co] into the float64 `totals`, as filter_grad.
 * Valid padding only (pt = pl = 0), co % 8 == 0.
 */
EXPORT void filter_grad_1ch(const f32 *x, const f32 *dy, f64 *totals, int n, int h, int w,
                            int oh, int ow, int co, int kh, int kw) {
  ConvShape s = {h, w, 1, oh, ow, co, kh, kw, 0, 0};
  for (int b = 0; b < n; b++) {
    const f32 *xb = x + b * h * w;
    const f32 *dyb = dy + b * oh * ow * co;
    for (int ky = 0; ky < kh; ky++) {
      for (int o0 = 0; o0 < co; o0 += 8) {
        int kx = 0;
        for (; kx + 4 <= kw; kx += 4) filter_grad1_block(xb, dyb, totals, &s, ky, kx, o0, 0, oh, 0, ow, 4, 2);
        for (; kx + 3 <= kw; kx += 3) filter_grad1_block(xb, dyb, totals, &s, ky, kx, o0, 0, oh, 0, ow, 3, 2);
        for (; kx < kw; kx += 1) filter_grad1_block(xb, dyb, totals, &s, ky, kx, o0, 0, oh, 0, ow, 1, 2);
      }
    }
  }
}

EXPORT void clear_f64(f64 *totals, int count) { zero_f64(totals, count); }

/* out = (float) (a + b); b may be 0 (none). The two halves of a batch split between threads. */
EXPORT void totals_to_f32(const f64 *a, const f64 *b, f32 *out, int count) {
  if (b) {
    for (int i = 0; i < count; i++) out[i] = (f32)(a[i] + b[i]);
  } else {
    f64_to_f32(a, out, count);
  }
}

/* ------------------------------------------------------------------------------------------- */
/* Forward convolution, any input channels, bias fused, valid:                                   */
/*   y[n,oy,ox,o] = bias[o] + sum_{ky,kx,c} x[n, oy+ky, ox+kx, c] * w[ky,kx,c,o]                 */
/* Vectorised over o in blocks of 8; P neighbouring pixels share each filter load.                */
/* ------------------------------------------------------------------------------------------- */

INLINE void conv_block(const f32 *xb, const f32 *w, const f32 *bias, f32 *yp, const ConvShape *s,
                       int oy, int ox, int o0, int relu, const int P, const int CBV) {
  v128_t acc[4][8];
  for (int v = 0; v < CBV; v++) {
    v128_t bv = bias ? load4(bias + o0 + 4 * v) : wasm_f32x4_splat(0.0f);
    for (int p = 0; p < P; p++) acc[p][v] = bv;
  }
  for (int ky = 0; ky < s->kh; ky++) {
    for (int kx = 0; kx < s->kw; kx++) {
      const f32 *xp = xb + ((oy + ky) * s->w + ox + kx) * s->c;
      const f32 *wp = w + ((ky * s->kw + kx) * s->c) * s->co + o0;
      const f32 *xq[4];
      for (int p = 0; p < P; p++) xq[p] = xp + p * s->c;
      for (int c = 0; c < s->c; c++, wp += s->co) {
        v128_t wv[8];
        for (int v = 0; v < CBV; v++) wv[v] = load4(wp + 4 * v);
        for (int p = 0; p < P; p++) {
          v128_t xv = splat(xq[p] + c);
          for (int v = 0; v < CBV; v++) acc[p][v] = madd(acc[p][v], xv, wv[v]);
        }
      }
    }
  }
  v128_t zero = wasm_f32x4_splat(0.0f);
  for (int p = 0; p < P; p++)
    for (int v = 0; v < CBV; v++) store4(yp + p * s->co + o0 + 4 * v, relu ? wasm_f32x4_pmax(acc[p][v], zero) : acc[p][v]);
}

/* conv_block for c == 1: the P pixels' inputs are adjacent, so one base pointer serves them all. */
INLINE void conv1_block(const f32 *xb, const f32 *w, const f32 *bias, f32 *yp, const ConvShape *s,
                        int oy, int ox, int o0, int relu, const int P) {
  v128_t acc[4][2];
  v128_t b0 = wasm_f32x4_splat(0.0f), b1 = b0;
  if (bias) b0 = load4(bias + o0), b1 = load4(bias + o0 + 4);
  for (int p = 0; p < P; p++) acc[p][0] = b0, acc[p][1] = b1;
  for (int ky = 0; ky < s->kh; ky++) {
    const f32 *xrow = xb + (oy + ky) * s->w + ox;
    const f32 *wrow = w + ky * s->kw * s->co + o0;
    for (int kx = 0; kx < s->kw; kx++, wrow += s->co) {
      v128_t w0 = load4(wrow), w1 = load4(wrow + 4);
      for (int p = 0; p < P; p++) {
        v128_t xv = splat(xrow + kx + p);
        acc[p][0] = madd(acc[p][0], xv, w0);
        acc[p][1] = madd(acc[p][1], xv, w1);
      }
    }
  }
  v128_t zero = wasm_f32x4_splat(0.0f);
  for (int p = 0; p < P; p++) {
    if (relu) acc[p][0] = wasm_f32x4_pmax(acc[p][0], zero), acc[p][1] = wasm_f32x4_pmax(acc[p][1], zero);
    store4(yp + p * s->co + o0, acc[p][0]);
    store4(yp + p * s->co + o0 + 4, acc[p][1]);
  }
}

/* x [n,h,w,c], w [kh,kw,c,co], bias [co] or 0 for none -> y [n,oh,ow,co]; co % 8 == 0; relu: 0 or 1. */
EXPORT void conv2d(const f32 *x, const f32 *w, const f32 *bias, f32 *y, int n, int h, int wd, int c,
                   int oh, int ow, int co, int kh, int kw, int relu) {
  ConvShape s = {h, wd, c, oh, ow, co, kh, kw, 0, 0};
  for (int b = 0; b < n; b++) {
    const f32 *xb = x + b * h * wd * c;
    for (int oy = 0; oy < oh; oy++) {
      f32 *yrow = y + ((b * oh + oy) * ow) * co;
      int ox = 0;
      if (c == 1) {
        for (; ox + 4 <= ow; ox += 4)
          for (int o0 = 0; o0 < co; o0 += 8) conv1_block(xb, w, bias, yrow + ox * co, &s, oy, ox, o0, relu, 4);
      } else {
        /* 2 pixels x 16 channels: the blocking V8 keeps in registers best (measured against 4x8, 3x8, 3x16, 1x32). */
        for (; ox + 2 <= ow; ox += 2) {
          int o0 = 0;
          for (; o0 + 16 <= co; o0 += 16) conv_block(xb, w, bias, yrow + ox * co, &s, oy, ox, o0, relu, 2, 4);
          for (; o0 < co; o0 += 8) conv_block(xb, w, bias, yrow + ox * co, &s, oy, ox, o0, relu, 2, 2);
        }
      }
      for (; ox < ow; ox += 1)
        for (int o0 = 0; o0 < co; o0 += 8) conv_block(xb, w, bias, yrow + ox * co, &s, oy, ox, o0, relu, 1, 2);
    }
  }
}

/* ------------------------------------------------------------------------------------------- */
/* Input gradient:                                                                              */
/*   dx[n,y,x,c] = sum_{ky,kx,o} dy[n, y-ky+pt, x-kx+pl, o] * w[ky,kx,c,o]                      */
/* over the taps that land inside dy (no multiplications by padding). Vectorised over c, with    */
/* the filter transposed to wt[ky,kx,o,c]; P neighbouring pixels share each filter load.          */
/* ------------------------------------------------------------------------------------------- */

INLINE void input_grad_block(const f32 *dyb, const f32 *wt, f32 *dxp, const ConvShape *s, int y, int x,
                             int ky0, int ky1, int kx0, int kx1, int c0, const int P, const int CBV) {
  v128_t acc[2][6];
  for (int p = 0; p < P; p++)
    for (int v = 0; v < CBV; v++) acc[p][v] = wasm_f32x4_splat(0.0f);
  for (int ky = ky0; ky < ky1; ky++) {
    for (int kx = kx0; kx < kx1; kx++) {
      const f32 *g = dyb + ((y - ky + s->pt) * s->ow + (x - kx + s->pl)) * s->co;
      const f32 *wk = wt + ((ky * s->kw + kx) * s->co) * s->c + c0;
      for (int o = 0; o < s->co; o++, wk += s->c) {
        v128_t gv[2];
        for (int p = 0; p < P; p++) gv[p] = splat(g + p * s->co + o);
        for (int v = 0; v < CBV; v++) {
          v128_t wv = load4(wk + 4 * v);
          for (int p = 0; p < P; p++) acc[p][v] = madd(acc[p][v], gv[p], wv);
        }
      }
    }
  }
  for (int p = 0; p < P; p++)
    for (int v = 0; v < CBV; v++) store4(dxp + p * s->c + c0 + 4 * v, acc[p][v]);
}

INLINE void input_grad_pixels(const f32 *dyb, const f32 *wt, f32 *dxp, const ConvShape *s, int y, int x,
                              int ky0, int ky1, int kx0, int kx1, const int P) {
  int c0 = 0;
  for (; c0 + 24 <= s->c && P == 1; c0 += 24) input_grad_block(dyb, wt, dxp, s, y, x, ky0, ky1, kx0, kx1, c0, P, 6);
  for (; c0 + 16 <= s->c; c0 += 16) input_grad_block(dyb, wt, dxp, s, y, x, ky0, ky1, kx0, kx1, c0, P, 4);
  for (; c0 + 8 <= s->c; c0 += 8) input_grad_block(dyb, wt, dxp, s, y, x, ky0, ky1, kx0, kx1, c0, P, 2);
  for (; c0 < s->c; c0 += 4) input_grad_block(dyb, wt, dxp, s, y, x, ky0, ky1, kx0, kx1, c0, P, 1);
}

/* Taps k with 0 <= i - k + pad < out: k in (i + pad - out, i + pad], clipped to [0, kernel). */
INLINE int taps_lo(int i, int pad, int out) {
  int lo = i + pad - out + 1;
  return lo > 0 ? lo : 0;
}
INLINE int taps_hi(int i, int pad, int kernel) {
  int hi = i + pad + 1;
  return hi < kernel ? hi : kernel;
}

/* w [kh,kw,c,co] -> wt [kh,kw,co,c]: the filter in the layout input_grad reads (taps = kh*kw). */
EXPORT void input_grad_filter(const f32 *w, f32 *wt, int taps, int c, int co) {
  for (int k = 0; k < taps; k++)
    for (int i = 0; i < c; i++)
      for (int o = 0; o < co; o++) wt[(k * co + o) * c + i] = w[(k * c + i) * co + o];
}

/*
 * dy [n,oh,ow,co], wt [kh,kw,co,c] (input_grad_filter's layout) -> dx [n,h,w,c]. Needs c % 4 == 0.
 */
EXPORT void input_grad(const f32 *dy, const f32 *wt, f32 *dx, int n, int h, int wd, int c,
                       int oh, int ow, int co, int kh, int kw, int pt, int pl) {
  ConvShape s = {h, wd, c, oh, ow, co, kh, kw, pt, pl};
  for (int b = 0; b < n; b++) {
    const f32 *dyb = dy + b * oh * ow * co;
    for (int y = 0; y < h; y++) {
      int ky0 = taps_lo(y, pt, oh), ky1 = taps_hi(y, pt, kh);
      f32 *dxrow = dx + ((b * h + y) * wd) * c;
      for (int x = 0; x < wd;) {
        int kx0 = taps_lo(x, pl, ow), kx1 = taps_hi(x, pl, kw);
        int full = ky0 < ky1 && kx0 == 0 && kx1 == kw && x + 1 < wd && taps_lo(x + 1, pl, ow) == 0 && taps_hi(x + 1, pl, kw) == kw;
        if (full) {
          input_grad_pixels(dyb, wt, dxrow + x * c, &s, y, x, ky0, ky1, 0, kw, 2);
          x += 2;
        } else {
          if (ky0 < ky1 && kx0 < kx1) {
            input_grad_pixels(dyb, wt, dxrow + x * c, &s, y, x, ky0, ky1, kx0, kx1, 1);
          } else {
            for (int i = 0; i < c; i++) dxrow[x * c + i] = 0.0f;
          }
          x += 1;
        }
      }
    }
  }
}

/* ------------------------------------------------------------------------------------------- */
/* Matrix product C[m,n] = bias[n] + sum_k A(m,k) * B[k,n], optionally ReLU'd, for the linear     */
/* layers and their gradients. A(m,k) = a[m*sm + k*sk], so A may be given transposed; B is         */
/* row-major [K,N] (transpose it first with transpose_2d). Vectorised over n; P rows of C share    */
/* each load of B.                                                                                 */
/* ------------------------------------------------------------------------------------------- */

INLINE void matmul_block(const f32 *a, const f32 *b, int b_stride, const f32 *bias, f32 *c, int m, int n0, int k_count,
                         int n_count, int sm, int sk, int relu, const int P, const int CBV) {
  v128_t acc[2][4];
  for (int v = 0; v < CBV; v++) {
    v128_t bv = bias ? load4(bias + n0 + 4 * v) : wasm_f32x4_splat(0.0f);
    for (int p = 0; p < P; p++) acc[p][v] = bv;
  }
  const f32 *ap[2];
  for (int p = 0; p < P; p++) ap[p] = a + (m + p) * sm;
  const f32 *bk = b;
  for (int k = 0; k < k_count; k++, bk += b_stride) {
    v128_t bv[4];
    for (int v = 0; v < CBV; v++) bv[v] = load4(bk + 4 * v);
    for (int p = 0; p < P; p++) {
      v128_t av = splat(ap[p] + k * sk);
      for (int v = 0; v < CBV; v++) acc[p][v] = madd(acc[p][v], av, bv[v]);
    }
  }
  v128_t zero = wasm_f32x4_splat(0.0f);
  for (int p = 0; p < P; p++)
    for (int v = 0; v < CBV; v++) store4(c + (m + p) * n_count + n0 + 4 * v, relu ? wasm_f32x4_pmax(acc[p][v], zero) : acc[p][v]);
}

/* Columns n0..n0+15 of B, given as B^T [N,K] row-major, into packed [K][16]: 4x4 blocks transposed in registers. */
INLINE void pack_transposed_panel(const f32 *bt, f32 *packed, int n0, int k_count) {
  for (int k = 0; k < k_count; k += 4) {
    for (int j = 0; j < 16; j += 4) {
      const f32 *r = bt + (n0 + j) * k_count + k;
      v128_t v0 = load4(r), v1 = load4(r + k_count), v2 = load4(r + 2 * k_count), v3 = load4(r + 3 * k_count);
      v128_t lo01 = wasm_i32x4_shuffle(v0, v1, 0, 4, 1, 5), lo23 = wasm_i32x4_shuffle(v2, v3, 0, 4, 1, 5);
      v128_t hi01 = wasm_i32x4_shuffle(v0, v1, 2, 6, 3, 7), hi23 = wasm_i32x4_shuffle(v2, v3, 2, 6, 3, 7);
      f32 *out = packed + k * 16 + j;
      store4(out, wasm_i32x4_shuffle(lo01, lo23, 0, 1, 4, 5));
      store4(out + 16, wasm_i32x4_shuffle(lo01, lo23, 2, 3, 6, 7));
      store4(out + 32, wasm_i32x4_shuffle(hi01, hi23, 0, 1, 4, 5));
      store4(out + 48, wasm_i32x4_shuffle(hi01, hi23, 2, 3, 6, 7));
    }
  }
}

/*
 * Rows [m0, m1) of C [M,N]; bias [N] or 0; relu 0 or 1. packed: k_count*16 float32 of scratch,
 * where each 16-column panel of B is copied contiguously so that the k loop streams through it.
 * bt 1: b holds B transposed, [N,K] row-major, N % 16 == 0 and K % 4 == 0; each thread transposes
 * the panels as it packs them (the same products in the same order as B given plain).
 */
EXPORT void matmul(const f32 *a, const f32 *b, const f32 *bias, f32 *c, f32 *packed, int m0, int m1, int k_count,
                   int n_count, int sm, int sk, int relu, int bt) {
  int n0 = 0;
  for (; n0 + 16 <= n_count; n0 += 16) {
    if (bt) {
      pack_transposed_panel(b, packed, n0, k_count);
    } else {
      for (int k = 0; k < k_count; k++)
        for (int v = 0; v < 4; v++) store4(packed + k * 16 + 4 * v, load4(b + k * n_count + n0 + 4 * v));
    }
    int m = m0;
    for (; m + 2 <= m1; m += 2) matmul_block(a, packed, 16, bias, c, m, n0, k_count, n_count, sm, sk, relu, 2, 4);
    for (; m < m1; m++) matmul_block(a, packed, 16, bias, c, m, n0, k_count, n_count, sm, sk, relu, 1, 4);
  }
  for (; n0 + 4 <= n_count; n0 += 4) {
    int m = m0;
    for (; m + 2 <= m1; m += 2) matmul_block(a, b + n0, n_count, bias, c, m, n0, k_count, n_count, sm, sk, relu, 2, 1);
    for (; m < m1; m++) matmul_block(a, b + n0, n_count, bias, c, m, n0, k_count, n_count, sm, sk, relu, 1, 1);
  }
  for (; n0 < n_count; n0++) {
    for (int m = m0; m < m1; m++) {
      f32 total = bias ? bias[n0] : 0.0f;
      for (int k = 0; k < k_count; k++) total += a[m * sm + k * sk] * b[k * n_count + n0];
      c[m * n_count + n0] = relu && total < 0.0f ? 0.0f : total;
    }
  }
}

/* dst [cols, rows] = src [rows, cols] transposed. */
EXPORT void transpose_2d(const f32 *src, f32 *dst, int rows, int cols) {
  for (int r = 0; r < rows; r++)
    for (int k = 0; k < cols; k++) dst[k * rows + r] = src[r * cols + k];
}

/* ------------------------------------------------------------------------------------------- */
/* Max-pool gradient, 2x2 windows at stride 2, no padding: each window's gradient goes to its   */
/* FIRST maximum in row-major order; a NaN takes the window ((v > best) || v != v), PyTorch's    */
/* rule. Rows and columns past the last full window get zero.                                    */
/* ------------------------------------------------------------------------------------------- */

INLINE v128_t takes(v128_t v, v128_t best) {
  return wasm_v128_or(wasm_f32x4_gt(v, best), wasm_f32x4_ne(v, v));
}

/* ReLU where asked: v where v > 0 or v is NaN (ReLU keeps a NaN, as PyTorch's does), else +0. */
INLINE v128_t relu_if(v128_t v, int relu) {
  v128_t zero = wasm_f32x4_splat(0.0f);
  return relu ? wasm_v128_bitselect(v, zero, takes(v, zero)) : v;
}

/*
 * Max-pool forward, same windows: y [n,h/2,w/2,c] = max of each window (a NaN wins, as above);
 * relu 1: ReLU of it, which is also the max of the window's ReLUs (ReLU then pool, or pool then ReLU).
 */
EXPORT void max_pool_2x2(const f32 *x, f32 *y, int n, int h, int w, int c, int relu) {
  int oh = h / 2, ow = w / 2;
  int row = w * c;
  for (int b = 0; b < n; b++) {
    for (int oy = 0; oy < oh; oy++) {
      const f32 *x0 = x + (b * h + 2 * oy) * row;
      f32 *out = y + (b * oh + oy) * ow * c;
      for (int ox = 0; ox < ow; ox++, x0 += 2 * c, out += c) {
        for (int k = 0; k < c; k += 4) {
          v128_t best = load4(x0 + k);
          v128_t v = load4(x0 + c + k);
          best = wasm_v128_bitselect(v, best, takes(v, best));
          v = load4(x0 + row + k);
          best = wasm_v128_bitselect(v, best, takes(v, best));
          v = load4(x0 + row + c + k);
          best = wasm_v128_bitselect(v, best, takes(v, best));
          store4(out + k, relu_if(best, relu));
        }
      }
    }
  }
}

/*
 * x, dx [n,h,w,c]; dy [n,h/2,w/2,c]; c % 4 == 0. Every element of dx is written once.
 * relu 1: the gradient of max_pool_2x2 with relu: a window whose maximum is not above 0 passes
 * nothing (+0), one whose maximum is NaN passes NaN (as ReLU's gradient dy * step(y) does).
 */
EXPORT void max_pool_grad_2x2(const f32 *x, const f32 *dy, f32 *dx, int n, int h, int w, int c, int relu) {
  int oh = h / 2, ow = w / 2;
  int row = w * c;
  for (int b = 0; b < n; b++) {
    if (h % 2) {
      f32 *last = dx + (b * h + h - 1) * row;
      for (int i = 0; i < row; i++) last[i] = 0.0f;
    }
    if (w % 2) {
      for (int y = 0; y < 2 * oh; y++) {
        f32 *last = dx + ((b * h + y) * w + w - 1) * c;
        for (int i = 0; i < c; i++) last[i] = 0.0f;
      }
    }
    for (int oy = 0; oy < oh; oy++) {
      const f32 *x0 = x + (b * h + 2 * oy) * row;
      f32 *d0 = dx + (b * h + 2 * oy) * row;
      const f32 *g = dy + (b * oh + oy) * ow * c;
      for (int ox = 0; ox < ow; ox++, x0 += 2 * c, d0 += 2 * c, g += c) {
        for (int k = 0; k < c; k += 4) {
          v128_t v0 = load4(x0 + k), v1 = load4(x0 + c + k);
          v128_t v2 = load4(x0 + row + k), v3 = load4(x0 + row + c + k);
          v128_t t1 = takes(v1, v0);
          v128_t best = wasm_v128_bitselect(v1, v0, t1);
          v128_t t2 = takes(v2, best);
          best = wasm_v128_bitselect(v2, best, t2);
          v128_t t3 = takes(v3, best);
          best = wasm_v128_bitselect(v3, best, t3);
          v128_t gv = load4(g + k);
          if (relu) {
            v128_t zero = wasm_f32x4_splat(0.0f);
            v128_t nan = wasm_f32x4_ne(best, best);
            gv = wasm_v128_or(wasm_v128_and(gv, wasm_f32x4_gt(best, zero)), wasm_v128_and(wasm_f32x4_splat(__builtin_nanf("")), nan));
          }
          v128_t w3 = t3;
          v128_t w2 = wasm_v128_andnot(t2, t3);
          v128_t w1 = wasm_v128_andnot(wasm_v128_andnot(t1, t2), t3);
          v128_t w0 = wasm_v128_not(wasm_v128_or(wasm_v128_or(t1, t2), t3));
          store4(d0 + k, wasm_v128_and(gv, w0));
          store4(d0 + c + k, wasm_v128_and(gv, w1));
          store4(d0 + row + k, wasm_v128_and(gv, w2));
          store4(d0 + row + c + k, wasm_v128_and(gv, w3));
        }
      }
    }
  }
}

/* ------------------------------------------------------------------------------------------- */
/* The first layer, one kernel each way: a valid convolution of 1-channel images (bias fused),   */
/* its 2x2 max pool at stride 2 and a ReLU (either order: the same values and gradients).        */
/* The forward never writes the convolution's map: it keeps, for each pooled value, which of its  */
/* window's four it took (0-3, row-major: the first maximum, or a NaN, as max_pool_grad_2x2       */
/* picks). Each convolution value is computed as conv2d's (bias, then the taps in order): the   */
/* same bits. The backward takes only the map values that a window passed on: three in four of  */
/* the map's gradient are zeros, which filter_grad_1ch would multiply. For each pooled value and */
/* channel, its gradient times the taps of the window at its position (gathered per image,       */
/* padded to a multiple of 4) adds into that channel's filter gradient: a quarter of the          */
/* multiply-adds. Each image's sums are taken in float32, then added in float64, as the other    */
/* filter gradients; the bias gradient sums each row of pooled values in float32, then the rows  */
/* in float64. The order differs from the composed kernels', so a last bit or so may differ.     */
/* ------------------------------------------------------------------------------------------- */

typedef unsigned char u8;

/* Window (iy, ix) of the convolution's map, channels o0..o0+7: pooled and ReLU'd into y, its positions into where. */
INLINE void conv_pool_block(const f32 *xb, const f32 *w, const f32 *bias, f32 *y, u8 *where, int wd, int co,
                            int kh, int kw, int iy, int ix, int o0) {
  v128_t acc[4][2];
  v128_t b0 = load4(bias + o0), b1 = load4(bias + o0 + 4);
  for (int p = 0; p < 4; p++) acc[p][0] = b0, acc[p][1] = b1;
  for (int ky = 0; ky < kh; ky++) {
    const f32 *top = xb + (iy + ky) * wd + ix, *bottom = top + wd;
    const f32 *wrow = w + ky * kw * co + o0;
    for (int kx = 0; kx < kw; kx++, wrow += co) {
      v128_t w0 = load4(wrow), w1 = load4(wrow + 4);
      v128_t xs[4] = {splat(top + kx), splat(top + kx + 1), splat(bottom + kx), splat(bottom + kx + 1)};
      for (int p = 0; p < 4; p++) {
        acc[p][0] = madd(acc[p][0], xs[p], w0);
        acc[p][1] = madd(acc[p][1], xs[p], w1);
      }
    }
  }
  v128_t pos[2];
  for (int v = 0; v < 2; v++) {
    v128_t best = acc[0][v];
    pos[v] = wasm_i32x4_splat(0);
    for (int p = 1; p < 4; p++) {
      v128_t t = takes(acc[p][v], best);
      best = wasm_v128_bitselect(acc[p][v], best, t);
      pos[v] = wasm_v128_bitselect(wasm_i32x4_splat(p), pos[v], t);
    }
    store4(y + o0 + 4 * v, relu_if(best, 1));
  }
  v128_t bytes = wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(pos[0], pos[1]), wasm_i16x8_splat(0));
  wasm_v128_store64_lane(where + o0, bytes, 0);
}

/*
 * x [n,h,wd,1], w [kh,kw,1,co], bias [co] -> y [n,ph,pw,co] = ReLU(max of each 2x2 window of the
 * convolution), where [n,ph,pw,co] (bytes) = each window's position taken; ph = (h-kh+1)/2,
 * pw = (wd-kw+1)/2 (a last odd row or column of the map is left out, as max_pool_2x2 does).
 * co % 8 == 0.
 */
EXPORT void conv_pool_relu(const f32 *x, const f32 *w, const f32 *bias, f32 *y, u8 *where, int n, int h, int wd,
                           int co, int kh, int kw) {
  int ph = (h - kh + 1) / 2, pw = (wd - kw + 1) / 2;
  for (int b = 0; b < n; b++) {
    const f32 *xb = x + b * h * wd;
    for (int py = 0; py < ph; py++) {
      int at = ((b * ph + py) * pw) * co;
      for (int px = 0; px < pw; px++, at += co)
        for (int o0 = 0; o0 < co; o0 += 8) conv_pool_block(xb, w, bias, y + at, where + at, wd, co, kh, kw, 2 * py, 2 * px, o0);
    }
  }
}

/* A pooled value's gradient where its window passed it on (output y above 0), NaN where y is NaN, else +0: 4 channels. */
INLINE v128_t passed_gradient(const f32 *y, const f32 *g) {
  v128_t out = load4(y), zero = wasm_f32x4_splat(0.0f);
  return wasm_v128_or(wasm_v128_and(load4(g), wasm_f32x4_gt(out, zero)),
                      wasm_v128_and(wasm_f32x4_splat(__builtin_nanf("")), wasm_f32x4_ne(out, out)));
}

/* The positions (0-3) kept for 4 channels, as i32 lanes. */
INLINE v128_t kept_positions(const u8 *where) {
  return wasm_u32x4_extend_low_u16x8(wasm_u16x8_extend_low_u8x16(wasm_v128_load32_zero(where)));
}

/* corner + the position's row (pos / 2) times row_step + its column (pos % 2) times column_step, lane by lane. */
INLINE v128_t position_offset(v128_t corner, v128_t pos, int row_step, int column_step) {
  return wasm_i32x4_add(corner, wasm_i32x4_add(wasm_i32x4_mul(wasm_u32x4_shr(pos, 1), wasm_i32x4_splat(row_step)),
                                               wasm_i32x4_mul(wasm_v128_and(pos, wasm_i32x4_splat(1)), wasm_i32x4_splat(column_step))));
}

/* Every map position's window of taps, kh*kw floats padded with zeros to kp (a multiple of 4): patches [oh*ow][kp]. */
INLINE void gather_patches(const f32 *xb, f32 *patches, int wd, int oh, int ow, int kh, int kw, int kp) {
  for (int oy = 0; oy < oh; oy++) {
    for (int ox = 0; ox < ow; ox++) {
      f32 *p = patches + (oy * ow + ox) * kp;
      const f32 *xr = xb + oy * wd + ox;
      if (kw >= 4) {
        /* 4 taps of a row at once (never past the row's window, so never past the image) */
        for (int ky = 0; ky < kh; ky++, xr += wd) {
          wasm_v128_store(p + ky * kw, wasm_v128_load(xr));
          for (int kx = 4; kx < kw; kx++) p[ky * kw + kx] = xr[kx];
        }
      } else if (kw == 3) {
        /* 2 taps at once, then the third; the 0s stored after them land where the next row, or the padding, goes */
        for (int ky = 0; ky < kh; ky++, xr += wd) {
          wasm_v128_store(p + ky * kw, wasm_v128_load64_zero(xr));
          p[ky * kw + 2] = xr[2];
        }
      } else {
        for (int ky = 0; ky < kh; ky++, xr += wd)
          for (int kx = 0; kx < kw; kx++) p[ky * kw + kx] = xr[kx];
      }
      for (int t = kh * kw; t < kp; t++) p[t] = 0.0f;
    }
  }
}

/* Channel c's filter gradient of one image: the sum over its pooled values q of gm[q] times the taps at patches + at[q]. */
INLINE void sparse_channel(const f32 *patches, const f32 *gm, const int *at, f32 *out, int count, int co, int c, const int V) {
  v128_t acc[7];
  for (int j = 0; j < V; j++) acc[j] = wasm_f32x4_splat(0.0f);
  for (int q = 0; q < count; q++) {
    v128_t gv = splat(gm + q * co + c);
    const f32 *p = patches + at[q * co + c];
    for (int j = 0; j < V; j++) acc[j] = madd(acc[j], gv, load4(p + 4 * j));
  }
  for (int j = 0; j < V; j++) store4(out + 4 * j, acc[j]);
}

/*
 * The gradient of conv_pool_relu for the pooled gradient g [n,ph,pw,co], from its input x, its
 * output y and where: adds dw [kh,kw,1,co] into totals[0 .. kh*kw*co) and the bias gradient into
 * totals[kh*kw*co ..), float64 (clear_f64 before, totals_to_f32 after). A window passes its
 * gradient to its position where its maximum is above 0 (y > 0), NaN where it is NaN, else
 * nothing. kh*kw <= 28. scratch: oh*ow*kp + 2*ph*pw*co + co + kp floats, kp = kh*kw rounded up to 4.
 */
EXPORT void conv_pool_relu_grad(const f32 *x, const u8 *where, const f32 *y, const f32 *g, f64 *totals, f32 *scratch,
                                int n, int h, int wd, int co, int kh, int kw) {
  int oh = h - kh + 1, ow = wd - kw + 1, ph = oh / 2, pw = ow / 2, taps = kh * kw, kp = (taps + 3) & ~3;
  f32 *patches = scratch, *gm = patches + oh * ow * kp, *partial = gm + ph * pw * co, *sums = partial + co;
  int *at = (int *)(sums + kp);
  f64 *bias_totals = totals + taps * co;
  v128_t zero = wasm_f32x4_splat(0.0f);
  for (int b = 0; b < n; b++) {
    gather_patches(x + b * h * wd, patches, wd, oh, ow, kh, kw, kp);
    for (int py = 0; py < ph; py++) {
      for (int k = 0; k < co; k += 4) store4(partial + k, zero);
      for (int px = 0; px < pw; px++) {
        int q = (py * pw + px) * co, src = (b * ph * pw) * co + q;
        v128_t corner = wasm_i32x4_splat((2 * py * ow + 2 * px) * kp);
        for (int k = 0; k < co; k += 4) {
          v128_t gv = passed_gradient(y + src + k, g + src + k);
          store4(partial + k, wasm_f32x4_add(load4(partial + k), gv));
          store4(gm + q + k, gv);
          wasm_v128_store(at + q + k, position_offset(corner, kept_positions(where + src + k), ow * kp, kp));
        }
      }
      for (int k = 0; k < co; k += 4) add_to_f64(bias_totals + k, load4(partial + k));
    }
    for (int c = 0; c < co; c++) {
      switch (kp / 4) {
        case 1: sparse_channel(patches, gm, at, sums, ph * pw, co, c, 1); break;
        case 2: sparse_channel(patches, gm, at, sums, ph * pw, co, c, 2); break;
        case 3: sparse_channel(patches, gm, at, sums, ph * pw, co, c, 3); break;
        case 4: sparse_channel(patches, gm, at, sums, ph * pw, co, c, 4); break;
        case 5: sparse_channel(patches, gm, at, sums, ph * pw, co, c, 5); break;
        case 6: sparse_channel(patches, gm, at, sums, ph * pw, co, c, 6); break;
        default: sparse_channel(patches, gm, at, sums, ph * pw, co, c, 7); break;
      }
      for (int t = 0; t < taps; t++) totals[t * co + c] += sums[t];
    }
  }
}

/* ------------------------------------------------------------------------------------------- */
/* Any later layer with its pool and ReLU: the convolution runs as it is (conv2d or Winograd),    */
/* the pool keeps each window's position (max_pool_2x2_where), and one backward kernel writes the */
/* map's gradient (for the input gradient's kernel) and sums the filter and bias gradients from   */
/* only the values a window passed on: a quarter of the direct kernel's multiply-adds.           */
/* ------------------------------------------------------------------------------------------- */

/* max_pool_2x2 with relu, and each window's position taken (0-3, row-major) as a byte: where [n,h/2,w/2,c]. c % 4 == 0. */
EXPORT void max_pool_2x2_where(const f32 *x, f32 *y, u8 *where, int n, int h, int w, int c) {
  int oh = h / 2, ow = w / 2;
  int row = w * c;
  for (int b = 0; b < n; b++) {
    for (int oy = 0; oy < oh; oy++) {
      const f32 *x0 = x + (b * h + 2 * oy) * row;
      int at = (b * oh + oy) * ow * c;
      for (int ox = 0; ox < ow; ox++, x0 += 2 * c, at += c) {
        for (int k = 0; k < c; k += 4) {
          v128_t best = load4(x0 + k), pos = wasm_i32x4_splat(0);
          const f32 *others[3] = {x0 + c + k, x0 + row + k, x0 + row + c + k};
          for (int p = 0; p < 3; p++) {
            v128_t v = load4(others[p]);
            v128_t t = takes(v, best);
            best = wasm_v128_bitselect(v, best, t);
            pos = wasm_v128_bitselect(wasm_i32x4_splat(p + 1), pos, t);
          }
          store4(y + at + k, relu_if(best, 1));
          v128_t bytes = wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(pos, pos), wasm_i16x8_splat(0));
          wasm_v128_store32_lane(where + at + k, bytes, 0);
        }
      }
    }
  }
}

/* One output channel's gradient for one tap, V*4 input channels: the sum over the pooled values q
 * (gradient gm[q * co], window at at[q * co]) of the gradient times the input there; into tot. */
INLINE void pooled_tap_grad(const f32 *gm, const int *at, const f32 *tap, f64 *tot, int count, int co, const int V) {
  v128_t acc[4];
  for (int v = 0; v < V; v++) acc[v] = wasm_f32x4_splat(0.0f);
  for (int q = 0; q < count; q++) {
    v128_t gv = splat(gm + q * co);
    const f32 *xv = tap + at[q * co];
    for (int v = 0; v < V; v++) acc[v] = madd(acc[v], gv, load4(xv + 4 * v));
  }
  for (int v = 0; v < V; v++) add_to_f64(tot + 4 * v, acc[v]);
}

/*
 * The gradients of relu(max_pool_2x2(conv(x, w) + bias)) (either order) for the pooled gradient
 * g [n,ph,pw,co], from x [n,h,wd,ci], the pooled output y and where (both [n,ph,pw,co]);
 * oh = h-kh+1, ph = oh/2. Writes the map's gradient dmap [n,oh,ow,co] (as max_pool_grad_2x2: for
 * the input gradient's kernel); adds the filter gradient into totals [co][kh*kw][ci] and the bias
 * gradient into totals + co*kh*kw*ci, float64 (conv_pool_grad_out rounds them), from the values a
 * window passed on only. ci % 4 == 0, co % 4 == 0. scratch: 2 * ph*pw*co + co floats.
 */
EXPORT void conv_pool_grad(const f32 *x, const u8 *where, const f32 *y, const f32 *g, f32 *dmap, f64 *totals,
                           f32 *scratch, int n, int h, int wd, int ci, int co, int kh, int kw) {
  int oh = h - kh + 1, ow = wd - kw + 1, ph = oh / 2, pw = ow / 2, taps = kh * kw, count = ph * pw;
  f32 *gm = scratch, *partial = gm + count * co;
  int *at = (int *)(partial + co);
  f64 *bias_totals = totals + co * taps * ci;
  int row = ow * co;
  v128_t zero = wasm_f32x4_splat(0.0f);
  for (int b = 0; b < n; b++) {
    const f32 *xb = x + b * h * wd * ci;
    f32 *db = dmap + b * oh * row;
    if (oh % 2)
      for (int i = 0; i < row; i += 4) store4(db + (oh - 1) * row + i, zero);
    if (ow % 2)
      for (int r = 0; r < 2 * ph; r++)
        for (int k = 0; k < co; k += 4) store4(db + r * row + (ow - 1) * co + k, zero);
    /* each pooled value's gradient where its window passed it on, the map's gradient, and the offset in x of the window at its map pixel */
    for (int py = 0; py < ph; py++) {
      for (int k = 0; k < co; k += 4) store4(partial + k, zero);
      f32 *d0 = db + 2 * py * row;
      for (int px = 0; px < pw; px++, d0 += 2 * co) {
        int q = (py * pw + px) * co, src = b * count * co + q;
        v128_t corner = wasm_i32x4_splat((2 * py * wd + 2 * px) * ci);
        for (int k = 0; k < co; k += 4) {
          v128_t gv = passed_gradient(y + src + k, g + src + k);
          store4(partial + k, wasm_f32x4_add(load4(partial + k), gv));
          store4(gm + q + k, gv);
          v128_t pos = kept_positions(where + src + k);
          store4(d0 + k, wasm_v128_and(gv, wasm_i32x4_eq(pos, wasm_i32x4_splat(0))));
          store4(d0 + co + k, wasm_v128_and(gv, wasm_i32x4_eq(pos, wasm_i32x4_splat(1))));
          store4(d0 + row + k, wasm_v128_and(gv, wasm_i32x4_eq(pos, wasm_i32x4_splat(2))));
          store4(d0 + row + co + k, wasm_v128_and(gv, wasm_i32x4_eq(pos, wasm_i32x4_splat(3))));
          wasm_v128_store(at + q + k, position_offset(corner, pos, wd * ci, ci));
        }
      }
      for (int k = 0; k < co; k += 4) add_to_f64(bias_totals + k, load4(partial + k));
    }
    /* the filter gradient: for each output channel and tap, the passed values times the input there */
    for (int o = 0; o < co; o++) {
      for (int t = 0; t < taps; t++) {
        const f32 *tap = xb + ((t / kw) * wd + t % kw) * ci;
        f64 *tot = totals + (o * taps + t) * ci;
        int c0 = 0;
        for (; c0 + 16 <= ci; c0 += 16) pooled_tap_grad(gm + o, at + o, tap + c0, tot + c0, count, co, 4);
        switch ((ci - c0) / 4) {
          case 3: pooled_tap_grad(gm + o, at + o, tap + c0, tot + c0, count, co, 3); break;
          case 2: pooled_tap_grad(gm + o, at + o, tap + c0, tot + c0, count, co, 2); break;
          case 1: pooled_tap_grad(gm + o, at + o, tap + c0, tot + c0, count, co, 1); break;
          default: break;
        }
      }
    }
  }
}

/* dw [taps][ci][co] = (float) (a + b) of totals [co][taps][ci], then the bias: b may be 0 (none). */
EXPORT void conv_pool_grad_out(const f64 *a, const f64 *b, f32 *dw, f32 *db, int taps, int ci, int co) {
  int size = co * taps * ci;
  for (int o = 0; o < co; o++)
    for (int t = 0; t < taps; t++)
      for (int i = 0; i < ci; i++) {
        int from = (o * taps + t) * ci + i;
        dw[(t * ci + i) * co + o] = (f32)(b ? a[from] + b[from] : a[from]);
      }
  for (int o = 0; o < co; o++) db[o] = (f32)(b ? a[size + o] + b[size + o] : a[size + o]);
}

/* ------------------------------------------------------------------------------------------- */
/* Column sums (bias gradients: sum of [N,H,W,C] over N, H, W): rows of `width` floats.          */
/* Blocks of 16 rows are summed in float32 (partials), then added into float64 totals.           */
/* ------------------------------------------------------------------------------------------- */

/* x [rows, width] -> out [width]; width % 4 == 0. scratch: width float32 + width float64. */
EXPORT void sum_rows(const f32 *x, f32 *out, f32 *partials, f64 *totals, int rows, int width) {
  zero_f64(totals, width);
  for (int r0 = 0; r0 < rows; r0 += 16) {
    int r1 = r0 + 16 < rows ? r0 + 16 : rows;
    for (int k = 0; k < width; k += 4) store4(partials + k, wasm_f32x4_splat(0.0f));
    for (int r = r0; r < r1; r++) {
      const f32 *xr = x + r * width;
      for (int k = 0; k < width; k += 4) store4(partials + k, wasm_f32x4_add(load4(partials + k), load4(xr + k)));
    }
    for (int k = 0; k < width; k += 4) add_to_f64(totals + k, load4(partials + k));
  }
  f64_to_f32(totals, out, width);
}

/* ------------------------------------------------------------------------------------------- */
/* Adam, one variable in one call: the same float32 operations, in the same order, as           */
/* TensorFlow.js's AdamOptimizer composes from separate kernels (each rounded to float32), so the */
/* result is bit for bit the same; one pass over memory instead of a dozen.                      */
/*   m' = m*b1 + g*(1-b1)        v' = v*b2 + (g*g)*(1-b2)                                         */
/*   p' = ((m'/c1) / (sqrt(v'/c2) + eps)) * (-lr) + p        c1, c2: 1 - beta^t (float32 tensors) */
/* Every product and sum is its own statement, and contraction into fused multiply-adds is off.  */
/* ------------------------------------------------------------------------------------------- */

INLINE void adam_lanes(const f32 *p, const f32 *g, const f32 *m, const f32 *v, f32 *p_out, f32 *m_out, f32 *v_out,
                       v128_t b1, v128_t omb1, v128_t b2, v128_t omb2, v128_t c1, v128_t c2, v128_t eps, v128_t neg_lr) {
  v128_t gv = load4(g);
  v128_t m_decayed = wasm_f32x4_mul(load4(m), b1);
  v128_t g_share = wasm_f32x4_mul(gv, omb1);
  v128_t m1 = wasm_f32x4_add(m_decayed, g_share);
  v128_t v_decayed = wasm_f32x4_mul(load4(v), b2);
  v128_t g2 = wasm_f32x4_mul(gv, gv);
  v128_t g2_share = wasm_f32x4_mul(g2, omb2);
  v128_t v1 = wasm_f32x4_add(v_decayed, g2_share);
  v128_t m_hat = wasm_f32x4_div(m1, c1);
  v128_t v_hat = wasm_f32x4_div(v1, c2);
  v128_t denominator = wasm_f32x4_add(wasm_f32x4_sqrt(v_hat), eps);
  v128_t ratio = wasm_f32x4_div(m_hat, denominator);
  v128_t step = wasm_f32x4_mul(ratio, neg_lr);
  store4(m_out, m1);
  store4(v_out, v1);
  store4(p_out, wasm_f32x4_add(step, load4(p)));
}

/*
 * p, g, m, v -> p_out, m_out, v_out, `count` float32 each (outputs may not alias inputs);
 * corrections: c[0] = 1 - beta1^t, c[1] = 1 - beta2^t (two float32 scalars, from two tensors).
 */
EXPORT void adam_step(const f32 *p, const f32 *g, const f32 *m, const f32 *v, f32 *p_out, f32 *m_out, f32 *v_out, int count,
                      f32 beta1, f32 one_minus_beta1, f32 beta2, f32 one_minus_beta2, const f32 *c1, const f32 *c2,
                      f32 eps, f32 neg_lr) {
#pragma clang fp contract(off)
  v128_t b1 = wasm_f32x4_splat(beta1), omb1 = wasm_f32x4_splat(one_minus_beta1);
  v128_t b2 = wasm_f32x4_splat(beta2), omb2 = wasm_f32x4_splat(one_minus_beta2);
  v128_t c1v = splat(c1), c2v = splat(c2), epsv = wasm_f32x4_splat(eps), lrv = wasm_f32x4_splat(neg_lr);
  int i = 0;
  for (; i + 4 <= count; i += 4)
    adam_lanes(p + i, g + i, m + i, v + i, p_out + i, m_out + i, v_out + i, b1, omb1, b2, omb2, c1v, c2v, epsv, lrv);
  for (; i < count; i++) {
    f32 m1 = m[i] * beta1;
    f32 g_share = g[i] * one_minus_beta1;
    m1 = m1 + g_share;
    f32 v1 = v[i] * beta2;
    f32 g2 = g[i] * g[i];
    f32 g2_share = g2 * one_minus_beta2;
    v1 = v1 + g2_share;
    f32 m_hat = m1 / *c1;
    f32 v_hat = v1 / *c2;
    f32 denominator = __builtin_sqrtf(v_hat) + eps;
    f32 ratio = m_hat / denominator;
    f32 step = ratio * neg_lr;
    m_out[i] = m1;
    v_out[i] = v1;
    p_out[i] = step + p[i];
  }
}

/* ------------------------------------------------------------------------------------------- */
/* Adadelta, one variable in one call: the float32 operations of lib/adadelta-step.ts's composed  */
/* update (PyTorch's order), each rounded to float32, in the same order, so the same bits.       */
/*   s' = s*rho + (g*g)*(1-rho)          delta = (sqrt(a + eps) / sqrt(s' + eps)) * g             */
/*   a' = a*rho + (delta*delta)*(1-rho)  p' = p - delta*lr                                         */
/* Every product and sum is its own statement, and contraction into fused multiply-adds is off.  */
/* ------------------------------------------------------------------------------------------- */

INLINE void adadelta_lanes(const f32 *p, const f32 *g, const f32 *s, const f32 *a, f32 *p_out, f32 *s_out, f32 *a_out,
                           v128_t rho, v128_t omr, v128_t eps, v128_t lr) {
  v128_t gv = load4(g), av = load4(a);
  v128_t s_decayed = wasm_f32x4_mul(load4(s), rho);
  v128_t g2 = wasm_f32x4_mul(gv, gv);
  v128_t g2_share = wasm_f32x4_mul(g2, omr);
  v128_t s1 = wasm_f32x4_add(s_decayed, g2_share);
  v128_t numerator = wasm_f32x4_sqrt(wasm_f32x4_add(av, eps));
  v128_t denominator = wasm_f32x4_sqrt(wasm_f32x4_add(s1, eps));
  v128_t ratio = wasm_f32x4_div(numerator, denominator);
  v128_t delta = wasm_f32x4_mul(ratio, gv);
  v128_t a_decayed = wasm_f32x4_mul(av, rho);
  v128_t d2 = wasm_f32x4_mul(delta, delta);
  v128_t d2_share = wasm_f32x4_mul(d2, omr);
  v128_t a1 = wasm_f32x4_add(a_decayed, d2_share);
  v128_t step = wasm_f32x4_mul(delta, lr);
  store4(s_out, s1);
  store4(a_out, a1);
  store4(p_out, wasm_f32x4_sub(load4(p), step));
}

EXPORT void adadelta_step(const f32 *p, const f32 *g, const f32 *s, const f32 *a, f32 *p_out, f32 *s_out, f32 *a_out, int count,
                          f32 rho, f32 one_minus_rho, f32 eps, f32 lr) {
#pragma clang fp contract(off)
  v128_t rhov = wasm_f32x4_splat(rho), omrv = wasm_f32x4_splat(one_minus_rho);
  v128_t epsv = wasm_f32x4_splat(eps), lrv = wasm_f32x4_splat(lr);
  int i = 0;
  for (; i + 4 <= count; i += 4)
    adadelta_lanes(p + i, g + i, s + i, a + i, p_out + i, s_out + i, a_out + i, rhov, omrv, epsv, lrv);
  for (; i < count; i++) {
    f32 s1 = s[i] * rho;
    f32 g2 = g[i] * g[i];
    f32 g2_share = g2 * one_minus_rho;
    s1 = s1 + g2_share;
    f32 numerator = __builtin_sqrtf(a[i] + eps);
    f32 denominator = __builtin_sqrtf(s1 + eps);
    f32 ratio = numerator / denominator;
    f32 delta = ratio * g[i];
    f32 a1 = a[i] * rho;
    f32 d2 = delta * delta;
    f32 d2_share = d2 * one_minus_rho;
    a1 = a1 + d2_share;
    f32 step = delta * lr;
    s_out[i] = s1;
    a_out[i] = a1;
    p_out[i] = p[i] - step;
  }
}

/* ------------------------------------------------------------------------------------------- */
/* Winograd F(2x2, 3x3): a 3x3 convolution at stride 1 by 4x4 input tiles that give 2x2 outputs, */
/* with 16 multiply-adds per tile and channel pair where the direct kernel takes 36 (Lavin and   */
/* Gray, "Fast Algorithms for Convolutional Neural Networks", 2016):                              */
/*   Y = A^T [ (G g G^T) . (B^T d B) ] A,   summed over input channels inside the brackets.      */
/* The transforms are adds and halvings; the sum over channels is, for each of the 16 tile         */
/* positions, a matrix product (tiles x input channels) by (input channels x output channels).    */
/* Rounding differs from the direct kernel's (a few float32 ulps), as in cuDNN's and XNNPACK's.  */
/* ------------------------------------------------------------------------------------------- */

/* One 3x3 filter g (g[a*3+b] at stride `step` apart in w) -> its 16 transformed taps, u[k * at]. */
INLINE void winograd_filter_pair(const f32 *w, int tap_stride, int flip, f32 *u, int at) {
  f32 g[3][3];
  for (int a = 0; a < 3; a++)
    for (int b = 0; b < 3; b++) g[a][b] = flip ? w[((2 - a) * 3 + (2 - b)) * tap_stride] : w[(a * 3 + b) * tap_stride];
  f32 t[4][3]; /* G g */
  for (int b = 0; b < 3; b++) {
    t[0][b] = g[0][b];
    t[1][b] = 0.5f * (g[0][b] + g[1][b] + g[2][b]);
    t[2][b] = 0.5f * (g[0][b] - g[1][b] + g[2][b]);
    t[3][b] = g[2][b];
  }
  for (int r = 0; r < 4; r++) { /* (G g) G^T */
    u[(r * 4 + 0) * at] = t[r][0];
    u[(r * 4 + 1) * at] = 0.5f * (t[r][0] + t[r][1] + t[r][2]);
    u[(r * 4 + 2) * at] = 0.5f * (t[r][0] - t[r][1] + t[r][2]);
    u[(r * 4 + 3) * at] = t[r][2];
  }
}

/*
 * The filter of a ci -> co 3x3 convolution -> u [16][ci][co], its transformed taps.
 * flip 0: w is [3][3][ci][co] (HWIO), the forward filter.
 * flip 1: w is [3][3][co][ci], the forward filter of a co -> ci convolution; the taps are reversed
 *         in both directions and the channels swapped: the filter whose convolution, padded by 2,
 *         gives that convolution's input gradient.
 */
EXPORT void winograd_filter(const f32 *w, f32 *u, int ci, int co, int flip) {
  for (int i = 0; i < ci; i++)
    for (int o = 0; o < co; o++) {
      const f32 *g = flip ? w + o * ci + i : w + i * co + o;
      winograd_filter_pair(g, ci * co, flip, u + i * co + o, ci * co);
    }
}

/* One 4x4 input tile at (iy0, ix0), channels c0..c0+3, zero outside the image -> B^T d B, 16 vectors at v + k * at. */
INLINE void winograd_input_tile(const f32 *xb, f32 *v, int at, int h, int w, int c, int iy0, int ix0, int c0) {
  v128_t zero = wasm_f32x4_splat(0.0f);
  v128_t d[4][4];
  if (iy0 >= 0 && iy0 + 4 <= h && ix0 >= 0 && ix0 + 4 <= w) {
    const f32 *p = xb + (iy0 * w + ix0) * c + c0;
    for (int r = 0; r < 4; r++)
      for (int q = 0; q < 4; q++) d[r][q] = load4(p + (r * w + q) * c);
  } else {
    for (int r = 0; r < 4; r++) {
      int iy = iy0 + r;
      for (int q = 0; q < 4; q++) {
        int ix = ix0 + q;
        d[r][q] = iy >= 0 && iy < h && ix >= 0 && ix < w ? load4(xb + (iy * w + ix) * c + c0) : zero;
      }
    }
  }
  v128_t t[4][4];
  for (int q = 0; q < 4; q++) {
    t[0][q] = wasm_f32x4_sub(d[0][q], d[2][q]);
    t[1][q] = wasm_f32x4_add(d[1][q], d[2][q]);
    t[2][q] = wasm_f32x4_sub(d[2][q], d[1][q]);
    t[3][q] = wasm_f32x4_sub(d[1][q], d[3][q]);
  }
  for (int r = 0; r < 4; r++) {
    store4(v + (r * 4 + 0) * at, wasm_f32x4_sub(t[r][0], t[r][2]));
    store4(v + (r * 4 + 1) * at, wasm_f32x4_add(t[r][1], t[r][2]));
    store4(v + (r * 4 + 2) * at, wasm_f32x4_sub(t[r][2], t[r][1]));
    store4(v + (r * 4 + 3) * at, wasm_f32x4_sub(t[r][1], t[r][3]));
  }
}

/* m[t][o] = sum_i v[t][i] * u[i][o] for tiles t < P and channels o0..o0+4*CBV-1 (one tile position). */
INLINE void winograd_product_block(const f32 *v, const f32 *u, f32 *m, int ci, int co, int o0, const int P, const int CBV) {
  v128_t acc[2][4];
  for (int p = 0; p < P; p++)
    for (int k = 0; k < CBV; k++) acc[p][k] = wasm_f32x4_splat(0.0f);
  const f32 *vp[2];
  for (int p = 0; p < P; p++) vp[p] = v + p * ci;
  const f32 *up = u + o0;
  for (int i = 0; i < ci; i++, up += co) {
    v128_t uv[4];
    for (int k = 0; k < CBV; k++) uv[k] = load4(up + 4 * k);
    for (int p = 0; p < P; p++) {
      v128_t xv = splat(vp[p] + i);
      for (int k = 0; k < CBV; k++) acc[p][k] = madd(acc[p][k], xv, uv[k]);
    }
  }
  for (int p = 0; p < P; p++)
    for (int k = 0; k < CBV; k++) store4(m + p * co + o0 + 4 * k, acc[p][k]);
}

/* A^T m A of tile tx, channels o0..o0+3, plus bias, ReLU'd where asked, into the outputs inside the image. */
INLINE void winograd_output_tile(const f32 *m, int at, const f32 *bias, f32 *yb, int oh, int ow, int co, int oy0, int ox0, int o0, int relu) {
  v128_t t0[4], t1[4];
  for (int q = 0; q < 4; q++) {
    v128_t m0 = load4(m + (0 * 4 + q) * at), m1 = load4(m + (1 * 4 + q) * at);
    v128_t m2 = load4(m + (2 * 4 + q) * at), m3 = load4(m + (3 * 4 + q) * at);
    t0[q] = wasm_f32x4_add(wasm_f32x4_add(m0, m1), m2);
    t1[q] = wasm_f32x4_sub(wasm_f32x4_sub(m1, m2), m3);
  }
  v128_t out[2][2];
  out[0][0] = wasm_f32x4_add(wasm_f32x4_add(t0[0], t0[1]), t0[2]);
  out[0][1] = wasm_f32x4_sub(wasm_f32x4_sub(t0[1], t0[2]), t0[3]);
  out[1][0] = wasm_f32x4_add(wasm_f32x4_add(t1[0], t1[1]), t1[2]);
  out[1][1] = wasm_f32x4_sub(wasm_f32x4_sub(t1[1], t1[2]), t1[3]);
  v128_t bv = bias ? load4(bias + o0) : wasm_f32x4_splat(0.0f);
  v128_t zero = wasm_f32x4_splat(0.0f);
  for (int r = 0; r < 2; r++) {
    if (oy0 + r >= oh) continue;
    for (int q = 0; q < 2; q++) {
      if (ox0 + q >= ow) continue;
      v128_t value = wasm_f32x4_add(bv, out[r][q]);
      store4(yb + ((oy0 + r) * ow + ox0 + q) * co + o0, relu ? wasm_f32x4_pmax(value, zero) : value);
    }
  }
}

/* The 16 products of nt tiles (1 or 2; v [16][2][ci] -> m [16][2][co]), output channels in blocks of 16 then 8. */
INLINE void winograd_products(const f32 *v, const f32 *u, f32 *m, int ci, int co, const int nt) {
  for (int k = 0; k < 16; k++) {
    const f32 *vk = v + k * 2 * ci, *uk = u + k * ci * co;
    f32 *mk = m + k * 2 * co;
    int o0 = 0;
    for (; o0 + 16 <= co; o0 += 16) winograd_product_block(vk, uk, mk, ci, co, o0, nt, 4);
    for (; o0 < co; o0 += 8) winograd_product_block(vk, uk, mk, ci, co, o0, nt, 2);
  }
}

/*
 * x [n,h,w,ci] -> y [n,oh,ow,co] = bias + x (*) the filter u (winograd_filter's [16][ci][co]),
 * x padded by `pad` zeros on every side: oh = h + 2*pad - 2, ow = w + 2*pad - 2. ci % 4 == 0,
 * co % 8 == 0; bias [co] or 0; relu 0 or 1. scratch: 32 * (ci + co) float32, for two tiles at a
 * time (their 16 transformed inputs, then their 16 products).
 */
EXPORT void winograd_conv(const f32 *x, const f32 *u, const f32 *bias, f32 *y, f32 *scratch, int n, int h, int w, int ci,
                          int oh, int ow, int co, int pad, int relu) {
  int tiles_y = (oh + 1) / 2, tiles_x = (ow + 1) / 2;
  f32 *v = scratch, *m = scratch + 32 * ci;
  for (int b = 0; b < n; b++) {
    const f32 *xb = x + b * h * w * ci;
    f32 *yb = y + b * oh * ow * co;
    for (int ty = 0; ty < tiles_y; ty++) {
      for (int tx = 0; tx < tiles_x; tx += 2) {
        int nt = tx + 2 <= tiles_x ? 2 : 1;
        for (int t = 0; t < nt; t++)
          for (int c0 = 0; c0 < ci; c0 += 4) winograd_input_tile(xb, v + t * ci + c0, 2 * ci, h, w, ci, 2 * ty - pad, 2 * (tx + t) - pad, c0);
        if (nt == 2) winograd_products(v, u, m, ci, co, 2);
        else winograd_products(v, u, m, ci, co, 1);
        for (int t = 0; t < nt; t++)
          for (int o0 = 0; o0 < co; o0 += 4) winograd_output_tile(m + t * co + o0, 2 * co, bias, yb, oh, ow, co, 2 * ty, 2 * (tx + t), o0, relu);
      }
    }
  }
}

/* ------------------------------------------------------------------------------------------- */
/* Winograd F(2x2, 3x3) filter gradient. With Y = A^T [U . V] A per tile and U = G g G^T:         */
/*   dL/dU = sum over tiles of (A dY A^T) . V,   dL/dg = G^T (dL/dU) G,                            */
/* so each image adds, for each of the 16 tile positions, a (input channels x tiles) by           */
/* (tiles x output channels) product into float64 totals [16][ci][co]; winograd_filter_grad_out   */
/* then applies G^T . G in float64 and rounds once to float32.                                     */
/* ------------------------------------------------------------------------------------------- */

/* A dY A^T of one 2x2 tile of dy at (oy0, ox0), zero outside the output, channels o0..o0+3 -> 16 vectors at g + k * at. */
INLINE void winograd_grad_tile(const f32 *dyb, f32 *g, int at, int oh, int ow, int co, int oy0, int ox0, int o0) {
  v128_t zero = wasm_f32x4_splat(0.0f);
  v128_t d[2][2];
  for (int r = 0; r < 2; r++)
    for (int q = 0; q < 2; q++)
      d[r][q] = oy0 + r < oh && ox0 + q < ow ? load4(dyb + ((oy0 + r) * ow + ox0 + q) * co + o0) : zero;
  v128_t t[4][2];
  for (int q = 0; q < 2; q++) {
    t[0][q] = d[0][q];
    t[1][q] = wasm_f32x4_add(d[0][q], d[1][q]);
    t[2][q] = wasm_f32x4_sub(d[0][q], d[1][q]);
    t[3][q] = wasm_f32x4_neg(d[1][q]);
  }
  for (int r = 0; r < 4; r++) {
    store4(g + (r * 4 + 0) * at, t[r][0]);
    store4(g + (r * 4 + 1) * at, wasm_f32x4_add(t[r][0], t[r][1]));
    store4(g + (r * 4 + 2) * at, wasm_f32x4_sub(t[r][0], t[r][1]));
    store4(g + (r * 4 + 3) * at, wasm_f32x4_neg(t[r][1]));
  }
}

/* totals[i][o] += sum over the image's tiles of v[t][i] * g[t][o], for i0..i0+3 and o0..o0+7 (one tile position). */
INLINE void winograd_grad_block(const f32 *v, const f32 *g, f64 *totals, int tiles, int ci, int co, int i0, int o0) {
  v128_t acc[4][2];
  for (int r = 0; r < 4; r++) acc[r][0] = acc[r][1] = wasm_f32x4_splat(0.0f);
  for (int t = 0; t < tiles; t++) {
    v128_t g0 = load4(g + t * co + o0), g1 = load4(g + t * co + o0 + 4);
    for (int r = 0; r < 4; r++) {
      v128_t xv = splat(v + t * ci + i0 + r);
      acc[r][0] = madd(acc[r][0], xv, g0);
      acc[r][1] = madd(acc[r][1], xv, g1);
    }
  }
  for (int r = 0; r < 4; r++) {
    add_to_f64(totals + (i0 + r) * co + o0, acc[r][0]);
    add_to_f64(totals + (i0 + r) * co + o0 + 4, acc[r][1]);
  }
}

/*
 * x [n,h,w,ci], dy [n,oh,ow,co] of a valid 3x3 convolution at stride 1: adds dL/dU into the float64
 * `totals` [16][ci][co] (cleared by the caller with clear_f64). ci % 4 == 0, co % 8 == 0.
 * scratch: 16 * tiles * (ci + co) float32, tiles = ceil(oh/2) * ceil(ow/2).
 */
EXPORT void winograd_filter_grad(const f32 *x, const f32 *dy, f64 *totals, f32 *scratch, int n, int h, int w, int ci,
                                 int oh, int ow, int co) {
  int tiles_y = (oh + 1) / 2, tiles_x = (ow + 1) / 2, tiles = tiles_y * tiles_x;
  f32 *v = scratch, *g = scratch + 16 * tiles * ci;
  for (int b = 0; b < n; b++) {
    const f32 *xb = x + b * h * w * ci;
    const f32 *dyb = dy + b * oh * ow * co;
    for (int ty = 0; ty < tiles_y; ty++)
      for (int tx = 0; tx < tiles_x; tx++) {
        int t = ty * tiles_x + tx;
        for (int c0 = 0; c0 < ci; c0 += 4) winograd_input_tile(xb, v + t * ci + c0, tiles * ci, h, w, ci, 2 * ty, 2 * tx, c0);
        for (int o0 = 0; o0 < co; o0 += 4) winograd_grad_tile(dyb, g + t * co + o0, tiles * co, oh, ow, co, 2 * ty, 2 * tx, o0);
      }
    for (int k = 0; k < 16; k++)
      for (int i0 = 0; i0 < ci; i0 += 4)
        for (int o0 = 0; o0 < co; o0 += 8) winograd_grad_block(v + k * tiles * ci, g + k * tiles * co, totals + k * ci * co, tiles, ci, co, i0, o0);
  }
}

/* dw [3][3][ci][co] = (float) G^T (a + b) G, a and b float64 [16][ci][co] (b may be 0: none). */
EXPORT void winograd_filter_grad_out(const f64 *a, const f64 *b, f32 *dw, int ci, int co) {
  int size = ci * co;
  for (int e = 0; e < size; e++) {
    f64 d[4][4];
    for (int r = 0; r < 4; r++)
      for (int q = 0; q < 4; q++) d[r][q] = a[(r * 4 + q) * size + e] + (b ? b[(r * 4 + q) * size + e] : 0.0);
    f64 t[3][4];
    for (int q = 0; q < 4; q++) {
      t[0][q] = d[0][q] + 0.5 * (d[1][q] + d[2][q]);
      t[1][q] = 0.5 * (d[1][q] - d[2][q]);
      t[2][q] = 0.5 * (d[1][q] + d[2][q]) + d[3][q];
    }
    for (int r = 0; r < 3; r++) {
      dw[(r * 3 + 0) * size + e] = (f32)(t[r][0] + 0.5 * (t[r][1] + t[r][2]));
      dw[(r * 3 + 1) * size + e] = (f32)(0.5 * (t[r][1] - t[r][2]));
      dw[(r * 3 + 2) * size + e] = (f32)(0.5 * (t[r][1] + t[r][2]) + t[r][3]);
    }
  }
}

/* ------------------------------------------------------------------------------------------- */
/* Winograd F(4x4, 3x3): each 6x6 input tile gives a 4x4 output tile from 36 products per channel */
/* pair, against F(2x2, 3x3)'s 16 per 2x2 (Lavin and Gray, 2016; points 0, 1, -1, 2, -2, inf):    */
/*   Y = A^T [ (G g G^T) . (B^T d B) ] A,                                                          */
/*   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1], */
/*   G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1],            */
/*   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1].                              */
/* 2.25 products per output instead of 4. The larger transform constants round a little more:   */
/* against F(2x2, 3x3)'s results, 3e-6 to 8e-6 of the largest output (the tests hold 1e-5).       */
/* ------------------------------------------------------------------------------------------- */

/* G applied to three values (float64: the filter is transformed once per call, rounded once). */
INLINE void winograd4_g(f64 g0, f64 g1, f64 g2, f64 *t) {
  t[0] = g0 / 4.0;
  t[1] = -(g0 + g1 + g2) / 6.0;
  t[2] = -(g0 - g1 + g2) / 6.0;
  t[3] = g0 / 24.0 + g1 / 12.0 + g2 / 6.0;
  t[4] = g0 / 24.0 - g1 / 12.0 + g2 / 6.0;
  t[5] = g2;
}

/* One 3x3 filter g (taps at stride `tap_stride` in w; flip: reversed both ways) -> its 36 transformed taps, u[k * at]. */
INLINE void winograd4_filter_pair(const f32 *w, int tap_stride, int flip, f32 *u, int at) {
  f64 g[3][3];
  _Pragma("clang loop unroll(full)")
  for (int a = 0; a < 3; a++)
    _Pragma("clang loop unroll(full)")
    for (int b = 0; b < 3; b++) g[a][b] = flip ? w[((2 - a) * 3 + (2 - b)) * tap_stride] : w[(a * 3 + b) * tap_stride];
  f64 t[3][6]; /* column b of G g, as t[b][r] */
  _Pragma("clang loop unroll(full)")
  for (int b = 0; b < 3; b++) winograd4_g(g[0][b], g[1][b], g[2][b], t[b]);
  _Pragma("clang loop unroll(full)")
  for (int r = 0; r < 6; r++) {
    f64 row[6]; /* row r of (G g) G^T */
    winograd4_g(t[0][r], t[1][r], t[2][r], row);
    _Pragma("clang loop unroll(full)")
    for (int q = 0; q < 6; q++) u[(r * 6 + q) * at] = (f32)row[q];
  }
}

/* As winograd_filter, for F(4x4, 3x3): u [36][ci][co]. */
EXPORT void winograd4_filter(const f32 *w, f32 *u, int ci, int co, int flip) {
  for (int i = 0; i < ci; i++)
    for (int o = 0; o < co; o++) {
      const f32 *g = flip ? w + o * ci + i : w + i * co + o;
      winograd4_filter_pair(g, ci * co, flip, u + i * co + o, ci * co);
    }
}

/* B^T applied to six vectors. */
INLINE void winograd4_bt(v128_t d0, v128_t d1, v128_t d2, v128_t d3, v128_t d4, v128_t d5, v128_t *r) {
  v128_t four = wasm_f32x4_splat(4.0f), two = wasm_f32x4_splat(2.0f);
  v128_t d4_d2 = wasm_f32x4_sub(d4, d2);
  r[0] = wasm_f32x4_add(d4_d2, wasm_f32x4_mul(four, wasm_f32x4_sub(d0, d2)));
  r[1] = wasm_f32x4_sub(wasm_f32x4_add(d3, d4), wasm_f32x4_mul(four, wasm_f32x4_add(d1, d2)));
  r[2] = wasm_f32x4_add(wasm_f32x4_sub(d4, d3), wasm_f32x4_mul(four, wasm_f32x4_sub(d1, d2)));
  r[3] = wasm_f32x4_add(d4_d2, wasm_f32x4_mul(two, wasm_f32x4_sub(d3, d1)));
  r[4] = wasm_f32x4_sub(d4_d2, wasm_f32x4_mul(two, wasm_f32x4_sub(d3, d1)));
  r[5] = wasm_f32x4_add(wasm_f32x4_sub(d5, d3), wasm_f32x4_mul(four, wasm_f32x4_sub(d1, d3)));
}

/*
 * One 6x6 input tile at p (row stride `row`, column stride c floats), channels c0..c0+3 -> B^T d B,
 * 36 vectors at v + k * at. B^T goes down each column into v, then along each row of v in place:
 * a dozen values live at a time, none spilled.
 */
INLINE void winograd4_input_tile(const f32 *p, f32 *v, int at, int row, int c) {
  _Pragma("clang loop unroll(full)")
  for (int q = 0; q < 6; q++) {
    const f32 *col = p + q * c;
    v128_t t[6];
    winograd4_bt(load4(col), load4(col + row), load4(col + 2 * row), load4(col + 3 * row), load4(col + 4 * row), load4(col + 5 * row), t);
    _Pragma("clang loop unroll(full)")
    for (int r = 0; r < 6; r++) store4(v + (r * 6 + q) * at, t[r]);
  }
  _Pragma("clang loop unroll(full)")
  for (int r = 0; r < 6; r++) {
    f32 *vr = v + r * 6 * at;
    v128_t out[6];
    winograd4_bt(load4(vr), load4(vr + at), load4(vr + 2 * at), load4(vr + 3 * at), load4(vr + 4 * at), load4(vr + 5 * at), out);
    _Pragma("clang loop unroll(full)")
    for (int q = 0; q < 6; q++) store4(vr + q * at, out[q]);
  }
}

/* A^T applied to six vectors. */
INLINE void winograd4_at(v128_t m0, v128_t m1, v128_t m2, v128_t m3, v128_t m4, v128_t m5, v128_t *o) {
  v128_t two = wasm_f32x4_splat(2.0f), four = wasm_f32x4_splat(4.0f), eight = wasm_f32x4_splat(8.0f);
  v128_t s12 = wasm_f32x4_add(m1, m2), d12 = wasm_f32x4_sub(m1, m2);
  v128_t s34 = wasm_f32x4_add(m3, m4), d34 = wasm_f32x4_sub(m3, m4);
  o[0] = wasm_f32x4_add(wasm_f32x4_add(m0, s12), s34);
  o[1] = wasm_f32x4_add(d12, wasm_f32x4_mul(two, d34));
  o[2] = wasm_f32x4_add(s12, wasm_f32x4_mul(four, s34));
  o[3] = wasm_f32x4_add(wasm_f32x4_add(d12, wasm_f32x4_mul(eight, d34)), m5);
}

/*
 * A^T m A of one tile, channels o0..o0+3, plus bias, ReLU'd where asked, into the outputs inside
 * the image. A^T goes down each column of m in place (its rows 0-3 take the result), then along
 * each of those rows into the output.
 */
INLINE void winograd4_output_tile(f32 *m, int at, const f32 *bias, f32 *yb, int oh, int ow, int co, int oy0, int ox0, int o0, int relu) {
  _Pragma("clang loop unroll(full)")
  for (int q = 0; q < 6; q++) {
    v128_t t[4];
    winograd4_at(load4(m + (0 * 6 + q) * at), load4(m + (1 * 6 + q) * at), load4(m + (2 * 6 + q) * at),
                 load4(m + (3 * 6 + q) * at), load4(m + (4 * 6 + q) * at), load4(m + (5 * 6 + q) * at), t);
    _Pragma("clang loop unroll(full)")
    for (int r = 0; r < 4; r++) store4(m + (r * 6 + q) * at, t[r]);
  }
  v128_t bv = bias ? load4(bias + o0) : wasm_f32x4_splat(0.0f);
  v128_t zero = wasm_f32x4_splat(0.0f);
  _Pragma("clang loop unroll(full)")
  for (int r = 0; r < 4; r++) {
    const f32 *row = m + r * 6 * at;
    v128_t out[4];
    winograd4_at(load4(row), load4(row + at), load4(row + 2 * at), load4(row + 3 * at), load4(row + 4 * at), load4(row + 5 * at), out);
    _Pragma("clang loop unroll(full)")
    for (int q = 0; q < 4; q++) {
      if (oy0 + r >= oh || ox0 + q >= ow) continue;
      v128_t value = wasm_f32x4_add(bv, out[q]);
      store4(yb + ((oy0 + r) * ow + ox0 + q) * co + o0, relu ? wasm_f32x4_pmax(value, zero) : value);
    }
  }
}

/* Tiles per group: their 36 x 8 transformed inputs and products stay in L1 and L2 while each       */
/* position's block of the filter, loaded once, serves every pair of tiles in the group.           */
#define WINOGRAD4_GROUP 8

/* The 36 products of a group of nt tiles (v [36][GROUP][ci] -> m [36][GROUP][co], positions vs and ms floats apart): output channels in blocks of 16 then 8, tiles in pairs. */
INLINE void winograd4_products(const f32 *v, int vs, const f32 *u, f32 *m, int ms, int ci, int co, int nt) {
  for (int k = 0; k < 36; k++) {
    const f32 *vk = v + k * vs, *uk = u + k * ci * co;
    f32 *mk = m + k * ms;
    int o0 = 0;
    for (; o0 + 16 <= co; o0 += 16) {
      int t = 0;
      for (; t + 2 <= nt; t += 2) winograd_product_block(vk + t * ci, uk, mk + t * co, ci, co, o0, 2, 4);
      if (t < nt) winograd_product_block(vk + t * ci, uk, mk + t * co, ci, co, o0, 1, 4);
    }
    for (; o0 < co; o0 += 8) {
      int t = 0;
      for (; t + 2 <= nt; t += 2) winograd_product_block(vk + t * ci, uk, mk + t * co, ci, co, o0, 2, 2);
      if (t < nt) winograd_product_block(vk + t * ci, uk, mk + t * co, ci, co, o0, 1, 2);
    }
  }
}

/*
 * As winograd_conv, by F(4x4, 3x3) tiles and winograd4_filter's u [36][ci][co]. ci % 4 == 0,
 * co % 8 == 0. Each image is first copied into a zero border (pad before, up to a whole last tile
 * after), so that every tile reads inside it; its tiles are then taken in groups of WINOGRAD4_GROUP.
 * scratch: 36 * (WINOGRAD4_GROUP * (ci + co) + 32) + (4 * ceil(oh / 4) + 2) * (4 * ceil(ow / 4) + 2) * ci float32.
 */
EXPORT void winograd4_conv(const f32 *x, const f32 *u, const f32 *bias, f32 *y, f32 *scratch, int n, int h, int w, int ci,
                           int oh, int ow, int co, int pad, int relu) {
  int tiles_y = (oh + 3) / 4, tiles_x = (ow + 3) / 4, tiles = tiles_y * tiles_x;
  int ph = 4 * tiles_y + 2, pw = 4 * tiles_x + 2;
  /* each position's rows a cache line further than a power of two apart: no 36 of them share a few cache sets */
  int vs = WINOGRAD4_GROUP * ci + 16, ms = WINOGRAD4_GROUP * co + 16;
  f32 *v = scratch, *m = scratch + 36 * vs, *padded = m + 36 * ms;
  v128_t zero = wasm_f32x4_splat(0.0f);
  for (int b = 0; b < n; b++) {
    const f32 *xb = x + b * h * w * ci;
    for (int py = 0; py < ph; py++) {
      int iy = py - pad;
      for (int px = 0; px < pw; px++) {
        int ix = px - pad;
        f32 *to = padded + (py * pw + px) * ci;
        if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
          const f32 *from = xb + (iy * w + ix) * ci;
          for (int c0 = 0; c0 < ci; c0 += 4) store4(to + c0, load4(from + c0));
        } else {
          for (int c0 = 0; c0 < ci; c0 += 4) store4(to + c0, zero);
        }
      }
    }
    f32 *yb = y + b * oh * ow * co;
    for (int t0 = 0; t0 < tiles; t0 += WINOGRAD4_GROUP) {
      int nt = tiles - t0 < WINOGRAD4_GROUP ? tiles - t0 : WINOGRAD4_GROUP;
      for (int t = 0; t < nt; t++) {
        int ty = (t0 + t) / tiles_x, tx = (t0 + t) % tiles_x;
        const f32 *corner = padded + (4 * ty * pw + 4 * tx) * ci;
        for (int c0 = 0; c0 < ci; c0 += 4) winograd4_input_tile(corner + c0, v + t * ci + c0, vs, pw * ci, ci);
      }
      winograd4_products(v, vs, u, m, ms, ci, co, nt);
      for (int t = 0; t < nt; t++) {
        int ty = (t0 + t) / tiles_x, tx = (t0 + t) % tiles_x;
        for (int o0 = 0; o0 < co; o0 += 4)
          winograd4_output_tile(m + t * co + o0, ms, bias, yb, oh, ow, co, 4 * ty, 4 * tx, o0, relu);
      }
    }
  }
}
