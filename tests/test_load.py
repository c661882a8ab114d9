"""Load: two processes asking in loops, repeated `voice --wav` runs and a distillation, all on one
APPRENTICE_HOME at once (no "database is locked" reaches a user, no write is lost), and a thousand
queries through one `Assistant` with the tiny student (memory stays flat; the growth is printed
for the README).
"""

from __future__ import annotations

import gc
import importlib.util
import json
import resource
import shutil
import subprocess
import sys
import threading

import pytest

from assistant.store import Store
from tests.reliability import child_env, spawn

ASKS = 12
VOICE_RUNS = 4
SPOKEN = "what is the capital of France"

# Asks at least {n} questions, and goes on until the file argv[2] exists (the test's other loads are done).
ASKER = """
import json, os, sys
from assistant.cli import main
i = 0
while i < {n} or not os.path.exists(sys.argv[2]):
    code = main(["ask", f"process {{sys.argv[1]}} question {{i}}", "--json", "--max-tokens", "4", "--mode", "private"])
    print(json.dumps({{"i": i, "code": code}}), file=sys.stderr, flush=True)
    i += 1
"""


def _voice_missing() -> str | None:
    """Why `voice --wav` runs cannot join the load here, or None."""
    if shutil.which("espeak-ng") is None:
        return "espeak-ng, which writes the spoken question, is not installed (apt-get install espeak-ng)"
    if importlib.util.find_spec("faster_whisper") is None:
        return "the voice extra, which hears it, is not installed (pip install 'apprentice[voice]')"
    return None


def _speak_in_turn(wav, runs: list) -> None:
    """`apprentice voice --wav` run again and again, as a user asking by voice would."""
    command = ["voice", "--wav", str(wav), "--json", "--tts", "none", "--max-tokens", "4", "--mode", "private"]
    for _ in range(VOICE_RUNS):
        runs.append(
            subprocess.run(
                [sys.executable, "-m", "assistant", *command],
                capture_output=True,
                text=True,
                timeout=600,
                env=child_env(),
            )
        )


def test_two_asking_processes_voice_runs_and_a_distillation_share_one_home(learnable_student, home, tmp_path):
    from tests.test_distill import FAST, PARIS, log_example

    store = Store()
    for q in PARIS[:8]:
        log_example(store, q, "Paris")
    argv = [a if a != "150" else "20" for a in FAST]
    missing, voiced = _voice_missing(), []
    if missing is None:
        wav = tmp_path / "question.wav"
        subprocess.run(["espeak-ng", "-w", str(wav), SPOKEN], check=True, capture_output=True)
        voicing = threading.Thread(target=_speak_in_turn, args=(wav, voiced))
        voicing.start()
    distilling = spawn("distill", *argv, "--json")
    stop = tmp_path / "stop"
    askers = [
        subprocess.Popen(
            [sys.executable, "-c", ASKER.format(n=ASKS), name, str(stop)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
        )
        for name in ("A", "B")
    ]
    d_out, d_err = distilling.communicate(timeout=900)
    if missing is None:
        voicing.join(timeout=900)
    stop.touch()  # the askers asked all along: now they may end
    outputs = [p.communicate(timeout=900) for p in askers]

    asks = {}
    for (out, err), process, name in zip(outputs, askers, "AB"):
        assert process.returncode == 0, err
        assert "locked" not in (out + err).lower() and "Traceback" not in err, err
        codes = [json.loads(line)["code"] for line in err.splitlines() if line.startswith('{"i"')]
        said = [line for line in err.splitlines() if not line.startswith('{"i"')]  # what a failed ask said
        assert len(codes) >= ASKS and set(codes) == {0}, said[-10:]
        asks[name] = len(codes)
    assert distilling.returncode == 0, d_err
    assert "locked" not in (d_out + d_err).lower() and json.loads(d_out)["status"]

    turns = {t["id"]: t for t in Store().turns(limit=None)}
    queries = {t["query"] for t in turns.values()}
    for name, n in asks.items():
        assert {f"process {name} question {i}" for i in range(n)} <= queries  # no write lost
    print(f"\nAsked {asks} and spoke {len(voiced)} questions while distilling")
    assert len(Store().examples(limit=None)) == 8

    if missing is not None:
        pytest.skip(f"the askers and the distillation passed, without voice runs: {missing}")
    assert len(voiced) == VOICE_RUNS
    for run in voiced:
        assert run.returncode == 0, run.stderr
        assert "locked" not in (run.stdout + run.stderr).lower() and "Traceback" not in run.stderr, run.stderr
        heard = json.loads(run.stdout)
        assert "france" in heard["transcript"].lower()
        turn = turns[heard["turn_id"]]  # each voice turn is in the log: no write lost
        assert turn["source"] == "voice" and turn["query"] == heard["transcript"] and turn["status"] == "done"
    spoken = [turns[json.loads(run.stdout)["turn_id"]] for run in voiced]
    assert len({t["id"] for t in spoken}) == VOICE_RUNS
    asked = [t for t in turns.values() if t["query"].startswith("process ")]
    assert min(t["created"] for t in spoken) < max(t["created"] for t in asked)  # they ran at the same time


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def test_a_thousand_queries_keep_memory_flat(tiny_student, capsys):
    from assistant import config
    from assistant.core import Assistant

    assistant = Assistant(config.load({"max_tokens": 4}))
    rss, conversation = {}, None
    for i in range(1000):
        if i % 10 == 0:  # ten turns to a conversation: follow-ups reuse the prompt cache
            conversation = None
        answer = assistant.answer(f"Question number {i} about rivers", conversation, mode="private")
        "".join(answer)
        conversation = answer.conversation_id
        if i + 1 in (100, 1000):
            gc.collect()
            rss[i + 1] = _rss_mib()
    assistant.close()
    growth = rss[1000] - rss[100]
    with capsys.disabled():
        print(f"\nRSS after 100 queries {rss[100]:.0f} MiB, after 1000 {rss[1000]:.0f} MiB: +{growth:.1f} MiB")
    assert len(Store().turns(limit=None)) == 1000
    assert growth < 50, rss  # flat: not a few hundred KiB per query
