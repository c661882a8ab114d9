/* The BLAS and LAPACK names libmlx imports, forwarded to scipy-openblas32's prefixed ones.
 *
 * scipy-openblas32 (PyPI) ships OpenBLAS with every symbol prefixed (`scipy_cblas_sgemm`), so it
 * cannot stand in for the reference BLAS that mlx[cpu] links on its own. This library exports the
 * plain names (`cblas_sgemm`, `sgesdd_`, ...) as one jump each to the prefixed function: loaded
 * with RTLD_GLOBAL after scipy-openblas32's library and before MLX, it makes MLX's calls land in
 * OpenBLAS (assistant/blas.py). A jump passes every argument register through untouched, so the
 * forwarder needs no prototypes and no BLAS headers at build time; the prefixed names are left
 * undefined here and bound when first called.
 *
 * The list is what `nm -D --undefined-only libmlx.so` names from BLAS and LAPACK (MLX 0.29-0.32),
 * plus the other precisions of the same routines; tests/test_blas.py checks it covers libmlx.
 */

#if defined(__x86_64__)
#define FORWARD(name)                                   \
  __asm__(".text\n"                                     \
          ".globl " #name "\n"                          \
          ".type " #name ", @function\n"                \
          ".p2align 4\n" #name ":\n"                    \
          "  jmp scipy_" #name "@PLT\n"                 \
          ".size " #name ", .-" #name "\n");
#elif defined(__aarch64__)
#define FORWARD(name)                                   \
  __asm__(".text\n"                                     \
          ".globl " #name "\n"                          \
          ".type " #name ", %function\n"                \
          ".p2align 2\n" #name ":\n"                    \
          "  b scipy_" #name "\n"                       \
          ".size " #name ", .-" #name "\n");
#else
#error "the BLAS forwarder is written for x86-64 and aarch64 only"
#endif

/* BLAS: matrix products */
FORWARD(cblas_sgemm)
FORWARD(cblas_dgemm)
FORWARD(cblas_cgemm)
FORWARD(cblas_zgemm)
FORWARD(cblas_sgemv)
FORWARD(cblas_dgemv)

/* LAPACK: factorizations, inverses, eigen- and singular values (mlx.core.linalg) */
FORWARD(sgeev_)
FORWARD(dgeev_)
FORWARD(cgeev_)
FORWARD(sgesdd_)
FORWARD(dgesdd_)
FORWARD(cgesdd_)
FORWARD(ssyevd_)
FORWARD(dsyevd_)
FORWARD(cheevd_)
FORWARD(sgeqrf_)
FORWARD(dgeqrf_)
FORWARD(sorgqr_)
FORWARD(dorgqr_)
FORWARD(sgetrf_)
FORWARD(dgetrf_)
FORWARD(sgetri_)
FORWARD(dgetri_)
FORWARD(spotrf_)
FORWARD(dpotrf_)
FORWARD(strtri_)
FORWARD(dtrtri_)
