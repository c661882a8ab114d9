// Single-op CPU versions of the small steps of a decoder layer, for float32 activations.
//
// On the CPU, mlx[cpu] runs mx.fast.rms_norm, mx.fast.rope and
// mx.fast.scaled_dot_product_attention as their fallbacks: 10 to 20 small operations each,
// a few microseconds of scheduling apiece. One primitive per step removes most of a decode
// step's ~95 operations per layer.
#pragma once

#include "mlx/mlx.h"
#include "mlx/primitives.h"

namespace apprentice {

namespace mx = mlx::core;

// x * rsqrt(mean(x^2) + eps) * w over the last axis. x: (..., D) float32, w: (D,) float32.
mx::array rms_norm(const mx::array& x, const mx::array& w, float eps, mx::StreamOrDevice s = {});

// Rotary embedding (the non-traditional, half-split layout) of x: (B, H, L, D) float32,
// positions offset + l, the first `dims` features rotated.
mx::array rope(const mx::array& x, int dims, float base, float scale, int offset, mx::StreamOrDevice s = {});

// softmax(scale * q @ k.T) @ v for one query row per head (decode), no mask.
// q: (B, Hq, 1, D), k: (B, Hkv, T, D), v: (B, Hkv, T, Dv), Hq a multiple of Hkv; float32.
mx::array decode_attention(
    const mx::array& q,
    const mx::array& k,
    const mx::array& v,
    float scale,
    mx::StreamOrDevice s = {});

// softmax(scale * q @ k.T + causal mask) @ v for a prompt's L query rows per head, whose keys end at
// the last query (k may begin earlier: a cached prefix of T - L tokens). Shapes as decode_attention's,
// with q: (B, Hq, L, D), T >= L, D a multiple of 8 and Dv of 32; float32, AVX2 and FMA only.
mx::array prefill_attention(
    const mx::array& q,
    const mx::array& k,
    const mx::array& v,
    float scale,
    mx::StreamOrDevice s = {});

// One primitive class for the four: which step, and its float parameters.
class Fused : public mx::UnaryPrimitive {
 public:
  enum Kind { RMS_NORM, ROPE, ATTENTION, CAUSAL_ATTENTION };
  Fused(mx::Stream stream, Kind kind, float a = 0.f, float b = 0.f, float c = 0.f, int n = 0, int m = 0)
      : mx::UnaryPrimitive(stream), kind_(kind), a_(a), b_(b), c_(c), n_(n), m_(m) {}

  void eval_cpu(const std::vector<mx::array>& inputs, mx::array& out) override;
  void eval_gpu(const std::vector<mx::array>& inputs, mx::array& out) override;

  const char* name() const override;
  bool is_equivalent(const mx::Primitive& other) const override;
  std::vector<mx::Shape> output_shapes(const std::vector<mx::array>& inputs) override;

 private:
  Kind kind_;
  float a_, b_, c_;  // eps | base, scale | scale
  int n_, m_;  // rope: dims, offset
};

// A's elements in row-major order: its own data when row-contiguous, else a copy in buf.
const float* row_major(const mx::array& a, std::vector<float>& buf);

}  // namespace apprentice
