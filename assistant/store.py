"""The SQLite store: conversations and turns, in APPRENTICE_HOME/apprentice.db.

The schema is built by numbered migrations recorded in the `_migrations` table
(simonw/llm's pattern): append a new `@migration` function, never edit a released one.
WAL mode lets the chat app read while `apprentice ask` writes; a database locked by
another process is waited for, never given up on, so no turn is dropped.

    python -m assistant.store       # migrate the database and print its tables
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

import sqlite_utils

from assistant import config
from assistant.errors import ApprenticeError, BadInput

MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = []
LOCK_WAIT_S = 30.0  # per attempt, inside SQLite (busy timeout)
LOCK_ATTEMPTS = 10  # then give up with a message, never silently


def migration(fn):
    MIGRATIONS.append(fn)
    return fn


@migration
def m001_conversations_and_turns(db: sqlite_utils.Database) -> None:
    db["conversations"].create(
        {"id": int, "title": str, "source": str, "created": str, "updated": str}, pk="id"
    )
    db["turns"].create(
        {
            "id": int,
            "conversation_id": int,
            "query": str,
            "answer": str,
            "route": str,  # local | cloud
            "reason": str,  # the router's reason, in words
            "score": float,  # the router's estimate that the student would be wrong
            "model": str,  # student version name, or the Gemini model id
            "source": str,  # ask | chat | voice | bench
            "status": str,  # pending | done | interrupted | failed
            "notes": str,  # JSON list of notes shown with the answer
            "prompt_tokens": int,
            "tokens": int,  # generated tokens
            "ttft_ms": float,
            "tokens_per_s": float,
            "duration_ms": float,
            "created": str,
        },
        pk="id",
        foreign_keys=[("conversation_id", "conversations", "id")],
    )
    db["turns"].create_index(["conversation_id"])
    db["turns"].enable_fts(["query", "answer"], create_triggers=True, tokenize="porter")


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


class Store:
    """All reads and writes of the database go through here."""

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else config.home() / "apprentice.db"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(str(self.path), timeout=LOCK_WAIT_S, check_same_thread=False)
            self.db = sqlite_utils.Database(conn)
            self._retry(lambda: self.db.execute("PRAGMA journal_mode=WAL"))
            self._retry(self._migrate)
        except sqlite3.DatabaseError as exc:
            raise ApprenticeError(
                f"The database {self.path} cannot be opened ({exc}). Move it aside to start a new one."
            ) from None

    # -- plumbing -----------------------------------------------------------------

    def _retry(self, fn):
        """Run `fn`, waiting out another process's lock instead of losing the write."""
        for attempt in range(LOCK_ATTEMPTS):
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if attempt == 0:
                    print(f"The database is busy in another process; waiting…", file=sys.stderr)
                time.sleep(0.5)
        raise ApprenticeError(
            f"The database {self.path} stayed locked by another process; close it and try again."
        )

    def _migrate(self) -> None:
        with self.db.conn:
            self.db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied TEXT)")
            done = {row[0] for row in self.db.execute("SELECT name FROM _migrations").fetchall()}
            for fn in MIGRATIONS:
                if fn.__name__ not in done:
                    fn(self.db)
                    self.db["_migrations"].insert({"name": fn.__name__, "applied": now()})

    def _write(self, fn):
        def txn():
            with self.db.conn:
                return fn()

        return self._retry(txn)

    # -- conversations --------------------------------------------------------------

    def new_conversation(self, title: str, source: str) -> int:
        created = now()
        return self._write(
            lambda: self.db["conversations"]
            .insert({"title": title[:80], "source": source, "created": created, "updated": created})
            .last_pk
        )

    def conversation_exists(self, conversation_id: int) -> bool:
        return bool(self.db.execute("SELECT 1 FROM conversations WHERE id = ?", [conversation_id]).fetchone())

    def last_conversation_id(self) -> int | None:
        row = self.db.execute("SELECT id FROM conversations ORDER BY updated DESC, id DESC LIMIT 1").fetchone()
        return row[0] if row else None

    def history(self, conversation_id: int) -> list[dict]:
        """Finished turns of a conversation, oldest first, as chat messages."""
        messages = []
        for query, answer in self.db.execute(
            "SELECT query, answer FROM turns WHERE conversation_id = ? AND answer != '' ORDER BY id",
            [conversation_id],
        ):
            messages += [{"role": "user", "content": query}, {"role": "assistant", "content": answer}]
        return messages

    # -- turns ------------------------------------------------------------------

    def start_turn(self, conversation_id: int, query: str, source: str, **fields) -> int:
        """Record the query before answering, so a crash mid-answer still keeps it."""
        row = {
            "conversation_id": conversation_id,
            "query": query,
            "answer": "",
            "source": source,
            "status": "pending",
            "created": now(),
            **fields,
        }

        def insert():
            pk = self.db["turns"].insert(row).last_pk
            self.db["conversations"].update(conversation_id, {"updated": row["created"]})
            return pk

        return self._write(insert)

    def finish_turn(self, turn_id: int, **fields) -> None:
        self._write(lambda: self.db["turns"].update(turn_id, fields))

    def turn(self, turn_id: int) -> dict | None:
        rows = list(self.db.query("SELECT * FROM turns WHERE id = ?", [turn_id]))
        return rows[0] if rows else None

    def turns(self, limit: int | None = 20, query: str | None = None) -> list[dict]:
        """Turns newest first; with `query`, those matching it in full text."""
        sql = "SELECT turns.* FROM turns"
        params: list = []
        if query:
            sql += " JOIN turns_fts ON turns_fts.rowid = turns.id WHERE turns_fts MATCH ?"
            params.append(_fts_query(query))
        sql += " ORDER BY turns.id DESC"
        if limit:
            sql += " LIMIT ?"
            params.append(limit)
        try:
            return list(self.db.query(sql, params))
        except sqlite3.OperationalError as exc:
            raise BadInput(f"Cannot search for {query!r}: {exc}.") from None

    def delete_turn(self, turn_id: int) -> bool:
        return self._write(lambda: self.db.execute("DELETE FROM turns WHERE id = ?", [turn_id]).rowcount) > 0

    def delete_all(self) -> int:
        def wipe():
            n = self.db.execute("DELETE FROM turns").rowcount
            self.db.execute("DELETE FROM conversations")
            return n

        return self._write(wipe)

    def iter_turns(self) -> Iterator[dict]:
        yield from self.db.query("SELECT * FROM turns ORDER BY id")


def _fts_query(text: str) -> str:
    """Quote each word so user text (hyphens, colons) is never read as FTS syntax."""
    words = [w.replace('"', '""') for w in text.split()]
    return " ".join(f'"{w}"' for w in words)


if __name__ == "__main__":
    store = Store()
    print(store.path)
    for name in store.db.table_names():
        print(f"  {name}: {store.db[name].count} rows")
