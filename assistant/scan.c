/* The outcome index's first pass: integer dot products of int8 rows with an int8 query.
 *
 * assistant/outcomes.py keeps each outcome's embedding twice: float32 (the exact one) and int8
 * with a scale per row. A decision scans the int8 copy here (a quarter of the bytes of a float32
 * scan), bounds each row's error, and computes the exact float32 similarity only for the rows that
 * can still be among the nearest. Plain C, no Python API: outcomes.py loads it with ctypes, which
 * lets go of the GIL for the call. The products are exact: |x| <= 127, and 384 terms fit an int32
 * many times over.
 *
 * x86-64: AVX-512BW or AVX2 (16-bit multiply-adds of sign-extended bytes), chosen at run time;
 * elsewhere, and for a tail of fewer than 16 values, a plain loop.
 */

#include <stdint.h>

static void scan_plain(const int8_t *rows, int64_t n, int64_t dim, const int8_t *query, int32_t *out) {
  for (int64_t r = 0; r < n; r++) {
    const int8_t *row = rows + r * dim;
    int32_t acc = 0;
    for (int64_t i = 0; i < dim; i++) acc += (int32_t)row[i] * (int32_t)query[i];
    out[r] = acc;
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

__attribute__((target("avx2"))) static void scan_avx2(const int8_t *rows, int64_t n, int64_t dim,
                                                       const int8_t *query, int32_t *out) {
  int64_t body = dim - dim % 16;
  for (int64_t r = 0; r < n; r++) {
    const int8_t *row = rows + r * dim;
    __m256i acc = _mm256_setzero_si256();
    for (int64_t i = 0; i < body; i += 16) {
      __m256i x = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(row + i)));
      __m256i q = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(query + i)));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(x, q));
    }
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    int32_t total = _mm_cvtsi128_si32(s);
    for (int64_t i = body; i < dim; i++) total += (int32_t)row[i] * (int32_t)query[i];
    out[r] = total;
  }
}

__attribute__((target("avx512f,avx512bw"))) static void scan_avx512(const int8_t *rows, int64_t n, int64_t dim,
                                                                    const int8_t *query, int32_t *out) {
  int64_t body = dim - dim % 32;
  for (int64_t r = 0; r < n; r++) {
    const int8_t *row = rows + r * dim;
    __m512i acc = _mm512_setzero_si512();
    for (int64_t i = 0; i < body; i += 32) {
      __m512i x = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(row + i)));
      __m512i q = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(query + i)));
      acc = _mm512_add_epi32(acc, _mm512_madd_epi16(x, q));
    }
    int32_t total = _mm512_reduce_add_epi32(acc);
    for (int64_t i = body; i < dim; i++) total += (int32_t)row[i] * (int32_t)query[i];
    out[r] = total;
  }
}
#endif

/* out[r] = rows[r] . query for r < n; rows is n x dim, row-major. */
void apprentice_scan_i8(const int8_t *rows, int64_t n, int64_t dim, const int8_t *query, int32_t *out) {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512bw")) {
    scan_avx512(rows, n, dim, query, out);
    return;
  }
  if (__builtin_cpu_supports("avx2")) {
    scan_avx2(rows, n, dim, query, out);
    return;
  }
#endif
  scan_plain(rows, n, dim, query, out);
}

/* Which loop apprentice_scan_i8 runs here: 2 AVX-512BW, 1 AVX2, 0 the plain one. */
int apprentice_scan_isa(void) {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512bw")) return 2;
  if (__builtin_cpu_supports("avx2")) return 1;
#endif
  return 0;
}
