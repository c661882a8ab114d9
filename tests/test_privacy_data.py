"""What Apprentice keeps, checked by the machine: no API key in any file, log, export or message
it writes; the key file and the server's socket are private to the user; and `log rm --all`
removes every trace of what was asked: turns, examples, the router's outcomes, datasets built for
distillation and the prompt caches on disk, flagging the student versions that learned from them.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import time
from pathlib import Path

from assistant import config
from assistant.cli import main
from assistant.store import Store
from tests.reliability import FAKE_KEY, containing, spawn

WEATHER = "What's the weather in Paris tomorrow?"
SECRET = "my-unusual-secret-phrase-zebra-quokka"


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def cache_root() -> Path:
    return Path(os.environ.get("APPRENTICE_CACHE") or Path.home() / ".cache" / "apprentice")


def test_no_api_key_is_written_anywhere(tiny_student, gemini, home, capsys, tmp_path, monkeypatch):
    shown = []  # everything printed to the user
    monkeypatch.setenv("APPRENTICE_TEACHER_RETRIES", "1")
    for faults in ([], ["503"], ["garbage"], ["429::60s"]):
        gemini(answers={WEATHER: "Sunny tomorrow in Paris, 21 degrees."}, faults=faults, key=FAKE_KEY)
        code, out, err = cli(capsys, "ask", WEATHER, "--mode", "auto", "--json", "--max-tokens", "8")
        assert code == 0, err
        shown.append(out + err)

    # a crash: the real command killed while it waits on a slow teacher
    fake = gemini(answers={WEATHER: "Sunny."}, faults=["slow::30s"], key=FAKE_KEY)
    child = spawn("ask", WEATHER, "--mode", "auto", "--json")
    deadline = time.monotonic() + 120
    while not fake.requests and time.monotonic() < deadline:
        time.sleep(0.1)
    assert fake.requests, "the child never reached the teacher"
    child.send_signal(signal.SIGKILL)
    shown.append("".join(child.communicate()))

    # an unexpected error: its traceback goes to the error log, which must not hold the key either
    def broken(*_args, **_kwargs):
        raise RuntimeError("the store broke while recording")

    with monkeypatch.context() as patched:
        patched.setattr("assistant.core.Assistant.record_sent", broken)
        code, out, err = cli(capsys, "ask", WEATHER, "--mode", "auto", "--json", "--max-tokens", "8")
    assert code == 1 and "Details are in" in err
    assert (home / "logs" / "errors.log").exists()
    shown.append(out + err)

    export = tmp_path / "export.jsonl"
    for args in (
        ("log", "export", "--examples", "--format", "mlx", "-o", str(export)),
        ("log", "list", "--examples", "--all", "--json"),
        ("log", "list", "--json"),
        ("keys", "status"),
        ("doctor", "--json"),
    ):
        main(list(args))
        out, err = capsys.readouterr()
        shown.append(out + err)

    assert Store().examples(include_failed=True, limit=None), "nothing reached the teacher: the test tested nothing"
    assert not [s for s in shown if FAKE_KEY in s]
    leaks = containing(FAKE_KEY, home, export.parent, cache_root())
    assert leaks == [], leaks


def test_the_key_file_and_the_server_socket_are_private(tiny_student, home, capsys, monkeypatch):
    import io

    from assistant.server import socket_path
    from assistant.server.daemon import Server

    monkeypatch.setattr("sys.stdin", io.StringIO(FAKE_KEY + "\n"))
    code, _, err = cli(capsys, "keys", "set", "gemini")
    assert code == 0, err
    key_file = home / "keys" / "gemini"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) & 0o077 == 0  # nor can others list the folder

    monkeypatch.setenv("APPRENTICE_SERVE_PORT", "0")
    server = Server(config.load())
    server.start()
    try:
        path = socket_path()
        assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        server.stop()


def _register_trained_on(example_ids: list[int]) -> str:
    from assistant.models import registry

    active = registry.active()
    staging = registry.staging_folder("distill")
    version = registry.new_version(
        "distill",
        source="test",
        bits=32,
        external_path=str(active.path),
        info={"dataset": {"example_ids": example_ids}},
    )
    registry.register(staging, version, make_active=False)
    return version.name


def test_log_rm_all_removes_every_trace_and_flags_what_learned_from_it(tiny_student, gemini, home, capsys):
    from assistant.core import Assistant
    from assistant.models import registry

    gemini(answers={f"{SECRET} weather today": "Sunny, says the teacher."}, key=FAKE_KEY)
    assistant = Assistant()
    for query, mode in ((f"{SECRET} weather today", "auto"), (f"Tell me about {SECRET}", "private")):
        answer = assistant.answer(query, mode=mode)
        "".join(answer)
    assistant.close()
    follow = Assistant()  # a follow-up: the conversation's prompt cache is written to disk
    first = follow.answer(f"Remember {SECRET}", mode="private")
    "".join(first)
    "".join(follow.answer("And again?", first.conversation_id, mode="private"))
    follow.close()

    store = Store()
    examples = store.examples(limit=None)
    assert examples and store.db["turns"].count >= 3
    # the router's memory of this query, as the cascade leaves it
    store.add_outcome(query=SECRET, embedding=b"\0" * 1536, student_version="tiny", wrong=1, origin="judged")
    trained = _register_trained_on([e["id"] for e in examples])
    # a distillation that was interrupted: its dataset is in a staging folder
    staging = registry.staging_folder("distill")
    (staging / "run.json").write_text("{}")
    (staging / "train.jsonl").write_text(json.dumps({"messages": [{"role": "user", "content": SECRET}]}) + "\n")
    prompts = home / "cache" / "prompts"
    assert list(prompts.glob("*.safetensors")), "no prompt cache was written: the test tests nothing"

    code, out, err = cli(capsys, "log", "rm", "--all", "--yes")
    assert code == 0, err
    assert trained in err and "model rm --flagged" in err  # the version that learned from it is flagged

    store = Store()
    for table in ("turns", "conversations", "examples", "outcomes"):
        assert store.db[table].count == 0, table
    assert not list(prompts.glob("*")) if prompts.exists() else True
    assert containing(SECRET, home / "models") == []  # no dataset left in a staging folder
    # nor in the database file's free pages or its write-ahead log
    store.db.conn.close()
    assert containing(SECRET, home) == [], containing(SECRET, home)
    code, out, _ = cli(capsys, "model", "list")
    assert trained in out and "deleted" in out
