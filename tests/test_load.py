"""Load: two processes asking in loops and a distillation, all on one APPRENTICE_HOME at once
(no "database is locked" reaches a user, no write is lost), and a thousand queries through one
`Assistant` with the tiny student (memory stays flat; the growth is printed for the README).
"""

from __future__ import annotations

import gc
import json
import resource
import subprocess
import sys

from assistant.store import Store
from tests.reliability import child_env, spawn

ASKS = 12

ASKER = """
import json, sys
from assistant.cli import main
for i in range({n}):
    code = main(["ask", f"process {{sys.argv[1]}} question {{i}}", "--json", "--max-tokens", "4", "--mode", "private"])
    print(json.dumps({{"i": i, "code": code}}), file=sys.stderr, flush=True)
"""


def test_two_asking_processes_and_a_distillation_share_one_home(learnable_student, home):
    from tests.test_distill import FAST, PARIS, log_example

    store = Store()
    for q in PARIS[:8]:
        log_example(store, q, "Paris")
    argv = [a if a != "150" else "20" for a in FAST]
    distilling = spawn("distill", *argv, "--json")
    askers = [
        subprocess.Popen(
            [sys.executable, "-c", ASKER.format(n=ASKS), name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
        )
        for name in ("A", "B")
    ]
    outputs = [p.communicate(timeout=900) for p in askers]
    d_out, d_err = distilling.communicate(timeout=900)

    for (out, err), process in zip(outputs, askers):
        assert process.returncode == 0, err
        assert "locked" not in (out + err).lower() and "Traceback" not in err, err
        codes = [json.loads(line)["code"] for line in err.splitlines() if line.startswith('{"i"')]
        assert codes == [0] * ASKS
    assert distilling.returncode == 0, d_err
    assert "locked" not in (d_out + d_err).lower() and json.loads(d_out)["status"]

    queries = {t["query"] for t in Store().turns(limit=None)}
    for name in ("A", "B"):
        assert {f"process {name} question {i}" for i in range(ASKS)} <= queries  # no write lost
    assert len(Store().examples(limit=None)) == 8


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
