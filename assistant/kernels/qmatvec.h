// A fast CPU product of float32 activations with MLX's affine-quantized weights.
//
// w: (N, K * bits / 32) uint32, 32 / bits values per word, little-endian;
// scales, biases: (N, K / group_size), float16 or float32; w_real = scale * q + bias.
// y = x @ w_real.T for x: (..., K) float32, the layout mx.quantized_matmul(transpose=True) takes.
#pragma once

#include <functional>
#include <string>

#include "mlx/mlx.h"
#include "mlx/primitives.h"

namespace apprentice {

namespace mx = mlx::core;

// Whether this CPU runs the AVX2 and FMA loops (and the instruction limit set for tests allows them).
bool cpu_has_avx2();

// fn(i0, i1) over [0, n) in chunks of `chunk`, on this thread and the kernel's helper threads.
void parallel_for(int n, int chunk, const std::function<void(int, int)>& fn);

mx::array qmatvec(
    const mx::array& x,
    const mx::array& w,
    const mx::array& scales,
    const mx::array& biases,
    int group_size,
    int bits,
    mx::StreamOrDevice s = {});

class QMatVec : public mx::UnaryPrimitive {
 public:
  QMatVec(mx::Stream stream, int group_size, int bits)
      : mx::UnaryPrimitive(stream), group_size_(group_size), bits_(bits) {}

  void eval_cpu(const std::vector<mx::array>& inputs, mx::array& out) override;
  void eval_gpu(const std::vector<mx::array>& inputs, mx::array& out) override;

  const char* name() const override {
    return "QMatVec";
  }
  bool is_equivalent(const mx::Primitive& other) const override;
  std::vector<mx::Shape> output_shapes(const std::vector<mx::array>& inputs) override;
  // The gradient with respect to x, in float32: cotangent @ dequantize(w). LoRA training runs
  // through the quantized layers; their weights are frozen, so they have no gradient.
  std::vector<mx::array> vjp(const std::vector<mx::array>& primals, const std::vector<mx::array>& cotangents,
                             const std::vector<int>& argnums, const std::vector<mx::array>& outputs) override;

 private:
  int group_size_;
  int bits_;
};

// dequantize(w, scales, biases) as float32 (N, K), for the BLAS matmul of a long prompt.
mx::array dequantize_f32(
    const mx::array& w,
    const mx::array& scales,
    const mx::array& biases,
    int group_size,
    int bits,
    mx::StreamOrDevice s = {});

class DequantizeF32 : public mx::UnaryPrimitive {
 public:
  DequantizeF32(mx::Stream stream, int group_size, int bits)
      : mx::UnaryPrimitive(stream), group_size_(group_size), bits_(bits) {}

  void eval_cpu(const std::vector<mx::array>& inputs, mx::array& out) override;
  void eval_gpu(const std::vector<mx::array>& inputs, mx::array& out) override;

  const char* name() const override {
    return "DequantizeF32";
  }
  bool is_equivalent(const mx::Primitive& other) const override;

 private:
  int group_size_;
  int bits_;
};

// Which inner loop runs here: "portable" (no AVX2, FMA and F16C: the extension is then not
// used), "avx2" (float activations), or, when 4-bit products take int8 activations (set_int8),
// "avx2, int8 activations" or "avx512-vnni, int8 activations".
const char* isa();
// Which weight widths (4, 8) multiply int8-quantized activations instead of float ones, and
// whether AVX-512 VNNI may run them (else AVX2). Off until set.
void set_int8(const std::vector<int>& bits, bool vnni = true);
// Hide instructions from the kernel's checks, as if this CPU lacked them: "native" (hide
// nothing), "avx2" (no AVX-512 VNNI) or "portable" (no AVX2 either: isa() is then "portable").
void limit_isa(const std::string& level);
std::vector<int> int8();
// Threads that share one product (the caller's and helpers); default 2, at most 8.
void set_threads(int n);
int threads();

}  // namespace apprentice
