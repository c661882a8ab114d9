"""`apprentice bench speed --json` reports every figure as one JSON object (tiny model, quick)."""

import json
from unittest.mock import ANY

import pytest

from assistant.cli import main


def test_bench_speed_reports_every_figure(capsys, tiny_student):
    code = main(["bench", "speed", "--quick", "--json", "--runs", "1"])
    out, err = capsys.readouterr()
    assert code == 0, err
    f = json.loads(out)
    assert f["model"] == "tiny"
    for name in ("prompt_30", "prompt_1000"):
        assert f["mlx"]["ttft_ms"][name]["median"] > 0
    assert f["mlx"]["decode_tokens_per_s"]["median"] > 0 and f["mlx"]["prefill_tokens_per_s"]["median"] > 0
    assert f["follow_up"]["cached_tokens"] > 0.8 * f["follow_up"]["prompt_tokens"]
    assert f["limit"]["read_bandwidth_gb_s"] > 0 and 0 < f["limit"]["decode_percent_of_limit"]
    assert f["cold_start_ms"]["median"] > 0 and f["peak_rss_mb"] > 0
    assert set(f["router_ms"]) == {"0", "1000"} and f["router_ms"]["1000"]["p50"] > 0
    # the CPU time of a decision beside its wall time, and which search ran (an index this small: float32)
    assert 0 < f["router_ms"]["1000"]["cpu_p50"] and f["router_scan"].startswith(("float32", "int8 from 4,096"))
    # the same decisions while the student decodes in the process, and it did decode meanwhile
    decoding = f["router_ms_decoding"]
    assert decoding["1000"]["p99"] >= decoding["1000"]["p50"] > 0 and decoding["decode_tokens_per_s"] > 0
    assert f["goals"]["router_p99_ms_at_max_decoding"]["value"] == decoding["1000"]["p99"]
    assert f["cold_start_ms"]["first_ms"] > 0 and f["cold_start_ms"]["runs"] == 1
    assert f["machine"]["quantized_kernel"].startswith("none")  # the tiny student is float32
    assert f["goals"]["ttft_30_tokens_ms"]["target"] == 300 and f["goals"]["peak_rss_mb"]["met"] in (True, False)
    assert f["goals"]["cold_start_ms"] == {"value": f["cold_start_ms"]["median"], "target": 1000, "met": ANY}
    assert f["goals"]["decode_over_llama_cpp"]["met"] is None  # no llama.cpp figure to compare
    # llama.cpp runs on the default student's GGUF only, and says so
    assert f["llama_cpp"] is None and f["ratios"] is None and f["notes"]


def test_no_runs_is_bad_usage_before_anything_loads(capsys, home):
    code = main(["bench", "speed", "--runs", "0"])
    assert code == 2 and "--runs must be 1 or more, not 0; try --runs 3." in capsys.readouterr().err


def test_llama_cpp_runs_in_a_child_without_mlx(tmp_path):
    """llama.cpp is timed in a process of its own: importing the benchmark there loads no MLX."""
    import subprocess
    import sys

    from model.bench import speed

    probe = "import sys, model.bench.speed; print('mlx.core' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
        == "False"
    )
    try:
        import llama_cpp  # noqa: F401
    except ImportError:  # absent: no figures, no error (the caller adds a note)
        assert speed.llama_cpp(tmp_path / "none.gguf", 1, [1, 2], [1]) is None
    else:  # present: the child's failure reaches the caller with its reason
        with pytest.raises(RuntimeError, match="does not exist"):
            speed.llama_cpp(tmp_path / "none.gguf", 1, [1, 2], [1])


def test_a_llama_cpp_child_killed_by_a_signal_says_how_to_rebuild_it():
    """A llama-cpp-python built for instructions the CPU does not run dies of SIGILL with no output."""
    import signal
    import subprocess
    import sys

    from model.bench import speed

    killed = subprocess.run(
        [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGILL)"], capture_output=True, text=True
    )
    why = speed.child_failure(killed)
    assert killed.returncode == -signal.SIGILL and "SIGILL" in why and "GGML_NATIVE=OFF" in why
    crashed = subprocess.run([sys.executable, "-c", "raise SystemExit(3)"], capture_output=True, text=True)
    assert speed.child_failure(crashed).endswith("exit status 3")
