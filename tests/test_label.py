"""`apprentice distill --label FILE.jsonl`: teacher labels through the Batch API, driven by the real
google-genai SDK over HTTP against fake-gemini's batch endpoints."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.dev.fake_gemini import FakeGemini
from assistant.store import Store
from model.distill import label
from model.distill import main as distill_main

ROOT = Path(__file__).resolve().parents[1]
KEY = "label-test-key-0123456789abcdef"
EMAIL = "bob@example.com"
QUERIES = [
    "What is the capital of France?",
    "Set a timer for 10 minutes",
    f"Email {EMAIL} the capital of Peru",
    "what is the capital of FRANCE?",  # the first one again
    "What's the weather tomorrow?",  # live information
    "Remember that the boiler code is 4321",  # a note: never leaves
]
ANSWERS = [
    {"query": "What is the capital of France?", "answer": "Paris."},
    {"query": "Set a timer for 10 minutes", "call": {"name": "timer", "arguments": {"minutes": 10}}},
    {"query": "Email [EMAIL_1] the capital of Peru", "answer": "I cannot write to [EMAIL_1]; Lima is Peru's capital."},
]


@pytest.fixture
def fake(monkeypatch):
    """fake-gemini on loopback, the SDK pointed at it, auto mode (the user opted in)."""
    started = []

    def start(**options):
        server = FakeGemini(answers=ANSWERS, **options)
        server.start()
        started.append(server)
        monkeypatch.setenv("GEMINI_API_KEY", KEY)
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", server.url)
        monkeypatch.setenv("APPRENTICE_MODE", "auto")
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def queries(tmp_path) -> Path:
    path = tmp_path / "queries.jsonl"
    path.write_text("".join(json.dumps({"query": q, "reference": "x"}) + "\n" for q in QUERIES))
    return path


def run_label(path, *flags) -> int:
    return distill_main(["--label", str(path), "--poll-seconds", "0.01", "--progress", "none", *flags])


def rows(sql: str, params=()) -> list[tuple]:
    return Store().db.execute(sql, params).fetchall()


def batch_creates(server) -> list[dict]:
    return [r for r in server.requests if r["path"].endswith(":batchGenerateContent")]


def test_label_run_end_to_end(fake, queries, capsys, home):
    server = fake(batch_polls=3)

    assert run_label(queries, "--json") == 0

    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "labelled" and out["requests"] == 3 and out["labelled"] == 3 and out["failed"] == 0
    assert out["skipped"] == {
        "duplicate in the file": 1,
        "needs live information": 1,
        "about your notes, which never leave": 1,
    }
    # One job, sent redacted, every request declaring the tools (never the note tool).
    [create] = batch_creates(server)
    sent = create["body"]["batch"]["inputConfig"]["requests"]["requests"]
    texts = [r["request"]["contents"][0]["parts"][0]["text"] for r in sent]
    assert texts == [
        "What is the capital of France?",
        "Set a timer for 10 minutes",
        "Email [EMAIL_1] the capital of Peru",
    ]
    assert all("timer" in [d["name"] for d in r["request"]["tools"][0]["functionDeclarations"]] for r in sent)
    assert not any("note" in d["name"] for r in sent for d in r["request"]["tools"][0]["functionDeclarations"])
    everything = json.dumps(server.requests)
    assert EMAIL not in everything and "boiler" not in everything and "weather" not in everything
    # The job went PENDING → RUNNING → SUCCEEDED at the fake.
    assert [job.state for job in server.batches.values()] == ["BATCH_STATE_SUCCEEDED"]

    examples = {e["query_sent"]: e for e in Store().examples(limit=None)}
    assert examples["What is the capital of France?"]["teacher_answer"] == "Paris."
    call = examples["Set a timer for 10 minutes"]["teacher_answer"]
    assert call == '<tool_call>{"name": "timer", "arguments": {"minutes": 10}}</tool_call>'
    peru = examples["Email [EMAIL_1] the capital of Peru"]
    assert peru["teacher_answer"] == "I cannot write to [EMAIL_1]; Lima is Peru's capital."  # as received
    assert json.loads(peru["redactions"]) == {"EMAIL": 1}
    assert {e["consent"] for e in examples.values()} == {"auto"}
    # The log shows each as a turn, the answer restored; no timer was set by labelling.
    turns = {t["query"]: t for t in Store().turns(limit=None)}
    assert (
        turns[f"Email {EMAIL} the capital of Peru"]["answer"] == f"I cannot write to {EMAIL}; Lima is Peru's capital."
    )
    assert {t["source"] for t in turns.values()} == {"label"}
    assert Store().timers() == []
    # Labels are not live queries: auto mode's daily cap is untouched, and --continue skips them.
    assert Store().teacher_calls_since("1970-01-01", "auto") == 0
    assert Store().last_conversation_id() is None
    # Once logged, the query as typed lives in its turn alone (`log rm` removes it for good).
    assert rows("SELECT COUNT(*) FROM batch_requests WHERE query IS NOT NULL OR restore IS NOT NULL") == [(0,)]

    # `apprentice distill` trains on them like logged fallbacks.
    from model import dataset

    ds = dataset.build(Store())
    assert sorted(ex.messages[-1]["content"] for ex in ds.examples) == sorted(texts)

    # A second run sends nothing: every query is labelled or stays here.
    assert run_label(queries) == 0
    assert "Nothing to send" in capsys.readouterr().out
    assert len(batch_creates(server)) == 1 and len(Store().examples(limit=None)) == 3


def test_a_large_job_goes_as_an_uploaded_file(fake, queries, monkeypatch, capsys):
    server = fake()
    monkeypatch.setattr(label, "INLINE_LIMIT_BYTES", 10)

    assert run_label(queries, "--json") == 0

    assert json.loads(capsys.readouterr().out)["labelled"] == 3
    [create] = batch_creates(server)
    assert create["body"]["batch"]["inputConfig"]["fileName"].startswith("files/")
    uploaded = [
        r["body"] for r in server.requests if r["path"] == "/upload/v1beta/files" and isinstance(r["body"], str)
    ]
    assert "[EMAIL_1]" in uploaded[0] and EMAIL not in uploaded[0]
    assert any(r["path"].endswith(":download") for r in server.requests)
    assert rows("SELECT COUNT(*) FROM examples WHERE status = 'ok'") == [(3,)]


def test_killed_mid_poll_resumes_the_same_job(fake, queries, home, tmp_path):
    server = fake(batch_polls=10**6)  # stays RUNNING until the test lets it end
    env = {**os.environ, "APPRENTICE_HOME": str(home)}
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "model.distill",
            "--label",
            str(queries),
            "--poll-seconds",
            "0.05",
            "--progress",
            "jsonl",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            polled = [job.polls for job in server.batches.values()]
            if polled and polled[0] >= 2:
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"the job was never polled: {child.stderr.read1().decode() if child.poll() else ''}")
        # The job's name was recorded as soon as it was created, before the first poll.
        with sqlite3.connect(home / "apprentice.db") as db:
            [(name, state)] = db.execute("SELECT name, state FROM batch_jobs").fetchall()
        assert name in server.batches and state == "JOB_STATE_RUNNING"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
        child.stdout.close()
        child.stderr.close()

    server.batch_polls = 1  # the next poll finds it done
    assert run_label(queries) == 0
    assert len(batch_creates(server)) == 1  # the same job: not created (nor paid for) twice
    assert rows("SELECT COUNT(*), COUNT(DISTINCT query_sent) FROM examples") == [(3, 3)]
    assert rows("SELECT name, state FROM batch_jobs") == [(name, "written")]


def test_killed_before_the_created_job_was_recorded_finds_it_by_its_display_name(fake, queries, monkeypatch):
    server = fake()
    update = Store.update_batch_job

    def killed_on_recording_the_name(self, job_id, **fields):
        if "name" in fields:
            raise KeyboardInterrupt
        return update(self, job_id, **fields)

    monkeypatch.setattr(Store, "update_batch_job", killed_on_recording_the_name)
    assert run_label(queries) == 130
    assert len(server.batches) == 1 and rows("SELECT name, state FROM batch_jobs") == [(None, "creating")]

    monkeypatch.setattr(Store, "update_batch_job", update)
    assert run_label(queries) == 0
    assert len(batch_creates(server)) == 1  # found by its display name, not created again
    assert rows("SELECT name FROM batch_jobs") == [(next(iter(server.batches)),)]
    assert rows("SELECT COUNT(*) FROM examples") == [(3,)]


def test_killed_while_writing_results_writes_each_once(fake, queries, monkeypatch, capsys):
    server = fake()
    monkeypatch.setattr(label, "WRITE_CHUNK", 1)
    write = Store.write_labels
    calls = []

    def killed_after_one(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return write(self, *args, **kwargs)

    monkeypatch.setattr(Store, "write_labels", killed_after_one)
    assert run_label(queries) == 130
    assert "picks it up" in capsys.readouterr().err
    assert rows("SELECT COUNT(*) FROM examples") == [(1,)]

    monkeypatch.setattr(Store, "write_labels", write)
    assert run_label(queries, "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["labelled"], out["written_before"]) == (2, 1)
    assert len(batch_creates(server)) == 1
    assert rows("SELECT COUNT(*), COUNT(DISTINCT query_sent), COUNT(DISTINCT turn_id) FROM examples") == [(3, 3, 3)]
    assert rows("SELECT COUNT(*) FROM turns") == [(3,)]


def test_a_kill_inside_a_transaction_keeps_none_of_it(fake, queries, monkeypatch):
    import sqlite_utils

    server = fake()
    insert = sqlite_utils.db.Table.insert
    examples = []

    def dies_at_the_second_example(table, row, *args, **kwargs):
        if table.name == "examples":
            examples.append(row)
            if len(examples) == 2:
                raise KeyboardInterrupt
        return insert(table, row, *args, **kwargs)

    monkeypatch.setattr(sqlite_utils.db.Table, "insert", dies_at_the_second_example)
    assert run_label(queries) == 130
    assert rows("SELECT (SELECT COUNT(*) FROM examples), (SELECT COUNT(*) FROM turns)") == [(0, 0)]

    monkeypatch.setattr(sqlite_utils.db.Table, "insert", insert)
    assert run_label(queries) == 0
    assert rows("SELECT (SELECT COUNT(*) FROM examples), (SELECT COUNT(*) FROM turns)") == [(3, 3)]
    assert len(batch_creates(server)) == 1


@pytest.mark.parametrize("fault, word", [("failed", "failed"), ("expired", "expired")])
def test_a_job_that_ends_without_results_is_one_sentence_and_resumable(fake, queries, capsys, fault, word):
    server = fake(batch_faults=[f"{fault}:1"])

    assert run_label(queries, "--json") == 1

    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["status"] == "error" and out["state"] == f"JOB_STATE_{fault.upper()}"
    [sentence] = [line for line in captured.err.splitlines() if line.startswith("Error:")]
    assert word in sentence and "--label" in sentence and "Traceback" not in captured.err
    assert rows("SELECT COUNT(*) FROM examples") == [(0,)]
    # Nothing private is kept for a job that gave nothing back.
    assert rows("SELECT COUNT(*) FROM batch_requests WHERE query IS NOT NULL OR restore IS NOT NULL") == [(0,)]

    # The next run sends the same queries in a new job, and each is counted once.
    assert run_label(queries) == 0
    assert len(batch_creates(server)) == 2
    assert rows("SELECT COUNT(*), COUNT(DISTINCT query_sent) FROM examples WHERE status = 'ok'") == [(3, 3)]
    assert run_label(queries) == 0
    assert len(batch_creates(server)) == 2 and rows("SELECT COUNT(*) FROM examples") == [(3,)]


def test_ctrl_c_mid_poll_then_cancel(fake, queries, monkeypatch, capsys):
    server = fake(batch_polls=10**6)
    monkeypatch.setattr(label.time, "sleep", lambda s: (_ for _ in ()).throw(KeyboardInterrupt))

    assert run_label(queries) == 130
    assert "picks it up" in capsys.readouterr().err
    [job] = server.batches.values()
    assert job.state == "BATCH_STATE_PENDING" or job.state == "BATCH_STATE_RUNNING"

    assert run_label(queries, "--label-cancel") == 0
    assert "Cancelled batch job" in capsys.readouterr().out
    assert job.state == "BATCH_STATE_CANCELLED"
    assert rows("SELECT state FROM batch_jobs") == [("JOB_STATE_CANCELLED",)]
    # Nothing left to cancel, said as bad usage.
    assert run_label(queries, "--label-cancel") == 2


def test_gemini_refusing_mid_poll_stops_the_run_and_the_next_picks_the_job_up(fake, queries, monkeypatch, capsys):
    server = fake(batch_polls=10**6)
    sleeps = []

    def key_revoked(seconds):
        sleeps.append(seconds)
        server.key = "another-key-0123456789"  # from the next poll on, Gemini refuses this key

    monkeypatch.setattr(label.time, "sleep", key_revoked)
    assert run_label(queries) == 1
    err = capsys.readouterr().err
    assert "refused to show batch job" in err and "again to pick the job up" in err
    assert "Traceback" not in err and KEY not in err

    server.key, server.batch_polls = None, 1
    assert run_label(queries) == 0
    assert len(batch_creates(server)) == 1 and rows("SELECT COUNT(*) FROM examples") == [(3,)]


def test_a_job_gemini_no_longer_knows_is_sent_again(fake, queries, monkeypatch, capsys):
    server = fake(batch_polls=10**6)
    sleep = label.time.sleep
    monkeypatch.setattr(label.time, "sleep", lambda s: (_ for _ in ()).throw(KeyboardInterrupt))
    assert run_label(queries) == 130
    monkeypatch.setattr(label.time, "sleep", sleep)
    server.batches.clear()  # deleted at Google's end
    server.batch_polls = 1

    assert run_label(queries) == 1
    assert "no longer knows batch job" in capsys.readouterr().err
    assert run_label(queries) == 0
    assert len(batch_creates(server)) == 2 and rows("SELECT COUNT(*) FROM examples") == [(3,)]


def test_private_mode_refuses_and_sends_nothing(fake, queries, monkeypatch, capsys):
    server = fake()
    monkeypatch.setenv("APPRENTICE_MODE", "private")

    assert run_label(queries) == 1

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Private mode" in err and "sent nothing" in err
    assert server.requests == []
    assert rows("SELECT COUNT(*) FROM batch_jobs") == [(0,)]


def test_no_key_refuses(queries, monkeypatch, capsys):
    monkeypatch.setenv("APPRENTICE_MODE", "auto")
    assert run_label(queries) == 1
    assert "GEMINI_API_KEY" in capsys.readouterr().err


def test_ask_mode_shows_the_redacted_queries_and_a_no_sends_nothing(fake, queries, monkeypatch):
    server = fake()
    monkeypatch.setenv("APPRENTICE_MODE", "ask")
    shown = []

    def say_no(text):
        shown.append(text)
        return False

    args = label_args(queries)
    with pytest.raises(label.LabelError, match="kept these queries"):
        label.run(args, label.Progress("none"), consent=say_no)
    assert "[EMAIL_1]" in shown[0] and EMAIL not in shown[0] and "3 queries" in shown[0]
    assert server.requests == []

    # A yes sends them, recorded as asked.
    label.run(args, label.Progress("none"), consent=lambda text: True)
    assert rows("SELECT DISTINCT consent FROM examples") == [("ask",)]

    # With no terminal to ask at, nothing is sent.
    monkeypatch.setattr(label, "terminal_consent", lambda: None)
    (queries.parent / "more.jsonl").write_text('{"query": "What is the capital of Spain?"}\n')
    with pytest.raises(label.LabelError, match="no one at a terminal"):
        label.run(label_args(queries.parent / "more.jsonl"), label.Progress("none"))
    assert len(batch_creates(server)) == 1


def label_args(path):
    from model.distill.options import parser

    return parser().parse_args(["--label", str(path), "--poll-seconds", "0.01"])


def test_the_key_is_never_in_the_database_or_the_logs(fake, queries, home, capsys):
    fake(batch_faults=["failed:1"])
    assert run_label(queries) == 1
    assert run_label(queries, "--json") == 0
    said = capsys.readouterr()
    Store().db.conn.close()
    stored = b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())
    assert KEY.encode() not in stored
    assert KEY not in said.out + said.err


def test_a_wrong_key_is_one_sentence_without_the_key(queries, monkeypatch, capsys):
    with FakeGemini(answers=ANSWERS, key="the-right-key-0123456789") as server:
        monkeypatch.setenv("GEMINI_API_KEY", KEY)
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", server.url)
        monkeypatch.setenv("APPRENTICE_MODE", "auto")
        assert run_label(queries) == 1
    err = capsys.readouterr().err
    assert "API key not valid" in err and KEY not in err and "Traceback" not in err


@pytest.mark.parametrize(
    "text, said",
    [
        (None, "There is no file"),
        ("", "holds no queries"),
        ('{"query": "a"}\nnot json\n', "line 2 is not JSON"),
        ('{"question": "a"}\n', 'line 1 has no "query"'),
    ],
)
def test_a_file_that_cannot_be_used_is_bad_input(tmp_path, monkeypatch, capsys, text, said):
    monkeypatch.setenv("APPRENTICE_MODE", "auto")
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    path = tmp_path / "q.jsonl"
    if text is not None:
        path.write_text(text)
    assert run_label(path) == 2
    assert said in capsys.readouterr().err
