"""The `apprentice` command as a user meets it: answers, JSON contracts, the log, model
versions, exit statuses, and bad input that gets a sentence instead of a traceback.
Runs in-process against the tiny random student; tests/test_integration.py uses the real one."""

import io
import json
import shutil
import subprocess
import sys

from assistant.cli import main
from assistant.store import Store

ANSWER_FIELDS = {
    "answer",
    "action",
    "route",
    "reason",
    "model",
    "turn_id",
    "conversation_id",
    "tokens",
    "ttft_ms",
    "tokens_per_s",
    "notes",
}
PLANNED_FIELDS = {"action", "served"}  # docs/CONTRACTS.md: "once they exist"


def run(capsys, *args, stdin: bytes | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def ask_json(capsys, *args, **kw):
    code, out, err = run(capsys, "ask", *args, "--json", "--max-tokens", "8", **kw)
    assert code == 0, err
    return json.loads(out)


def test_ask_json_has_every_contract_field_and_is_logged(capsys, tiny_student):
    data = ask_json(capsys, "What is the capital of France?")
    assert ANSWER_FIELDS <= set(data) <= ANSWER_FIELDS | PLANNED_FIELDS
    assert data.get("action") is None  # a question, not a request to do something
    assert data["route"] == "local" and data["model"] == "tiny" and data["tokens"] == 8
    assert data["reason"].startswith("private mode")
    code, out, _ = run(capsys, "log", "list", "--json")
    (turn,) = json.loads(out)
    assert turn["turn_id"] == data["turn_id"] and turn["source"] == "ask"
    assert turn["answer"] == data["answer"] or turn["answer"].strip() == data["answer"]
    assert {"turn_id", "conversation_id", "query", "answer", "route", "reason", "model", "source", "created"} <= set(
        turn
    )


def test_ask_streams_plain_text(capsys, tiny_student):
    code, out, err = run(capsys, "ask", "Hello", "there", "--max-tokens", "5")
    (turn,) = Store().turns()
    assert code == 0 and turn["query"] == "Hello there" and turn["tokens"] == 5
    assert out == turn["answer"] + "\n"  # what streamed is what was logged


def test_empty_query_is_bad_input(capsys, tiny_student, monkeypatch):
    code, out, err = run(capsys, "ask", "   ")
    assert code == 2 and "empty" in err and out == ""
    code, out, err = run(capsys, "ask", "-", stdin=b" \n\t", monkeypatch=monkeypatch)
    assert code == 2 and "empty" in err
    assert Store().turns() == []


def test_invalid_utf8_on_stdin_is_replaced_not_fatal(capsys, tiny_student, monkeypatch):
    data = ask_json(capsys, "-", stdin=b"caf\xe9 or caf\xff\xfe?", monkeypatch=monkeypatch)
    assert Store().turn(data["turn_id"])["query"] == "caf\ufffd or caf\ufffd\ufffd?"


def test_no_log_keeps_the_turn_out_of_history(capsys, tiny_student):
    data = ask_json(capsys, "secret question", "--no-log")
    assert data["turn_id"] is None
    assert Store().turns() == []


def test_continue_and_conversation_carry_on(capsys, tiny_student):
    first = ask_json(capsys, "What is the capital of France?")
    second = ask_json(capsys, "And of Italy?", "--continue")
    assert second["conversation_id"] == first["conversation_id"]
    third = ask_json(capsys, "And Spain?", "--conversation", str(first["conversation_id"]))
    assert third["conversation_id"] == first["conversation_id"]
    code, _, err = run(capsys, "ask", "x", "--conversation", "999")
    assert code == 2 and "no conversation 999" in err


def test_modes_without_a_key_answer_privately_and_say_why(capsys, tiny_student):
    data = ask_json(capsys, "hello", "--mode", "auto")
    assert data["route"] == "local"
    assert any("needs a Gemini key" in n for n in data["notes"])
    code, _, err = run(capsys, "ask", "hello", "--mode", "loud")
    assert code == 2 and "loud" in err


def test_interrupting_an_answer_keeps_the_query_and_what_arrived(capsys, tiny_student, monkeypatch):
    import click

    chunks = []

    def echo(message=None, nl=True, err=False, **kw):
        if not err and message:
            chunks.append(message)
            if len(chunks) == 3:
                raise KeyboardInterrupt

    monkeypatch.setattr(click, "echo", echo)
    code = main(["ask", "Hello there", "--max-tokens", "100"])
    assert code == 130
    (turn,) = Store().turns()
    assert turn["query"] == "Hello there" and turn["status"] == "interrupted"
    assert turn["answer"].startswith("".join(chunks[:2]))


def test_log_show_search_and_rm(capsys, tiny_student):
    a = ask_json(capsys, "What is the capital of France?")
    b = ask_json(capsys, "Hello there friend")
    code, out, _ = run(capsys, "log", "show", str(a["turn_id"]), "--json")
    assert json.loads(out)["query"] == "What is the capital of France?"
    code, out, _ = run(capsys, "log", "search", "capital", "--json")
    assert [t["turn_id"] for t in json.loads(out)] == [a["turn_id"]]
    code, out, _ = run(capsys, "log", "list")
    assert "capital of France" in out and "Hello there friend" in out
    assert run(capsys, "log", "rm", str(a["turn_id"]))[0] == 0
    assert [t["id"] for t in Store().turns()] == [b["turn_id"]]
    code, _, err = run(capsys, "log", "rm", str(a["turn_id"]))
    assert code == 2 and "no turn" in err
    code, _, err = run(capsys, "log", "show", "12345")
    assert code == 2
    assert run(capsys, "log", "rm", "--all", "--yes")[0] == 0
    assert Store().turns() == []


def test_log_rm_all_without_a_terminal_needs_yes(capsys, tiny_student, monkeypatch):
    ask_json(capsys, "hello")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, _, err = run(capsys, "log", "rm", "--all")
    assert code == 2 and "--yes" in err and len(Store().turns()) == 1


def test_model_list_use_rollback(capsys, tiny_checkpoint, home):
    from tests.conftest import register_checkpoint

    register_checkpoint(tiny_checkpoint, "one")
    register_checkpoint(tiny_checkpoint, "two")
    code, out, _ = run(capsys, "model", "list", "--json")
    rows = json.loads(out)
    assert [(r["name"], r["active"]) for r in rows] == [("one", False), ("two", True)]
    assert all(r["size_bytes"] > 0 and r["bits"] == 32 for r in rows)
    assert run(capsys, "model", "use", "one")[0] == 0
    code, out, _ = run(capsys, "model", "list")
    assert "* one" in out
    code, _, err = run(capsys, "model", "use", "three")
    assert code == 1 and "No student version named 'three'" in err
    assert run(capsys, "model", "rollback")[0] == 0
    assert json.loads(run(capsys, "model", "list", "--json")[1])[1]["active"]


def test_model_add_registers_a_local_checkpoint_and_refuses_junk(capsys, tiny_checkpoint, tmp_path, home):
    code, _, err = run(capsys, "model", "add", str(tiny_checkpoint), "--name", "mine")
    assert code == 0, err
    assert json.loads(run(capsys, "model", "list", "--json")[1])[0]["name"] == "mine"
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "config.json").write_text('{"model_type": "llama"}')
    code, _, err = run(capsys, "model", "add", str(junk))
    assert code == 2 and "safetensors" in err
    code, _, err = run(capsys, "model", "add", "not a path or repo")
    assert code == 2
    code, _, err = run(capsys, "model", "add", "someone/some-model")
    assert code == 1 and "Hugging Face hub" in err  # no hub here: a sentence, not a traceback


def test_a_missing_model_folder_names_the_pull_command(capsys, tiny_checkpoint, tmp_path, home):
    from tests.conftest import register_checkpoint

    copy = tmp_path / "copy"
    shutil.copytree(tiny_checkpoint, copy)
    register_checkpoint(copy, "gone")
    shutil.rmtree(copy)
    code, out, err = run(capsys, "ask", "hello")
    assert code == 1 and "apprentice model pull" in err and out == ""


def test_bad_config_gets_a_sentence(capsys, tiny_student, home):
    (home / "config.toml").write_text("temperature = 'hot'\n")
    code, _, err = run(capsys, "ask", "hello")
    assert code == 1 and "temperature must be a float" in err


def test_an_unknown_setting_is_a_note_and_stdout_stays_one_json_object(capsys, tiny_student, home):
    (home / "config.toml").write_text("temprature = 0.5\nmax_tokens = 8\n")
    code, out, err = run(capsys, "ask", "hello", "--json")
    assert code == 0, err
    data = json.loads(out)  # nothing but the object on stdout
    assert data["tokens"] == 8  # the known setting still applies
    (note,) = [n for n in data["notes"] if "temprature" in n]
    assert "ignored" in note and f"note: {note}" in err
    code, out, err = run(capsys, "ask", "hello", "--max-tokens", "3")
    assert code == 0 and "temprature" in err and "temprature" not in out


def test_continue_with_nothing_to_continue_says_so_in_the_notes(capsys, tiny_student):
    data = ask_json(capsys, "hello", "--continue")
    assert data["conversation_id"] is not None
    assert "No earlier conversation to continue; starting a new one." in data["notes"]
    code, _, err = run(capsys, "ask", "hello", "--continue", "--conversation", str(data["conversation_id"]))
    assert code == 2 and "not both" in err
    code, _, err = run(capsys, "voice", "--continue", "--conversation", "1", "--tts", "none")
    assert code == 2 and "not both" in err  # the same options, read the same way, before any audio


def test_ask_says_it_waits_for_a_database_another_process_holds(capsys, tiny_student, monkeypatch):
    ask_json(capsys, "hello")  # libraries loaded: the next ask reaches the database within the lock's time
    path = Store().path
    monkeypatch.setattr("assistant.store.LOCK_WAIT_S", 0.2)  # give up inside SQLite fast, retry outside
    holder = subprocess.Popen(  # another process holds the write lock for 3 s
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1]); c.execute('BEGIN IMMEDIATE');"
            "print('locked', flush=True); time.sleep(3); c.rollback()",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    code, out, err = run(capsys, "ask", "still here?", "--json", "--max-tokens", "4")
    holder.wait()
    assert code == 0 and "The database is busy in another process; waiting…" in err
    assert json.loads(out)["turn_id"] == Store().turns()[0]["id"]  # stdout is the answer alone, and it is logged


def test_help_teaches(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "ask" in out and "Quick start" in out
    code, out, _ = run(capsys, "ask", "--help")
    assert "--continue" in out and "Examples" in out


def test_doctor_names_what_is_missing(capsys, home):
    code, out, _ = run(capsys, "doctor")
    assert code == 1  # a fresh home has no student yet
    assert "✗ student" in out and "apprentice model pull" in out and "✓ database" in out
    code, out, _ = run(capsys, "doctor", "--json")
    assert {c["name"] for c in json.loads(out)} >= {"mlx", "student", "database", "privacy"}


def test_doctor_is_content_with_a_student(capsys, tiny_student):
    code, out, _ = run(capsys, "doctor")
    assert code == 0 and "✓ student     tiny" in out
