// Python bindings for the quantized product: assistant.kernels._qmatvec.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/variant.h>
#include <nanobind/stl/vector.h>

#include "fused.h"
#include "qmatvec.h"

namespace nb = nanobind;
using namespace nb::literals;

NB_MODULE(_qmatvec, m) {
  m.doc() = "A fast CPU product of float32 activations with MLX's affine-quantized weights.";
  m.def("qmatvec", &apprentice::qmatvec, "x"_a, "w"_a, "scales"_a, "biases"_a, "group_size"_a, "bits"_a,
        nb::kw_only(), "stream"_a = nb::none(),
        "x @ dequantize(w, scales, biases).T for float32 x: (..., K), w: (N, K * bits / 32) uint32.");
  m.def("dequantize_f32", &apprentice::dequantize_f32, "w"_a, "scales"_a, "biases"_a, "group_size"_a, "bits"_a,
        nb::kw_only(), "stream"_a = nb::none(), "dequantize(w, scales, biases) as float32, computed in float32.");
  m.def("isa", &apprentice::isa,
        "Which inner loop runs here: 'portable' (no AVX2/FMA/F16C), 'avx2', 'avx2, int8 activations' or "
        "'avx512-vnni, int8 activations' (int8 activations: when set_int8 includes 4-bit weights).");
  m.def("rms_norm", &apprentice::rms_norm, "x"_a, "w"_a, "eps"_a, nb::kw_only(), "stream"_a = nb::none(),
        "x * rsqrt(mean(x**2, -1) + eps) * w for float32 x: (..., D), w: (D,).");
  m.def("rope", &apprentice::rope, "x"_a, "dims"_a, "base"_a, "scale"_a, "offset"_a, nb::kw_only(),
        "stream"_a = nb::none(), "mx.fast.rope(traditional=False) for float32 x: (B, H, L, D), an int offset.");
  m.def("decode_attention", &apprentice::decode_attention, "q"_a, "k"_a, "v"_a, "scale"_a, nb::kw_only(),
        "stream"_a = nb::none(), "softmax(scale * q @ k.T) @ v without a mask, for q: (B, Hq, 1, D), float32.");
  m.def("prefill_attention", &apprentice::prefill_attention, "q"_a, "k"_a, "v"_a, "scale"_a, nb::kw_only(),
        "stream"_a = nb::none(),
        "softmax(scale * q @ k.T, causal) @ v for a prompt's q: (B, Hq, L, D) whose keys end at its last row.");
  m.def("set_int8", &apprentice::set_int8, "bits"_a, "vnni"_a = true,
        "Weight widths (4, 8) whose products quantize x to int8 per block of 32; vnni=False forces AVX2.");
  m.def("limit_isa", &apprentice::limit_isa, "level"_a,
        "Hide instructions from the kernel's checks: 'native' (none hidden), 'avx2' (no VNNI) or 'portable' "
        "(no AVX2 either).");
  m.def("int8", &apprentice::int8, "Weight widths whose products use int8 activations.");
  m.def("set_threads", &apprentice::set_threads, "n"_a, "Threads that share one product (1 to 8).");
  m.def("threads", &apprentice::threads);
  m.attr("mlx_version") = MLX_BUILT_AGAINST;
}
