"""`apprentice doctor`: each failing check says what is wrong and what to run, on one line each:
a damaged student, a damaged database, a key file others can read, a stale server socket, no speech."""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3

from assistant.cli import main
from assistant.store import Store


def doctor(capsys) -> tuple[int, dict]:
    code = main(["doctor", "--json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, {c["name"]: c for c in json.loads(out)}


def test_a_whole_install_has_no_problem(tiny_student, capsys):
    Store().add_note("the database exists")
    code, checks = doctor(capsys)
    assert code == 0, checks
    assert {"student", "database", "key file", "server", "blas", "kernel", "router scan", "voice"} <= set(checks)
    assert "integrity ok" in checks["database"]["detail"]


def test_a_damaged_student_is_named_with_the_fix(tiny_checkpoint, home, tmp_path, capsys):
    from tests.conftest import register_checkpoint

    for damage, words in (("truncated", "is truncated"), ("tokenizer", "tokenizer.json does not parse")):
        folder = tmp_path / damage
        shutil.copytree(tiny_checkpoint, folder)
        if damage == "truncated":
            weights = folder / "model.safetensors"
            weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
        else:
            (folder / "tokenizer.json").write_text("{ not json")
        register_checkpoint(folder, damage)
        code, checks = doctor(capsys)
        assert code == 1 and checks["student"]["status"] == "problem"
        assert words in checks["student"]["detail"] and "model pull --force" in checks["student"]["detail"]


def test_a_damaged_database_is_named_with_the_fix(tiny_student, home, capsys):
    store = Store()
    conversation = store.new_conversation("t", "ask")
    for i in range(400):
        store.start_turn(conversation, f"query {i} " + "x" * 200, "ask", route="local")
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.db.conn.close()
    path = home / "apprentice.db"
    data = bytearray(path.read_bytes())
    data[8192:12288] = b"\xff" * 4096  # a page of the turns table overwritten
    path.write_bytes(bytes(data))
    code, checks = doctor(capsys)
    assert code == 1 and checks["database"]["status"] == "problem"
    assert "damaged" in checks["database"]["detail"] and "move it aside" in checks["database"]["detail"]


def test_a_key_file_others_can_read_is_named_with_the_fix(tiny_student, home, capsys):
    path = home / "keys" / "gemini"
    path.parent.mkdir(parents=True)
    path.write_text("AIza-not-a-real-key-0123456789")
    path.chmod(0o644)
    code, checks = doctor(capsys)
    assert code == 1 and f"chmod 600 {path}" in checks["key file"]["detail"]
    assert "AIza" not in json.dumps(checks)
    path.chmod(0o600)
    assert doctor(capsys)[1]["key file"]["status"] == "ok"


def test_a_stale_server_socket_is_named_with_the_fix(tiny_student, home, capsys):
    from assistant.server import socket_path

    path = socket_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    left = socket.socket(socket.AF_UNIX)
    left.bind(str(path))  # a killed server's socket: bound, nobody listening, no lock held
    left.close()
    code, checks = doctor(capsys)
    assert code == 1 and f"rm {path}" in checks["server"]["detail"]


def test_no_speech_is_a_note_with_the_fix(tiny_student, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng, no say
    code, checks = doctor(capsys)
    assert checks["voice"]["status"] == "note" and "speech out: none" in checks["voice"]["detail"]


def test_a_locked_database_is_not_called_damaged(tiny_student, home, capsys):
    Store().add_note("kept")
    other = sqlite3.connect(str(home / "apprentice.db"))
    other.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
    try:
        code, checks = doctor(capsys)
    finally:
        other.rollback()
        other.close()
    assert checks["database"]["status"] == "ok", checks["database"]
