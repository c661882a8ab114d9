"""The SQLite store: migrations, turns, full-text search, and waiting out another process's lock."""

import subprocess
import sys
import time

from assistant.store import MIGRATIONS, Store


def test_empty_database_migrates_to_the_full_schema(home):
    store = Store()
    assert store.path == home / "apprentice.db"
    tables = set(store.db.table_names())
    assert {"conversations", "turns", "turns_fts", "_migrations"} <= tables
    applied = [row["name"] for row in store.db["_migrations"].rows]
    assert applied == [fn.__name__ for fn in MIGRATIONS]
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # opening again applies nothing twice
    Store()
    assert store.db["_migrations"].count == len(MIGRATIONS)


def test_turn_is_kept_from_query_to_answer(home):
    store = Store()
    conv = store.new_conversation("What is the capital of France?", "ask")
    turn = store.start_turn(conv, "What is the capital of France?", "ask", route="local", model="base")
    assert store.turn(turn)["status"] == "pending"  # the query survives a crash before the answer
    store.finish_turn(turn, answer="Paris.", status="done", tokens=2)
    assert store.history(conv) == [
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": "Paris."},
    ]
    assert store.last_conversation_id() == conv


def test_full_text_search_takes_any_user_text(home):
    store = Store()
    conv = store.new_conversation("q", "ask")
    for q, a in [("capital of France?", "Paris"), ("best pizza-dough recipe", "flour: water")]:
        store.finish_turn(store.start_turn(conv, q, "ask"), answer=a, status="done")
    assert [r["query"] for r in store.turns(query="paris")] == ["capital of France?"]
    # hyphens, colons and quotes are words, not FTS syntax errors
    assert [r["query"] for r in store.turns(query='pizza-dough "recipe')] == ["best pizza-dough recipe"]
    assert store.turns(query="flour:") and not store.turns(query="nothing-like-this")


def test_a_locked_database_is_waited_for_and_the_turn_is_kept(home, monkeypatch, capsys):
    store = Store()
    conv = store.new_conversation("q", "ask")
    monkeypatch.setattr("assistant.store.LOCK_WAIT_S", 0.2)
    # another process holds the write lock for 1.5 s
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1]); c.execute('BEGIN IMMEDIATE');"
            "print('locked', flush=True); time.sleep(1.5); c.rollback()",
            str(store.path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    told: list[str] = []
    waiting = Store(on_wait=told.append)
    waiting.db.conn.execute("PRAGMA busy_timeout = 200")  # give up inside SQLite fast, retry outside
    started = time.monotonic()
    turn = waiting.start_turn(conv, "still here?", "ask")
    holder.wait()
    assert time.monotonic() - started > 0.5  # it really waited
    assert Store().turn(turn)["query"] == "still here?"
    # the surface is told once, and decides how to say it: the store itself prints nothing
    assert told == ["The database is busy in another process; waiting…"]
    assert capsys.readouterr().err == ""


def test_corrupt_database_gets_a_sentence(home):
    home.mkdir(parents=True)
    (home / "apprentice.db").write_bytes(b"this is not a database" * 100)
    try:
        Store()
    except Exception as exc:
        assert "cannot be opened" in str(exc) and "Move it aside" in str(exc)
    else:
        raise AssertionError("a corrupt database must raise")


def test_a_write_that_fails_halfway_leaves_nothing_of_itself(home):
    import pytest

    store = Store()
    before = store.db["conversations"].count

    def half_then_fail():
        store.new_conversation("first half", "ask")  # a nested write: part of the same transaction
        store.db["conversations"].insert({"title": "second half", "source": "ask", "created": 0, "updated": 0})
        raise RuntimeError("killed here")

    with pytest.raises(RuntimeError):
        store._write(half_then_fail)
    assert Store().db["conversations"].count == before  # another connection sees neither half
    conversation = store.new_conversation("after", "ask")  # and the store still writes
    assert Store().conversation_exists(conversation)
