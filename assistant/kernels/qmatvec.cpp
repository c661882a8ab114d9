// A fast CPU product of float32 activations with MLX's affine-quantized weights.
//
// mlx[cpu]'s own quantized matmul runs far below the memory bus on x86 (about 1/15 of
// llama.cpp's decode with the same 4-bit weights). This primitive reads each packed
// word once, unpacks it with AVX2 shifts (8 nibbles → 8 floats), and folds the affine
// bias out of the inner loop:
//
//   sum_i (s * q_i + b) * x_i  =  s * sum_i q_i * x_i  +  b * sum_i x_i
//
// so the inner loop is one FMA per 8 weights; the sums of x per group are computed once
// per call. That loop is still bound by the unpacking, so by default (set_int8) x is
// rounded to int8 per block of 32 once per call and each block becomes an integer dot
// product (int8_kernels.inc). Output rows are split between the MLX stream's thread and
// helper threads that spin briefly, then sleep, between calls.
#include "qmatvec.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "mlx_cpu.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "simd.h"
#define APPRENTICE_X86 1
#endif

namespace apprentice {

namespace {

// The instructions the checks below may report (limit_isa): a test on a CPU that has AVX-512
// VNNI runs the AVX2 loops, or none, as a CPU without them would.
enum { ISA_PORTABLE = 0, ISA_AVX2 = 1, ISA_VNNI = 2 };
std::atomic<int> isa_cap{ISA_VNNI};

// ---- scalar helpers -------------------------------------------------------------------

inline float half_to_float(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ffu, bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {  // subnormal: normalize
      exp = 127 - 15 + 1;
      while (!(man & 0x400u)) {
        man <<= 1;
        --exp;
      }
      bits = sign | (exp << 23) | ((man & 0x3ffu) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (man << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

inline float load_scalar(const float* p, size_t i) {
  return p[i];
}
inline float load_scalar(const uint16_t* p, size_t i) {
  return half_to_float(p[i]);
}

// One call's operands. Rows of y are [n0, n1) per worker.
template <typename S>
struct Job {
  const float* x;  // (M, K)
  const float* xsum;  // (M, K / gs): sums of x per group
  const uint32_t* w;  // (N, K * bits / 32)
  const S* scales;  // (N, K / gs)
  const S* biases;
  float* y;  // (M, N)
  int M, N, K, gs, bits;
};

constexpr int TILE = 4;  // rows of x that share one unpacking of a weight row

// ---- portable inner loop ------------------------------------------------------------------

template <typename S>
void rows_portable(const Job<S>& j, int n0, int n1) {
  const int groups = j.K / j.gs, per_word = 32 / j.bits, words = j.K / per_word;
  const uint32_t mask = (1u << j.bits) - 1;
  for (int n = n0; n < n1; ++n) {
    const uint32_t* wr = j.w + size_t(n) * words;
    for (int m = 0; m < j.M; ++m) {
      const float* xr = j.x + size_t(m) * j.K;
      float acc = 0.f;
      for (int g = 0; g < groups; ++g) {
        float dot = 0.f;
        for (int k = g * j.gs; k < (g + 1) * j.gs; ++k) {
          uint32_t q = (wr[k / per_word] >> ((k % per_word) * j.bits)) & mask;
          dot += float(q) * xr[k];
        }
        size_t sg = size_t(n) * groups + g;
        acc += load_scalar(j.scales, sg) * dot + load_scalar(j.biases, sg) * j.xsum[size_t(m) * groups + g];
      }
      j.y[size_t(m) * j.N + n] = acc;
    }
  }
}

// ---- AVX2 + FMA inner loop ------------------------------------------------------------------

#ifdef APPRENTICE_X86
__attribute__((target("avx2,fma,f16c"))) inline float scalar_f16c(const uint16_t* p, size_t i) {
  return _cvtsh_ss(p[i]);
}
__attribute__((target("avx2,fma,f16c"))) inline float scalar_f16c(const float* p, size_t i) {
  return p[i];
}

// 8 consecutive weights starting at element k (k a multiple of 8), as floats.
template <int BITS>
__attribute__((target("avx2,fma"))) inline __m256 unpack8(const uint32_t* wr, int k) {
  if constexpr (BITS == 4) {
    const __m256i shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
    __m256i v = _mm256_set1_epi32(int(wr[k / 8]));
    v = _mm256_and_si256(_mm256_srlv_epi32(v, shifts), _mm256_set1_epi32(0xf));
    return _mm256_cvtepi32_ps(v);
  } else {  // 8 bits: bytes in element order
    __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(reinterpret_cast<const uint8_t*>(wr) + k));
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b));
  }
}

// One row of x (decode): R weight rows at a time, so R independent FMA chains hide
// the FMA latency that a single row's chain would wait on.
template <int BITS, typename S, int R>
__attribute__((target("avx2,fma,f16c"))) void rows_avx2_vec(const Job<S>& j, int n0, int n1) {
  const int groups = j.K / j.gs, words = j.K * BITS / 32;
  for (int n = n0; n + R <= n1; n += R) {
    __m256 acc[R];
    float accb[R];
    for (int r = 0; r < R; ++r) {
      acc[r] = _mm256_setzero_ps();
      accb[r] = 0.f;
    }
    for (int g = 0; g < groups; ++g) {
      __m256 dot[R];
      for (int r = 0; r < R; ++r)
        dot[r] = _mm256_setzero_ps();
      for (int k = g * j.gs; k < (g + 1) * j.gs; k += 8) {
        __m256 xv = _mm256_loadu_ps(j.x + k);
        for (int r = 0; r < R; ++r)
          dot[r] = _mm256_fmadd_ps(unpack8<BITS>(j.w + size_t(n + r) * words, k), xv, dot[r]);
      }
      const float xs = j.xsum[g];
      for (int r = 0; r < R; ++r) {
        size_t sg = size_t(n + r) * groups + g;
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(scalar_f16c(j.scales, sg)), dot[r], acc[r]);
        accb[r] += scalar_f16c(j.biases, sg) * xs;
      }
    }
    for (int r = 0; r < R; ++r)
      j.y[n + r] = hsum8(acc[r]) + accb[r];
  }
}

template <int BITS, typename S>
__attribute__((target("avx2,fma,f16c"))) void rows_avx2(const Job<S>& j, int n0, int n1) {
  const int groups = j.K / j.gs, words = j.K * BITS / 32;
  if (j.M == 1) {
    constexpr int R = 4;
    const int body = n0 + (n1 - n0) / R * R;
    rows_avx2_vec<BITS, S, R>(j, n0, body);
    n0 = body;  // the remaining rows below
  }
  for (int n = n0; n < n1; ++n) {
    const uint32_t* wr = j.w + size_t(n) * words;
    for (int m0 = 0; m0 < j.M; m0 += TILE) {
      const int mt = std::min(TILE, j.M - m0);
      __m256 acc[TILE];
      float accb[TILE];
      for (int t = 0; t < TILE; ++t) {
        acc[t] = _mm256_setzero_ps();
        accb[t] = 0.f;
      }
      for (int g = 0; g < groups; ++g) {
        __m256 dot[TILE];
        for (int t = 0; t < TILE; ++t)
          dot[t] = _mm256_setzero_ps();
        for (int k = g * j.gs; k < (g + 1) * j.gs; k += 8) {
          __m256 q = unpack8<BITS>(wr, k);
          for (int t = 0; t < mt; ++t)
            dot[t] = _mm256_fmadd_ps(q, _mm256_loadu_ps(j.x + size_t(m0 + t) * j.K + k), dot[t]);
        }
        size_t sg = size_t(n) * groups + g;
        __m256 s = _mm256_set1_ps(scalar_f16c(j.scales, sg));
        float b = scalar_f16c(j.biases, sg);
        for (int t = 0; t < mt; ++t) {
          acc[t] = _mm256_fmadd_ps(s, dot[t], acc[t]);
          accb[t] += b * j.xsum[size_t(m0 + t) * groups + g];
        }
      }
      for (int t = 0; t < mt; ++t)
        j.y[size_t(m0 + t) * j.N + n] = hsum8(acc[t]) + accb[t];
    }
  }
}

template <int BITS, typename S>
__attribute__((target("avx2,fma,f16c"))) void dequant_avx2(const Job<S>& j, int n0, int n1) {
  const int groups = j.K / j.gs, words = j.K * BITS / 32;
  for (int n = n0; n < n1; ++n) {
    const uint32_t* wr = j.w + size_t(n) * words;
    float* out = j.y + size_t(n) * j.K;
    for (int g = 0; g < groups; ++g) {
      size_t sg = size_t(n) * groups + g;
      __m256 s = _mm256_set1_ps(scalar_f16c(j.scales, sg)), b = _mm256_set1_ps(scalar_f16c(j.biases, sg));
      for (int k = g * j.gs; k < (g + 1) * j.gs; k += 8)
        _mm256_storeu_ps(out + k, _mm256_fmadd_ps(unpack8<BITS>(wr, k), s, b));
    }
  }
}

bool has_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
      __builtin_cpu_supports("f16c");
  return yes && isa_cap.load(std::memory_order_relaxed) >= ISA_AVX2;
}

bool has_vnni() {
  static const bool yes = __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  return yes && has_avx2() && isa_cap.load(std::memory_order_relaxed) >= ISA_VNNI;
}

// ---- int8 activations ----------------------------------------------------------------------

// Unpacking nibbles to floats costs ~4 vector ops per 8 weights and bounds the float loop
// (it is arithmetic-bound, not memory-bound). Quantizing x to int8 once per call makes a
// block of 32 weights an integer dot product of a few ops, as llama.cpp does (its Q8_1).

// x quantized per row and block of 32: d = max|x| / 127, xq = round(x / d). For 4-bit
// weights two blocks are stored [even elements of both | odd elements of both], the order
// the low and high nibbles of their 32 packed bytes come in; an unpaired last block
// [even | odd]. For 8-bit weights, in element order. d holds, per step of the inner loop
// (a pair of blocks for 4-bit, a block for 8-bit), the d of each of its 8 output lanes.
struct QuantX {
  std::vector<int8_t> q;  // (M, K)
  std::vector<float> d;  // (M, steps, 8)
  // (M, K / gs): sums of the quantized x per group, for the bias term. Not the float sums:
  // with those the error would be sum_i (w_i - b) e_i for rounding errors e_i, and the
  // bias of a 4-bit group is about -7.5 scales, twice a weight's size; with these it is
  // sum_i w_i e_i, the error of an exact product with the rounded x (as llama.cpp's Q8_1).
  std::vector<float> sum;
  int steps;
};

// Row m of x into qx (scalar): the reference for quantize_row_avx2, which gives the same bytes.
void quantize_row(QuantX& qx, const float* x, int m, int K, int gs, int bits) {
  const int blocks = K / 32, groups = K / gs;
  int8_t* qr = qx.q.data() + size_t(m) * K;
  float* dr = qx.d.data() + size_t(m) * qx.steps * 8;
  float* sr = qx.sum.data() + size_t(m) * groups;
  std::fill_n(sr, groups, 0.f);
  for (int b = 0; b < blocks; ++b) {
    const float* xb = x + size_t(m) * K + 32 * b;
    float amax = 0.f;
    for (int i = 0; i < 32; ++i)
      amax = std::max(amax, std::fabs(xb[i]));
    const float d = amax / 127.f, id = amax > 0.f ? 127.f / amax : 0.f;
    int isum = 0;
    auto q = [&](int i) {
      int v = int(std::lrintf(xb[i] * id));
      isum += v;
      return int8_t(v);
    };
    if (bits == 8) {
      for (int i = 0; i < 32; ++i)
        qr[32 * b + i] = q(i);
      std::fill_n(dr + 8 * b, 8, d);
    } else if (b / 2 * 2 + 1 < blocks) {  // one of a pair: its half of the even and odd runs
      int8_t* base = qr + 64 * (b / 2) + 16 * (b % 2);
      for (int t = 0; t < 16; ++t) {
        base[t] = q(2 * t);
        base[32 + t] = q(2 * t + 1);
      }
      std::fill_n(dr + 8 * (b / 2) + 4 * (b % 2), 4, d);
    } else {
      for (int t = 0; t < 16; ++t) {
        qr[32 * b + t] = q(2 * t);
        qr[32 * b + 16 + t] = q(2 * t + 1);
      }
      std::fill_n(dr + 8 * (b / 2), 8, d);
    }
    sr[b * 32 / gs] += d * float(isum);
  }
}

#ifdef APPRENTICE_X86
// quantize_row with AVX2: the same rounding (cvtps rounds to nearest even, as lrintf does in
// the default mode), so the same bytes. A long prompt's x is ~1.5 M values per product: the
// scalar loop took milliseconds of it.
__attribute__((target("avx2,fma,f16c"))) void quantize_row_avx2(QuantX& qx, const float* x, int m, int K, int gs,
                                                                int bits) {
  const int blocks = K / 32, groups = K / gs;
  int8_t* qr = qx.q.data() + size_t(m) * K;
  float* dr = qx.d.data() + size_t(m) * qx.steps * 8;
  float* sr = qx.sum.data() + size_t(m) * groups;
  std::fill_n(sr, groups, 0.f);
  const __m256 sign = _mm256_set1_ps(-0.f);
  // per 128-bit lane: the 8 even bytes, then the 8 odd ones
  const __m256i evens_odds = _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15, 0, 2, 4, 6, 8,
                                              10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  for (int b = 0; b < blocks; ++b) {
    const float* xb = x + size_t(m) * K + 32 * b;
    __m256 v[4];
    __m256 amax8 = _mm256_setzero_ps();
    for (int i = 0; i < 4; ++i) {
      v[i] = _mm256_loadu_ps(xb + 8 * i);
      amax8 = _mm256_max_ps(amax8, _mm256_andnot_ps(sign, v[i]));
    }
    __m128 a4 = _mm_max_ps(_mm256_castps256_ps128(amax8), _mm256_extractf128_ps(amax8, 1));
    a4 = _mm_max_ps(a4, _mm_movehl_ps(a4, a4));
    a4 = _mm_max_ss(a4, _mm_shuffle_ps(a4, a4, 1));
    const float amax = _mm_cvtss_f32(a4);
    const float d = amax / 127.f, id = amax > 0.f ? 127.f / amax : 0.f;
    const __m256 idv = _mm256_set1_ps(id);
    __m256i q[4];
    for (int i = 0; i < 4; ++i)
      q[i] = _mm256_cvtps_epi32(_mm256_mul_ps(v[i], idv));
    __m256i s = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    s4 = _mm_add_epi32(s4, _mm_unpackhi_epi64(s4, s4));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 1));
    const int isum = _mm_cvtsi128_si32(s4);
    // int32 -> int8 in element order (packs interleaves 128-bit lanes; the permute undoes it)
    __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
    p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    if (bits == 8) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(qr + 32 * b), p);
      _mm256_storeu_ps(dr + 8 * b, _mm256_set1_ps(d));
    } else {
      // [16 even elements | 16 odd ones]
      p = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(p, evens_odds), 0xd8);
      int8_t *even, *odd;
      if (b / 2 * 2 + 1 < blocks) {
        even = qr + 64 * (b / 2) + 16 * (b % 2);
        odd = even + 32;
        std::fill_n(dr + 8 * (b / 2) + 4 * (b % 2), 4, d);
      } else {
        even = qr + 32 * b;
        odd = even + 16;
        std::fill_n(dr + 8 * (b / 2), 8, d);
      }
      _mm_storeu_si128(reinterpret_cast<__m128i*>(even), _mm256_castsi256_si128(p));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(odd), _mm256_extracti128_si256(p, 1));
    }
    sr[b * 32 / gs] += d * float(isum);
  }
}
#endif

void quantize_rows(QuantX& qx, const float* x, int m0, int m1, int K, int gs, int bits) {
  for (int m = m0; m < m1; ++m) {
#ifdef APPRENTICE_X86
    if (has_avx2()) {
      quantize_row_avx2(qx, x, m, K, gs, bits);
      continue;
    }
#endif
    quantize_row(qx, x, m, K, gs, bits);
  }
}

QuantX quantize_x_alloc(int M, int K, int gs, int bits) {
  QuantX qx;
  qx.steps = bits == 4 ? (K / 32 + 1) / 2 : K / 32;
  qx.q.resize(size_t(M) * K);
  qx.d.resize(size_t(M) * qx.steps * 8);
  qx.sum.resize(size_t(M) * (K / gs));
  return qx;
}

template <typename S>
struct Job8 {
  const int8_t* xq;
  const float* xd;  // QuantX::d
  const float* xsum;
  const uint8_t* w;
  const S* scales;
  const S* biases;
  float* y;
  int M, N, K, gs, bits, steps;
};

// Tile sizes of the matrix-matrix loops (weight rows x rows of x): as many accumulators as the
// registers hold beside the operands (16 ymm registers for AVX2, 32 zmm for AVX-512).
#ifndef GEMM_R_VNNI
#define GEMM_R_VNNI 4
#define GEMM_T_VNNI 3
#define GEMM_R_AVX2 2
#define GEMM_T_AVX2 3
#endif

namespace avx2 {
#define INT8_TARGET "avx2,fma,f16c"
#define INT8_VNNI 0
#include "int8_kernels.inc"
#undef INT8_TARGET
#undef INT8_VNNI
}  // namespace avx2

namespace vnni {
#define INT8_TARGET "avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni"
#define INT8_VNNI 1
#include "int8_kernels.inc"
#undef INT8_TARGET
#undef INT8_VNNI
}  // namespace vnni
#else
bool has_avx2() {
  return false;
}
bool has_vnni() {
  return false;
}
#endif

// Which weights take the int8 path (a bit per width: 4 and 8), and whether VNNI may run it.
std::atomic<int> int8_bits{0};
std::atomic<bool> vnni_allowed{true};

bool int8_for(int bits, int gs) {
  return has_avx2() && gs % 32 == 0 && (int8_bits.load(std::memory_order_relaxed) & bits) != 0;
}
bool use_vnni() {
  return has_vnni() && vnni_allowed.load(std::memory_order_relaxed);
}

template <typename S>
void rows(const Job<S>& j, int n0, int n1) {
#ifdef APPRENTICE_X86
  if (has_avx2() && j.gs % 8 == 0) {
    if (j.bits == 4)
      return rows_avx2<4>(j, n0, n1);
    if (j.bits == 8)
      return rows_avx2<8>(j, n0, n1);
  }
#endif
  rows_portable(j, n0, n1);
}

template <typename S>
void dequant_portable(const Job<S>& j, int n0, int n1) {
  const int groups = j.K / j.gs, per_word = 32 / j.bits, words = j.K / per_word;
  const uint32_t mask = (1u << j.bits) - 1;
  for (int n = n0; n < n1; ++n)
    for (int k = 0; k < j.K; ++k) {
      uint32_t q = (j.w[size_t(n) * words + k / per_word] >> ((k % per_word) * j.bits)) & mask;
      size_t sg = size_t(n) * groups + k / j.gs;
      j.y[size_t(n) * j.K + k] = load_scalar(j.scales, sg) * float(q) + load_scalar(j.biases, sg);
    }
}

template <typename S>
void dequant_rows(const Job<S>& j, int n0, int n1) {
#ifdef APPRENTICE_X86
  if (has_avx2() && j.gs % 8 == 0) {
    if (j.bits == 4)
      return dequant_avx2<4>(j, n0, n1);
    if (j.bits == 8)
      return dequant_avx2<8>(j, n0, n1);
  }
#endif
  dequant_portable(j, n0, n1);
}

// ---- helper threads -----------------------------------------------------------------------

// Rows are handed out in chunks from a shared counter: the MLX stream's thread takes
// chunks itself and never waits for a helper that has not started (on a busy machine a
// helper may be descheduled; static shares would make every product wait for it).
// Helpers spin a little after a call (a token's products come microseconds apart), then
// sleep on the epoch counter until the next call.
class Pool {
 public:
  static Pool& get() {
    static Pool pool;
    return pool;
  }

  void set_threads(int n) {
    std::lock_guard<std::mutex> lock(call_);
    stop_helpers();
    wanted_ = std::clamp(n, 1, 8);
  }
  int threads() const {
    return wanted_;
  }

  // Call fn(n0, n1) over [0, n) in chunks of `chunk` rows, on this thread and the helpers.
  template <typename F>
  void run(int n, int chunk, F&& fn) {
    std::unique_lock<std::mutex> lock(call_, std::try_to_lock);
    if (!lock.owns_lock() || wanted_ == 1 || n <= chunk) {  // another stream holds the helpers, or too small
      fn(0, n);
      return;
    }
    start_helpers();
    auto work = [&fn, n, chunk, this] {
      for (int i; (i = next_.fetch_add(chunk, std::memory_order_relaxed)) < n;)
        fn(i, std::min(n, i + chunk));
    };
    task_ = work;
    next_.store(0, std::memory_order_relaxed);
    state_.store(OPEN, std::memory_order_release);
    epoch_.fetch_add(1, std::memory_order_release);
    epoch_.notify_all();
    work();
    // Close the job; wait only for helpers that joined it and are finishing a chunk.
    state_.fetch_and(~OPEN, std::memory_order_acq_rel);
    for (long spins = 0; (state_.load(std::memory_order_acquire) & ~OPEN) != 0; ++spins) {
      if (spins < 2000)
        pause();
      else
        std::this_thread::yield();
    }
  }

  ~Pool() {
    stop_helpers();
  }

 private:
  static constexpr int OPEN = 1 << 30;

  static void pause() {
#ifdef APPRENTICE_X86
    _mm_pause();
#endif
  }

  void start_helpers() {
    if (!helpers_.empty())
      return;
    stopping_.store(false);
    const uint64_t start = epoch_.load(std::memory_order_acquire);
    for (int i = 1; i < wanted_; ++i)
      helpers_.emplace_back([this, start] { helper(start); });
  }

  void stop_helpers() {
    if (helpers_.empty())
      return;
    stopping_.store(true);
    epoch_.fetch_add(1, std::memory_order_release);
    epoch_.notify_all();
    for (auto& t : helpers_)
      t.join();
    helpers_.clear();
  }

  void helper(uint64_t seen) {
    while (true) {
      uint64_t now;
      int spins = 0;
      while ((now = epoch_.load(std::memory_order_acquire)) == seen) {
        if (++spins < 2000)
          pause();
        else
          epoch_.wait(seen, std::memory_order_acquire);
      }
      seen = now;
      if (stopping_.load())
        return;
      int v = state_.load(std::memory_order_acquire);
      while ((v & OPEN) && !state_.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel)) {
      }
      if (!(v & OPEN))
        continue;  // the caller already finished this job alone
      task_();
      state_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  std::mutex call_;
  int wanted_ = std::max(1, std::min(2, int(std::thread::hardware_concurrency())));
  std::vector<std::thread> helpers_;
  std::function<void()> task_;
  std::atomic<uint64_t> epoch_{0};
  std::atomic<int> next_{0};
  std::atomic<int> state_{0};  // OPEN bit | helpers working on the current job
  std::atomic<bool> stopping_{false};
};

constexpr size_t HELPER_MIN_WEIGHTS = size_t(1) << 22;
// From this many rows of x on, the matrix-matrix loops (int8_kernels.inc: gemm).
constexpr int GEMM_MIN_ROWS = 8;

// Chunks of a multiple of 8 rows (the 4-row inner loop, no shared cache lines), ~8 per thread.
inline int chunk_rows(int n) {
  int c = (n / (8 * std::max(1, Pool::get().threads())) + 7) / 8 * 8;
  return std::max(32, c);
}

template <typename S>
void dequantize_all(const mx::array& w, const mx::array& scales, const mx::array& biases, mx::array& out,
                    int gs, int bits) {
  const int N = out.shape(0), K = out.shape(1);
  Job<S> j{nullptr, nullptr, w.data<uint32_t>(), scales.data<S>(), biases.data<S>(), out.data<float>(),
           0, N, K, gs, bits};
  Pool::get().run(N, chunk_rows(N), [&j](int n0, int n1) { dequant_rows(j, n0, n1); });
}

#ifdef APPRENTICE_X86
template <typename S>
void compute_int8(const mx::array& x, const mx::array& w, const mx::array& scales, const mx::array& biases,
                  mx::array& out, int gs, int bits) {
  const int K = x.shape(-1), N = out.shape(-1), M = int(x.size() / K);
  const bool many = M >= GEMM_MIN_ROWS;
  QuantX qx = quantize_x_alloc(M, K, gs, bits);
  const float* xp = x.data<float>();
  if (many)  // a long prompt's rows: quantized by both threads
    Pool::get().run(M, std::max(16, M / 8), [&](int m0, int m1) { quantize_rows(qx, xp, m0, m1, K, gs, bits); });
  else
    quantize_rows(qx, xp, 0, M, K, gs, bits);
  Job8<S> j{qx.q.data(), qx.d.data(), qx.sum.data(), reinterpret_cast<const uint8_t*>(w.data<uint32_t>()),
            scales.data<S>(), biases.data<S>(), out.data<float>(), M, N, K, gs, bits, qx.steps};
  auto fn = use_vnni() ? (many ? &vnni::gemm<S> : &vnni::rows<S>) : (many ? &avx2::gemm<S> : &avx2::rows<S>);
  if (size_t(N) * K * M < HELPER_MIN_WEIGHTS) {
    fn(j, 0, N);
    return;
  }
  Pool::get().run(N, chunk_rows(N), [&j, fn](int n0, int n1) { fn(j, n0, n1); });
}
#endif

template <typename S>
void compute(const mx::array& x, const mx::array& w, const mx::array& scales, const mx::array& biases,
             mx::array& out, int gs, int bits) {
  const int K = x.shape(-1), N = out.shape(-1), M = int(x.size() / K), groups = K / gs;
#ifdef APPRENTICE_X86
  if (int8_for(bits, gs))
    return compute_int8<S>(x, w, scales, biases, out, gs, bits);
#endif
  std::vector<float> xsum(size_t(M) * groups);
  const float* xp = x.data<float>();
  for (int m = 0; m < M; ++m)
    for (int g = 0; g < groups; ++g) {
      float s = 0.f;
      for (int k = g * gs; k < (g + 1) * gs; ++k)
        s += xp[size_t(m) * K + k];
      xsum[size_t(m) * groups + g] = s;
    }
  Job<S> j{xp, xsum.data(), w.data<uint32_t>(), scales.data<S>(), biases.data<S>(), out.data<float>(),
           M, N, K, gs, bits};
  // A helper pays a wake-up (tens of microseconds when it sleeps) and takes a core from
  // MLX's own threads: measured, it only pays off for large products (the vocabulary head).
  if (size_t(N) * K * M < HELPER_MIN_WEIGHTS) {
    rows(j, 0, N);
    return;
  }
  Pool::get().run(N, chunk_rows(N), [&j](int n0, int n1) { rows(j, n0, n1); });
}

}  // namespace

// ---- the op and the primitive ---------------------------------------------------------------

mx::array qmatvec(const mx::array& x, const mx::array& w, const mx::array& scales, const mx::array& biases,
                  int group_size, int bits, mx::StreamOrDevice s) {
  if (bits != 4 && bits != 8)
    throw std::invalid_argument("qmatvec: bits must be 4 or 8");
  if (x.dtype() != mx::float32 || w.dtype() != mx::uint32)
    throw std::invalid_argument("qmatvec: x must be float32 and w uint32");
  if (scales.dtype() != biases.dtype() || (scales.dtype() != mx::float16 && scales.dtype() != mx::float32))
    throw std::invalid_argument("qmatvec: scales and biases must both be float16 or float32");
  const int K = x.shape(-1);
  if (w.ndim() != 2 || K % group_size != 0 || group_size % 8 != 0 || w.shape(1) * 32 / bits != K ||
      scales.shape(0) != w.shape(0) || scales.shape(1) != K / group_size || biases.shape() != scales.shape())
    throw std::invalid_argument("qmatvec: shapes of x, w, scales and biases do not match");
  auto stream = mx::to_stream(s);
  if (stream.device != mx::Device::cpu)
    throw std::invalid_argument("qmatvec runs on the CPU only");
  auto shape = x.shape();
  shape.back() = w.shape(0);
  return mx::array(shape, mx::float32, std::make_shared<QMatVec>(stream, group_size, bits),
                   {mx::contiguous(x, false, stream), w, scales, biases});
}

void QMatVec::eval_cpu(const std::vector<mx::array>& inputs, mx::array& out) {
  auto& x = inputs[0];
  auto& w = inputs[1];
  auto& scales = inputs[2];
  auto& biases = inputs[3];
  if (!w.flags().row_contiguous || !scales.flags().row_contiguous || !biases.flags().row_contiguous)
    throw std::invalid_argument("qmatvec: w, scales and biases must be row-contiguous");
  out.set_data(mx::allocator::malloc(out.nbytes()));
  auto& encoder = mx::cpu::get_command_encoder(stream());
  encoder.set_input_array(x);
  encoder.set_input_array(w);
  encoder.set_input_array(scales);
  encoder.set_input_array(biases);
  encoder.set_output_array(out);
  encoder.dispatch([x = mx::array::unsafe_weak_copy(x), w = mx::array::unsafe_weak_copy(w),
                    scales = mx::array::unsafe_weak_copy(scales), biases = mx::array::unsafe_weak_copy(biases),
                    out = mx::array::unsafe_weak_copy(out), gs = group_size_, bits = bits_]() mutable {
    if (scales.dtype() == mx::float16)
      compute<uint16_t>(x, w, scales, biases, out, gs, bits);
    else
      compute<float>(x, w, scales, biases, out, gs, bits);
  });
}

mx::array dequantize_f32(const mx::array& w, const mx::array& scales, const mx::array& biases, int group_size,
                         int bits, mx::StreamOrDevice s) {
  if ((bits != 4 && bits != 8) || group_size % 8 != 0 || w.dtype() != mx::uint32 || w.ndim() != 2 ||
      scales.dtype() != biases.dtype() || (scales.dtype() != mx::float16 && scales.dtype() != mx::float32) ||
      scales.shape(0) != w.shape(0) || scales.shape(1) * group_size != w.shape(1) * 32 / bits ||
      biases.shape() != scales.shape())
    throw std::invalid_argument("dequantize_f32: w, scales and biases do not describe one quantized matrix");
  auto stream = mx::to_stream(s);
  if (stream.device != mx::Device::cpu)
    throw std::invalid_argument("dequantize_f32 runs on the CPU only");
  return mx::array({w.shape(0), w.shape(1) * 32 / bits}, mx::float32,
                   std::make_shared<DequantizeF32>(stream, group_size, bits), {w, scales, biases});
}

void DequantizeF32::eval_cpu(const std::vector<mx::array>& inputs, mx::array& out) {
  auto& w = inputs[0];
  auto& scales = inputs[1];
  auto& biases = inputs[2];
  if (!w.flags().row_contiguous || !scales.flags().row_contiguous || !biases.flags().row_contiguous)
    throw std::invalid_argument("dequantize_f32: w, scales and biases must be row-contiguous");
  out.set_data(mx::allocator::malloc(out.nbytes()));
  auto& encoder = mx::cpu::get_command_encoder(stream());
  encoder.set_input_array(w);
  encoder.set_input_array(scales);
  encoder.set_input_array(biases);
  encoder.set_output_array(out);
  encoder.dispatch([w = mx::array::unsafe_weak_copy(w), scales = mx::array::unsafe_weak_copy(scales),
                    biases = mx::array::unsafe_weak_copy(biases), out = mx::array::unsafe_weak_copy(out),
                    gs = group_size_, bits = bits_]() mutable {
    if (scales.dtype() == mx::float16)
      dequantize_all<uint16_t>(w, scales, biases, out, gs, bits);
    else
      dequantize_all<float>(w, scales, biases, out, gs, bits);
  });
}

void DequantizeF32::eval_gpu(const std::vector<mx::array>&, mx::array&) {
  throw std::runtime_error("dequantize_f32 runs on the CPU only");
}

bool DequantizeF32::is_equivalent(const mx::Primitive& other) const {
  auto& o = static_cast<const DequantizeF32&>(other);
  return group_size_ == o.group_size_ && bits_ == o.bits_;
}

void QMatVec::eval_gpu(const std::vector<mx::array>&, mx::array&) {
  throw std::runtime_error("qmatvec runs on the CPU only");
}

bool QMatVec::is_equivalent(const mx::Primitive& other) const {
  auto& o = static_cast<const QMatVec&>(other);
  return group_size_ == o.group_size_ && bits_ == o.bits_;
}

std::vector<mx::array> QMatVec::vjp(const std::vector<mx::array>& primals, const std::vector<mx::array>& cotangents,
                                    const std::vector<int>& argnums, const std::vector<mx::array>&) {
  std::vector<mx::array> grads;
  for (int arg : argnums) {
    if (arg != 0)
      throw std::invalid_argument("qmatvec: quantized weights have no gradient; freeze them (as LoRA training does)");
    auto w = dequantize_f32(primals[1], primals[2], primals[3], group_size_, bits_, stream());
    grads.push_back(mx::matmul(cotangents[0], w, stream()));
  }
  return grads;
}

std::vector<mx::Shape> QMatVec::output_shapes(const std::vector<mx::array>& inputs) {
  auto shape = inputs[0].shape();
  shape.back() = inputs[1].shape(0);
  return {shape};
}

const char* isa() {
  if (!has_avx2())
    return "portable";
  if (!(int8_bits.load() & 4))
    return "avx2";
  return use_vnni() ? "avx512-vnni, int8 activations" : "avx2, int8 activations";
}

void set_int8(const std::vector<int>& bits, bool vnni) {
  int mask = 0;
  for (int b : bits)
    if (b == 4 || b == 8)
      mask |= b;
    else
      throw std::invalid_argument("set_int8: bits are 4 or 8");
  int8_bits.store(mask);
  vnni_allowed.store(vnni);
}

void limit_isa(const std::string& level) {
  if (level == "native")
    isa_cap.store(ISA_VNNI);
  else if (level == "avx2")
    isa_cap.store(ISA_AVX2);
  else if (level == "portable")
    isa_cap.store(ISA_PORTABLE);
  else
    throw std::invalid_argument("limit_isa: the level is native, avx2 or portable");
}

std::vector<int> int8() {
  std::vector<int> bits;
  for (int b : {4, 8})
    if (int8_bits.load() & b)
      bits.push_back(b);
  return bits;
}

void set_threads(int n) {
  Pool::get().set_threads(n);
}

int threads() {
  return Pool::get().threads();
}

bool cpu_has_avx2() {
  return has_avx2();
}

void parallel_for(int n, int chunk, const std::function<void(int, int)>& fn) {
  Pool::get().run(n, chunk, fn);
}

}  // namespace apprentice
