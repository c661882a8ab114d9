// Single-op CPU versions of RMSNorm, RoPE and one-row attention (see fused.h).
//
// Each follows the arithmetic of MLX's own CPU fallback (the same products, in float32),
// so results differ from it only by rounding.
#include "fused.h"

#include <cmath>
#include <stdexcept>
#include <vector>

#include "mlx_cpu.h"
#include "qmatvec.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "simd.h"
#define APPRENTICE_X86 1
#endif

namespace apprentice {

const float* row_major(const mx::array& a, std::vector<float>& buf) {
  if (a.flags().row_contiguous)
    return a.data<float>();
  // A view (a transpose, a broadcast): gather it by its strides, a last-axis row at a time.
  buf.resize(a.size());
  const float* src = a.data<float>();
  const int nd = a.ndim(), last = a.shape(-1);
  const int64_t step = a.strides()[nd - 1];
  std::vector<int> idx(nd, 0);
  for (size_t i = 0; i < a.size(); i += last) {
    int64_t at = 0;
    for (int d = 0; d < nd - 1; ++d)
      at += int64_t(idx[d]) * a.strides()[d];
    for (int j = 0; j < last; ++j)
      buf[i + j] = src[at + j * step];
    for (int d = nd - 2; d >= 0; --d) {
      if (++idx[d] < a.shape(d))
        break;
      idx[d] = 0;
    }
  }
  return buf.data();
}

namespace {

void check_cpu_f32(const mx::Stream& stream, std::initializer_list<const mx::array*> arrays, const char* op) {
  if (stream.device != mx::Device::cpu)
    throw std::invalid_argument(std::string(op) + " runs on the CPU only");
  for (auto* a : arrays)
    if (a->dtype() != mx::float32)
      throw std::invalid_argument(std::string(op) + ": arrays must be float32");
}

void norm_rows(const float* x, const float* w, float* y, size_t rows, int D, float eps) {
  for (size_t r = 0; r < rows; ++r, x += D, y += D) {
    float ss = 0.f;
    for (int i = 0; i < D; ++i)
      ss += x[i] * x[i];
    const float inv = 1.f / std::sqrt(ss * (1.f / D) + eps);
    for (int i = 0; i < D; ++i)
      y[i] = (x[i] * inv) * w[i];
  }
}

// Rows of D features at positions offset + l (l = row % L).
void rope_rows(const float* x, float* y, size_t rows, int L, int D, int dims, float base, float scale, int offset) {
  const int half = dims / 2;
  std::vector<float> inv_freq(half);
  for (int i = 0; i < half; ++i)
    inv_freq[i] = std::exp(-float(i) * (std::log(base) / half));
  std::vector<float> c(size_t(L) * half), s(size_t(L) * half);
  for (int l = 0; l < L; ++l)
    for (int i = 0; i < half; ++i) {
      const float theta = (float(offset + l) * scale) * inv_freq[i];
      c[size_t(l) * half + i] = std::cos(theta);
      s[size_t(l) * half + i] = std::sin(theta);
    }
  for (size_t r = 0; r < rows; ++r, x += D, y += D) {
    const float* cr = c.data() + size_t(r % L) * half;
    const float* sr = s.data() + size_t(r % L) * half;
    for (int i = 0; i < half; ++i) {
      const float x1 = x[i], x2 = x[i + half];
      y[i] = x1 * cr[i] - x2 * sr[i];
      y[i + half] = x1 * sr[i] + x2 * cr[i];
    }
    for (int i = dims; i < D; ++i)
      y[i] = x[i];
  }
}

// A (B, H, T, D) array read in place: its data and the strides of its first three axes.
struct View {
  const float* p;
  int64_t b, h, t;
};

// k and v are usually slices of the KV cache's buffer (rows of D floats, apart): read in place.
View view_of(const mx::array& a, std::vector<float>& buf) {
  if (a.strides()[3] == 1)
    return {a.data<float>(), a.strides()[0], a.strides()[1], a.strides()[2]};
  const float* p = row_major(a, buf);
  return {p, int64_t(a.shape(1)) * a.shape(2) * a.shape(3), int64_t(a.shape(2)) * a.shape(3), a.shape(3)};
}

void attend(const float* q, View k, View v, float* out, int B, int Hq, int Hkv, int T, int D, int Dv, float scale) {
  const int rep = Hq / Hkv;
  std::vector<float> qs(D), p(T);
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < Hq; ++h) {
      const int g = h / rep;
      const float* qh = q + (size_t(b) * Hq + h) * D;
      const float* kh = k.p + b * k.b + g * k.h;
      const float* vh = v.p + b * v.b + g * v.h;
      for (int d = 0; d < D; ++d)
        qs[d] = scale * qh[d];
      float top = -INFINITY;
      for (int t = 0; t < T; ++t) {
        float dot = 0.f;
        for (int d = 0; d < D; ++d)
          dot += qs[d] * kh[t * k.t + d];
        p[t] = dot;
        top = std::max(top, dot);
      }
      float sum = 0.f;
      for (int t = 0; t < T; ++t)
        sum += (p[t] = std::exp(p[t] - top));
      const float inv = 1.f / sum;
      float* o = out + (size_t(b) * Hq + h) * Dv;
      for (int d = 0; d < Dv; ++d)
        o[d] = 0.f;
      for (int t = 0; t < T; ++t) {
        const float pt = p[t] * inv;
        for (int d = 0; d < Dv; ++d)
          o[d] += pt * vh[t * v.t + d];
      }
    }
}

#ifdef APPRENTICE_X86
// Rows r[0..7] become columns: r[j] holds element j of each of the 8 rows.
__attribute__((target("avx2"))) inline void transpose8(__m256* r) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

constexpr int MAX_REP = 8;  // query heads per key/value head the vector loop keeps in registers

// `attend` 8 keys at a time: the scalar loop's dot products were each one chain of 64 dependent
// additions, about 20 µs a cached token over the 30 layers, most of a decode step once a
// conversation is a few hundred tokens long. Here each lane of a register holds one key's dot
// product, so 8 chains run side by side, and the query heads that share a key/value head read each
// key row once. Every lane adds its products in the scalar loop's order, and multiplies and adds
// round separately as there (no FMA: this function is not compiled for it), so the results are
// the scalar loop's to the bit. Needs D a multiple of 8, Dv of 32, and at most MAX_REP query heads
// per key/value head.
__attribute__((target("avx2"))) void attend_avx2(const float* q, View k, View v, float* out, int B, int Hq, int Hkv,
                                                 int T, int D, int Dv, float scale) {
  const int rep = Hq / Hkv;
  std::vector<float> qs(size_t(rep) * D), p(size_t(rep) * T);
  for (int b = 0; b < B; ++b)
    for (int g = 0; g < Hkv; ++g) {
      const float* kh = k.p + b * k.b + g * k.h;
      const float* vh = v.p + b * v.b + g * v.h;
      for (int r = 0; r < rep; ++r)
        for (int d = 0; d < D; ++d)
          qs[size_t(r) * D + d] = scale * q[(size_t(b) * Hq + g * rep + r) * D + d];
      int t = 0;
      for (; t + 8 <= T; t += 8) {
        __m256 acc[MAX_REP];
        for (int r = 0; r < rep; ++r)
          acc[r] = _mm256_setzero_ps();
        for (int d = 0; d < D; d += 8) {
          __m256 col[8];
          for (int i = 0; i < 8; ++i)
            col[i] = _mm256_loadu_ps(kh + (t + i) * k.t + d);
          transpose8(col);
          for (int r = 0; r < rep; ++r) {
            const float* qr = qs.data() + size_t(r) * D + d;
            for (int j = 0; j < 8; ++j)
              acc[r] = _mm256_add_ps(acc[r], _mm256_mul_ps(_mm256_set1_ps(qr[j]), col[j]));
          }
        }
        for (int r = 0; r < rep; ++r)
          _mm256_storeu_ps(p.data() + size_t(r) * T + t, acc[r]);
      }
      for (; t < T; ++t)  // the last keys, fewer than 8: one at a time, as the scalar loop
        for (int r = 0; r < rep; ++r) {
          const float* qr = qs.data() + size_t(r) * D;
          float dot = 0.f;
          for (int d = 0; d < D; ++d)
            dot += qr[d] * kh[t * k.t + d];
          p[size_t(r) * T + t] = dot;
        }
      for (int r = 0; r < rep; ++r) {
        float* pr = p.data() + size_t(r) * T;
        float top = -INFINITY;
        for (int i = 0; i < T; ++i)
          top = std::max(top, pr[i]);
        float sum = 0.f;
        for (int i = 0; i < T; ++i)
          sum += (pr[i] = std::exp(pr[i] - top));
        const float inv = 1.f / sum;
        float* o = out + (size_t(b) * Hq + g * rep + r) * Dv;
        for (int d = 0; d < Dv; d += 32) {  // 4 registers of the output row, over every key in order
          __m256 o0 = _mm256_setzero_ps(), o1 = o0, o2 = o0, o3 = o0;
          for (int i = 0; i < T; ++i) {
            const __m256 w = _mm256_set1_ps(pr[i] * inv);
            const float* vt = vh + i * v.t + d;
            o0 = _mm256_add_ps(o0, _mm256_mul_ps(w, _mm256_loadu_ps(vt)));
            o1 = _mm256_add_ps(o1, _mm256_mul_ps(w, _mm256_loadu_ps(vt + 8)));
            o2 = _mm256_add_ps(o2, _mm256_mul_ps(w, _mm256_loadu_ps(vt + 16)));
            o3 = _mm256_add_ps(o3, _mm256_mul_ps(w, _mm256_loadu_ps(vt + 24)));
          }
          _mm256_storeu_ps(o + d, o0);
          _mm256_storeu_ps(o + d + 8, o1);
          _mm256_storeu_ps(o + d + 16, o2);
          _mm256_storeu_ps(o + d + 24, o3);
        }
      }
    }
}

// exp(x) in 8 lanes for the softmax's x <= 0: Cephes' expf (x = n ln2 + r, a degree-5 polynomial
// for e^r, 2^n put into the exponent), within a few ulp of std::exp; below -87.3 it gives 0, where
// expf underflows. MLX's CPU softmax spent most of a long prompt's attention in exp.
__attribute__((target("avx2,fma"))) inline __m256 exp8(__m256 x) {
  const __m256 lowest = _mm256_set1_ps(-87.3365447f);
  const __m256 under = _mm256_cmp_ps(x, lowest, _CMP_LT_OQ);
  x = _mm256_max_ps(x, lowest);
  const __m256 n =
      _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.f)));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_andnot_ps(under, _mm256_mul_ps(y, _mm256_castsi256_ps(e)));
}

// A prompt's causal attention in one pass per query row, on both threads: scores against the keys
// the row may see (keys transposed once, so 32 keys' scores build in 4 registers), an 8-lane exp,
// and the weighted sum of value rows. MLX's CPU attention scored every query against every key,
// masked half, and ran a scalar exp over all of them: 80% of a 1,000-token prefill's time.
struct CausalJob {
  const float* q;
  const float* kt;  // keys transposed: for each (b, g), D rows of Tp keys
  View v;
  float* out;
  int Hq, Hkv, L, T, Tp, D, Dv;
  float scale;
};

// Query rows w0 to w1 of all (b, h, i), in that order.
__attribute__((target("avx2,fma"))) void causal_rows(const CausalJob& j, int w0, int w1) {
  const int Hq = j.Hq, Hkv = j.Hkv, L = j.L, Tp = j.Tp, D = j.D, Dv = j.Dv, rep = Hq / Hkv, start = j.T - L;
  const float scale = j.scale;
  const float *q = j.q, *kt = j.kt;
  const View v = j.v;
  float* out = j.out;
  std::vector<float> s(Tp), qs(D);
  for (int w = w0; w < w1; ++w) {
      const int b = w / (Hq * L), h = (w / L) % Hq, i = w % L, g = h / rep;
      const int n = start + i + 1, m = (n + 31) / 32 * 32;  // keys this row sees; rounded up to 32
      const float* qr = q + (size_t(b) * Hq + h) * L * D + size_t(i) * D;
      for (int d = 0; d < D; ++d)
        qs[d] = scale * qr[d];
      const float* ktg = kt + (size_t(b) * Hkv + g) * D * Tp;
      for (int t = 0; t < m; t += 32) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int d = 0; d < D; ++d) {
          const __m256 qd = _mm256_set1_ps(qs[d]);
          const float* row = ktg + size_t(d) * Tp + t;
          a0 = _mm256_fmadd_ps(qd, _mm256_loadu_ps(row), a0);
          a1 = _mm256_fmadd_ps(qd, _mm256_loadu_ps(row + 8), a1);
          a2 = _mm256_fmadd_ps(qd, _mm256_loadu_ps(row + 16), a2);
          a3 = _mm256_fmadd_ps(qd, _mm256_loadu_ps(row + 24), a3);
        }
        _mm256_storeu_ps(s.data() + t, a0);
        _mm256_storeu_ps(s.data() + t + 8, a1);
        _mm256_storeu_ps(s.data() + t + 16, a2);
        _mm256_storeu_ps(s.data() + t + 24, a3);
      }
      for (int t = n; t < m; ++t)
        s[t] = -INFINITY;  // keys after this row's position: weight 0
      __m256 top8 = _mm256_set1_ps(-INFINITY);
      for (int t = 0; t < m; t += 8)
        top8 = _mm256_max_ps(top8, _mm256_loadu_ps(s.data() + t));
      const __m256 top = _mm256_set1_ps(hmax8(top8));
      __m256 sum8 = _mm256_setzero_ps();
      for (int t = 0; t < m; t += 8) {
        const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(s.data() + t), top));
        _mm256_storeu_ps(s.data() + t, e);
        sum8 = _mm256_add_ps(sum8, e);
      }
      const __m256 inv = _mm256_set1_ps(1.f / hsum8(sum8));
      const float* vg = v.p + b * v.b + g * v.h;
      float* o = out + (size_t(b) * Hq + h) * L * Dv + size_t(i) * Dv;
      for (int d = 0; d < Dv; d += 32) {
        __m256 o0 = _mm256_setzero_ps(), o1 = o0, o2 = o0, o3 = o0;
        for (int t = 0; t < n; ++t) {
          const __m256 pt = _mm256_set1_ps(s[t]);
          const float* vt = vg + t * v.t + d;
          o0 = _mm256_fmadd_ps(pt, _mm256_loadu_ps(vt), o0);
          o1 = _mm256_fmadd_ps(pt, _mm256_loadu_ps(vt + 8), o1);
          o2 = _mm256_fmadd_ps(pt, _mm256_loadu_ps(vt + 16), o2);
          o3 = _mm256_fmadd_ps(pt, _mm256_loadu_ps(vt + 24), o3);
        }
        _mm256_storeu_ps(o + d, _mm256_mul_ps(o0, inv));
        _mm256_storeu_ps(o + d + 8, _mm256_mul_ps(o1, inv));
        _mm256_storeu_ps(o + d + 16, _mm256_mul_ps(o2, inv));
        _mm256_storeu_ps(o + d + 24, _mm256_mul_ps(o3, inv));
      }
  }
}

void causal_attend(const float* q, View k, View v, float* out, int B, int Hq, int Hkv, int L, int T, int D, int Dv,
                   float scale) {
  const int Tp = (T + 31) / 32 * 32;
  std::vector<float> kt(size_t(B) * Hkv * D * Tp, 0.f);
  for (int b = 0; b < B; ++b)
    for (int g = 0; g < Hkv; ++g) {
      float* dst = kt.data() + (size_t(b) * Hkv + g) * D * Tp;
      const float* src = k.p + b * k.b + g * k.h;
      for (int t = 0; t < T; ++t)
        for (int d = 0; d < D; ++d)
          dst[size_t(d) * Tp + t] = src[t * k.t + d];
    }
  const CausalJob job{q, kt.data(), v, out, Hq, Hkv, L, T, Tp, D, Dv, scale};
  parallel_for(B * Hq * L, 4, [&job](int w0, int w1) { causal_rows(job, w0, w1); });
}
#endif

}  // namespace

mx::array rms_norm(const mx::array& x, const mx::array& w, float eps, mx::StreamOrDevice s) {
  auto stream = mx::to_stream(s);
  check_cpu_f32(stream, {&x, &w}, "rms_norm");
  if (x.ndim() < 1 || w.ndim() != 1 || w.shape(0) != x.shape(-1))
    throw std::invalid_argument("rms_norm: w must be (D,) for x (..., D)");
  return mx::array(x.shape(), mx::float32, std::make_shared<Fused>(stream, Fused::RMS_NORM, eps), {x, w});
}

mx::array rope(const mx::array& x, int dims, float base, float scale, int offset, mx::StreamOrDevice s) {
  auto stream = mx::to_stream(s);
  check_cpu_f32(stream, {&x}, "rope");
  if (x.ndim() != 4 || dims % 2 != 0 || dims > x.shape(-1) || dims <= 0)
    throw std::invalid_argument("rope: x must be (B, H, L, D) and dims even, at most D");
  return mx::array(x.shape(), mx::float32, std::make_shared<Fused>(stream, Fused::ROPE, base, scale, 0.f, dims, offset),
                   {x});
}

mx::array decode_attention(const mx::array& q, const mx::array& k, const mx::array& v, float scale,
                           mx::StreamOrDevice s) {
  auto stream = mx::to_stream(s);
  check_cpu_f32(stream, {&q, &k, &v}, "decode_attention");
  if (q.ndim() != 4 || k.ndim() != 4 || v.ndim() != 4 || q.shape(2) != 1 || q.shape(0) != k.shape(0) ||
      v.shape(0) != k.shape(0) || k.shape(1) != v.shape(1) || k.shape(2) != v.shape(2) ||
      q.shape(3) != k.shape(3) || k.shape(1) == 0 || q.shape(1) % k.shape(1) != 0)
    throw std::invalid_argument("decode_attention: q (B, Hq, 1, D), k (B, Hkv, T, D), v (B, Hkv, T, Dv)");
  mx::Shape shape = {q.shape(0), q.shape(1), 1, v.shape(3)};
  return mx::array(shape, mx::float32, std::make_shared<Fused>(stream, Fused::ATTENTION, scale), {q, k, v});
}

mx::array prefill_attention(const mx::array& q, const mx::array& k, const mx::array& v, float scale,
                            mx::StreamOrDevice s) {
  auto stream = mx::to_stream(s);
  check_cpu_f32(stream, {&q, &k, &v}, "prefill_attention");
  if (q.ndim() != 4 || k.ndim() != 4 || v.ndim() != 4 || q.shape(0) != k.shape(0) || v.shape(0) != k.shape(0) ||
      k.shape(1) != v.shape(1) || k.shape(2) != v.shape(2) || q.shape(3) != k.shape(3) || k.shape(1) == 0 ||
      q.shape(1) % k.shape(1) != 0 || q.shape(2) > k.shape(2) || q.shape(3) % 8 != 0 || v.shape(3) % 32 != 0)
    throw std::invalid_argument(
        "prefill_attention: q (B, Hq, L, D), k (B, Hkv, T, D), v (B, Hkv, T, Dv), T >= L, D % 8 == 0, Dv % 32 == 0");
  if (!cpu_has_avx2())
    throw std::invalid_argument("prefill_attention needs AVX2 and FMA");
  mx::Shape shape = {q.shape(0), q.shape(1), q.shape(2), v.shape(3)};
  return mx::array(shape, mx::float32, std::make_shared<Fused>(stream, Fused::CAUSAL_ATTENTION, scale), {q, k, v});
}

void Fused::eval_cpu(const std::vector<mx::array>& inputs, mx::array& out) {
  out.set_data(mx::allocator::malloc(out.nbytes()));
  auto& encoder = mx::cpu::get_command_encoder(stream());
  for (auto& a : inputs)
    encoder.set_input_array(a);
  encoder.set_output_array(out);
  std::vector<mx::array> in;
  for (auto& a : inputs)
    in.push_back(mx::array::unsafe_weak_copy(a));
  encoder.dispatch([in = std::move(in), out = mx::array::unsafe_weak_copy(out), kind = kind_, a = a_, b = b_, n = n_,
                    m = m_]() mutable {
    std::vector<float> b0, b1, b2;
    float* y = out.data<float>();
    switch (kind) {
      case RMS_NORM: {
        const int D = in[0].shape(-1);
        norm_rows(row_major(in[0], b0), row_major(in[1], b1), y, in[0].size() / D, D, a);
        break;
      }
      case ROPE: {
        const int L = in[0].shape(2), D = in[0].shape(3);
        rope_rows(row_major(in[0], b0), y, in[0].size() / D, L, D, n, a, b, m);
        break;
      }
      case ATTENTION: {
        auto &q = in[0], &k = in[1], &v = in[2];
        const int D = q.shape(3), Dv = v.shape(3);
        auto run = attend;
#ifdef APPRENTICE_X86
        if (cpu_has_avx2() && D % 8 == 0 && Dv % 32 == 0 && q.shape(1) / k.shape(1) <= MAX_REP)
          run = attend_avx2;
#endif
        run(row_major(q, b0), view_of(k, b1), view_of(v, b2), y, q.shape(0), q.shape(1), k.shape(1), k.shape(2), D, Dv,
            a);
        break;
      }
      case CAUSAL_ATTENTION: {
#ifdef APPRENTICE_X86
        auto &q = in[0], &k = in[1], &v = in[2];
        causal_attend(row_major(q, b0), view_of(k, b1), view_of(v, b2), y, q.shape(0), q.shape(1), k.shape(1),
                      q.shape(2), k.shape(2), q.shape(3), v.shape(3), a);
#endif
        break;
      }
    }
  });
}

void Fused::eval_gpu(const std::vector<mx::array>&, mx::array&) {
  throw std::runtime_error("Apprentice's fused steps run on the CPU only");
}

const char* Fused::name() const {
  switch (kind_) {
    case RMS_NORM:
      return "ApprenticeRMSNorm";
    case ROPE:
      return "ApprenticeRoPE";
    case CAUSAL_ATTENTION:
      return "ApprenticeCausalAttention";
    default:
      return "ApprenticeDecodeAttention";
  }
}

bool Fused::is_equivalent(const mx::Primitive& other) const {
  auto& o = static_cast<const Fused&>(other);
  return kind_ == o.kind_ && a_ == o.a_ && b_ == o.b_ && c_ == o.c_ && n_ == o.n_ && m_ == o.m_;
}

std::vector<mx::Shape> Fused::output_shapes(const std::vector<mx::array>& inputs) {
  if (kind_ == ATTENTION)
    return {{inputs[0].shape(0), inputs[0].shape(1), 1, inputs[2].shape(3)}};
  if (kind_ == CAUSAL_ATTENTION)
    return {{inputs[0].shape(0), inputs[0].shape(1), inputs[0].shape(2), inputs[2].shape(3)}};
  return {inputs[0].shape()};
}

}  // namespace apprentice
