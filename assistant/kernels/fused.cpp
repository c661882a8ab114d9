// Single-op CPU versions of RMSNorm, RoPE and one-row attention (see fused.h).
//
// Each follows the arithmetic of MLX's own CPU fallback (the same products, in float32),
// so results differ from it only by rounding.
#include "fused.h"

#include <cmath>
#include <stdexcept>
#include <vector>

#include "mlx_cpu.h"

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
        attend(row_major(q, b0), view_of(k, b1), view_of(v, b2), y, q.shape(0), q.shape(1), k.shape(1), k.shape(2),
               q.shape(3), v.shape(3), a);
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
  return {inputs[0].shape()};
}

}  // namespace apprentice
