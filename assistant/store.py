"""The SQLite store: conversations and turns, in APPRENTICE_HOME/apprentice.db.

The schema is built by numbered migrations recorded in the `_migrations` table
(simonw/llm's pattern): append a new `@migration` function, never edit a released one.
WAL mode lets the chat app read while `apprentice ask` writes; a database locked by
another process is waited for, never given up on, so no turn is dropped. The store never
prints: a surface that wants to say it is waiting passes `on_wait` (the CLI writes it to
stderr, the chat app shows a notification).

    python -m assistant.store       # migrate the database and print its tables
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

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
    db["conversations"].create({"id": int, "title": str, "source": str, "created": str, "updated": str}, pk="id")
    db["turns"].create(
        {
            "id": int,
            "conversation_id": int,
            "query": str,
            "answer": str,
            "route": str,  # local | cloud; cascade (the student first) until that turn settles, and after a crash
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


@migration
def m002_examples_and_outcomes(db: sqlite_utils.Database) -> None:
    # Every request that left the machine, answered or not: the audit trail, and, when the
    # teacher answered whole, a distillation example.
    db["examples"].create(
        {
            "id": int,
            "turn_id": int,  # null when the turn was kept out of the history (--no-log)
            "query_sent": str,  # the redacted query, exactly as sent
            "messages_sent": str,  # JSON: the whole redacted conversation sent
            "redactions": str,  # JSON: how many values of each kind were replaced
            "teacher_answer": str,  # as received (placeholders, not the user's data)
            "teacher_model": str,
            "status": str,  # ok | failed | rationale (m003: a rationale asked for by distillation)
            "error": str,
            "prompt_tokens": int,
            "answer_tokens": int,
            "latency_ms": float,
            "student_answer": str,  # when the cascade asked the student first
            "student_confidence": float,  # its mean token log-probability
            "student_version": str,
            "score": float,
            "reason": str,
            "consent": str,  # ask | auto
            "bad": int,  # marked wrong by the user: never trained on
            "created": str,
        },
        pk="id",
    )
    db["examples"].create_index(["created"])
    # What the router learns from: was the student wrong on this query? Kept per student version.
    db["outcomes"].create(
        {
            "id": int,
            "query": str,
            "embedding": bytes,  # float32 (384,), normalized
            "student_version": str,
            "wrong": int,
            # judged (against the teacher) | marked_bad (by the user) | rejudged (by distillation, for
            # a new version: the previous version's outcome, judged again with the new student) |
            # rephrased (asked again right after) | kept (the cascade kept the answer); the last two
            # weigh as a fraction of a wrong answer (a REAL in this INTEGER column)
            "origin": str,
            "similarity": float,  # the judge's similarity, when judged
            "turn_id": int,
            "example_id": int,
            "created": str,
        },
        pk="id",
    )
    db["outcomes"].create_index(["student_version"])
    db["turns"].add_column("bad", int, not_null_default=0)


@migration
def m003_example_rationales(db: sqlite_utils.Database) -> None:
    # `apprentice distill --rationales` asks the teacher again, for a rationale: that request is
    # recorded like any other that left (status "rationale") and points at the example it explains.
    db["examples"].add_column("rationale_for", int)


@migration
def m004_timers_and_notes(db: sqlite_utils.Database) -> None:
    # Actions (assistant/tools/): timers, alarms and reminders the ringer process rings, and notes,
    # which never leave the machine. Times are UTC ISO strings, so every process compares them alike.
    db["timers"].create(
        {
            "id": int,
            "kind": str,  # timer | alarm | reminder
            "label": str,
            "due": str,  # UTC ISO
            "created": str,
            "status": str,  # pending | rung | missed | cancelled
            "rang_at": str,
            "shown_at": str,  # when a surface showed the ring; a ring nobody saw counts as missed
            "source": str,  # ask | chat | voice
        },
        pk="id",
    )
    db["timers"].create_index(["status", "due"])
    db["notes"].create({"id": int, "text": str, "created": str}, pk="id")
    db["notes"].enable_fts(["text"], create_triggers=True, tokenize="porter")


@migration
def m005_turn_actions(db: sqlite_utils.Database) -> None:
    # A turn answered by a tool: {"name", "arguments", "result", "local_only"} as JSON. The history
    # sent to the teacher carries such a turn as the call alone (or not at all, for notes), never
    # the tool's result.
    db["turns"].add_column("action", str)


@migration
def m006_private_turns(db: sqlite_utils.Database) -> None:
    # 1: the turn is about the user's notes and never leaves, not even as history (the question
    # that made a note holds its text). Set when the router's notes rule decided, or a note tool ran.
    db["turns"].add_column("private", int, not_null_default=0)


@migration
def m007_turn_owner(db: sqlite_utils.Database) -> None:
    # The process answering a turn ("pid" or "pid:start"): a turn still pending when its process is
    # gone was killed mid-answer, and the next open marks it interrupted (Store._recover_turns).
    db["turns"].add_column("owner", str)
    db["turns"].create_index(["status"])


@migration
def m008_example_kinds(db: sqlite_utils.Database) -> None:
    # fallback: the teacher answered what the router (or --cloud) sent it. correction: the teacher
    # answered a query whose local answer the user marked wrong (`corrects` is that turn); the user's
    # own word that the student needs it, so distillation weighs it more.
    db["examples"].add_column("kind", str, not_null_default="fallback")
    db["examples"].add_column("corrects", int)


@migration
def m009_batch_jobs(db: sqlite_utils.Database) -> None:
    # `apprentice distill --label FILE` (model/distill/label.py): a job of Gemini's Batch API. The
    # row is written before the job is created and its name as soon as Gemini gives one, so a
    # killed run picks the same job up instead of paying for another.
    db["batch_jobs"].create(
        {
            "id": int,
            "name": str,  # Gemini's batches/…; null until created
            "display_name": str,  # unique: finds a job whose creation a killed run never saw answered
            "file": str,  # the query file, resolved: a run on the same file resumes its open job
            "model": str,
            "consent": str,  # ask | auto: the mode the queries left in
            "requests": int,
            # creating | JOB_STATE_* as Gemini says | written (every result is in the log) | gone (Gemini
            # no longer knows it)
            "state": str,
            "error": str,
            "conversation_id": int,  # the conversation the labelled turns are logged in
            "created": str,
            "updated": str,
        },
        pk="id",
    )
    db["batch_jobs"].create_index(["file", "state"])
    # One row per query sent: what left (redacted), and the example it became, written exactly once.
    db["batch_requests"].create(
        {
            "job_id": int,
            "key": str,  # the request's key in the job, its position: nothing about the query leaves in it
            "digest": str,  # of the query as typed, kept here: a query labelled once is not sent again
            "query": str,  # as in the file (the user's text); cleared once written: the turn holds it
            "query_sent": str,  # redacted: what left the machine
            "redactions": str,  # JSON: how many values of each kind were replaced
            "restore": str,  # JSON: placeholder → value, to restore the answer; cleared once written
            "example_id": int,
        },
        pk=("job_id", "key"),
        foreign_keys=[("job_id", "batch_jobs", "id")],
    )
    db["batch_requests"].create_index(["digest"])
    # An example a batch job labelled: it does not count against auto mode's daily cap of live queries.
    db["examples"].add_column("batch_job", int)


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


class Store:
    """All reads and writes of the database go through here."""

    def __init__(self, path: Path | None = None, on_wait: Callable[[str], None] | None = None):
        """Open (and migrate) the database; `on_wait(sentence)` is told when another process holds it."""
        self.path = Path(path) if path else config.home() / "apprentice.db"
        self.on_wait = on_wait
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(str(self.path), timeout=LOCK_WAIT_S, check_same_thread=False)
            self.db = sqlite_utils.Database(conn)
            self._retry(lambda: self.db.execute("PRAGMA journal_mode=WAL"))
            self._retry(self._migrate)
            self._retry(self._recover_turns)
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
                if attempt == 0 and self.on_wait is not None:
                    self.on_wait("The database is busy in another process; waiting…")
                time.sleep(0.5)
        raise ApprenticeError(f"The database {self.path} stayed locked by another process; close it and try again.")

    def _migrate(self) -> None:
        with self.db.conn:
            self.db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied TEXT)")
            done = {row[0] for row in self.db.execute("SELECT name FROM _migrations").fetchall()}
            for fn in MIGRATIONS:
                if fn.__name__ not in done:
                    fn(self.db)
                    self.db["_migrations"].insert({"name": fn.__name__, "applied": now()})

    def _recover_turns(self) -> None:
        """Turns left pending by a process that is gone (killed mid-answer, or its machine restarted)
        become interrupted, with their query kept: a live process's turn in flight is left alone."""
        rows = self.db.execute("SELECT id, owner, created FROM turns WHERE status = 'pending'").fetchall()
        if not rows:
            return
        # An older version's turn names no process: after an hour, no answer is still streaming.
        old = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(timespec="milliseconds")
        gone = [id for id, owner, created in rows if (not owner_alive(owner) if owner else created < old)]
        if gone:
            marks = ", ".join("?" * len(gone))
            sql = f"UPDATE turns SET status = 'interrupted' WHERE status = 'pending' AND id IN ({marks})"
            self._write(lambda: self.db.execute(sql, gone))

    def _write(self, fn):
        def txn():
            # One transaction for all of `fn`: each sqlite-utils insert or update otherwise commits on
            # its own, and a kill between two of them would leave half a write. IMMEDIATE takes the
            # write lock first, waiting for it as long as the connection's timeout: a deferred one that
            # read before writing could not wait when another process wrote meanwhile.
            conn = self.db.conn
            if conn.in_transaction:  # a write inside a write: part of the outer one
                return fn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn()
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
            return result

        return self._retry(txn)

    # -- conversations --------------------------------------------------------------

    def new_conversation(self, title: str, source: str) -> int:
        created = now()
        return self._write(
            lambda: (
                self.db["conversations"]
                .insert({"title": title[:80], "source": source, "created": created, "updated": created})
                .last_pk
            )
        )

    def conversation_exists(self, conversation_id: int) -> bool:
        return bool(self.db.execute("SELECT 1 FROM conversations WHERE id = ?", [conversation_id]).fetchone())

    def last_conversation_id(self) -> int | None:
        # Not a batch job's labels: thousands of turns, none of them a conversation the user had.
        row = self.db.execute(
            "SELECT id FROM conversations WHERE source != 'label' ORDER BY updated DESC, id DESC LIMIT 1"
        ).fetchone()
        return row[0] if row else None

    def history(self, conversation_id: int) -> list[dict]:
        """Finished turns of a conversation, oldest first, as chat messages.

        An answer a tool gave carries its call as `action` ({"name", "arguments"}), and a turn
        that must never leave (about notes) is marked `private`, so what is sent to the teacher
        can leave tools' results and notes out.
        """
        messages = []
        for query, answer, action, private in self.db.execute(
            "SELECT query, answer, action, private FROM turns WHERE conversation_id = ? AND answer != '' ORDER BY id",
            [conversation_id],
        ):
            ask, reply = {"role": "user", "content": query}, {"role": "assistant", "content": answer}
            if action:
                call = json.loads(action)
                reply["action"] = {"name": call.get("name"), "arguments": call.get("arguments") or {}}
            if private or (action and json.loads(action).get("local_only")):
                ask["private"] = reply["private"] = True
            messages += [ask, reply]
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
            "owner": this_process(),
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
        """Remove every turn and what was made of them (examples, the router's outcomes); returns how many turns."""

        def wipe():
            n = self.db.execute("DELETE FROM turns").rowcount
            for table in ("conversations", "examples", "outcomes", "batch_requests", "batch_jobs"):
                self.db.execute(f"DELETE FROM {table}")
            return n

        n = self._write(wipe)
        # Deleted rows linger in the full-text index's segments, the file's free pages and the
        # write-ahead log until rewritten: rewrite them, so what was removed is gone from the disk.
        self._retry(lambda: self.db.execute("INSERT INTO turns_fts(turns_fts) VALUES('rebuild')"))
        self._retry(lambda: self.db.execute("VACUUM"))
        self._retry(lambda: self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)"))
        return n

    def iter_turns(self) -> Iterator[dict]:
        yield from self.db.query("SELECT * FROM turns ORDER BY id")

    def traffic(self) -> list[dict]:
        """The user's own questions, oldest first (benchmark runs and labelled files left out, and a
        turn still being answered): each turn's `id`, `created`, `route`, `source`, `sent` (requests
        for it that left for the teacher, answered or failed) and `student` (the student version that
        answered it, or that was active when it was sent on)."""
        # one pass over the examples, grouped by turn (a subquery per turn would scan them all for each)
        return list(
            self.db.query(
                "SELECT t.id, t.created, t.route, t.source, COALESCE(s.sent, 0) AS sent,"
                " CASE WHEN t.route = 'local' THEN t.model ELSE first.student_version END AS student"
                " FROM turns t"
                " LEFT JOIN (SELECT turn_id, MIN(id) AS first_id,"
                "  SUM(status IN ('ok', 'failed') AND batch_job IS NULL) AS sent"
                "  FROM examples WHERE turn_id IS NOT NULL GROUP BY turn_id) s ON s.turn_id = t.id"
                " LEFT JOIN examples first ON first.id = s.first_id"
                " WHERE t.status != 'pending' AND COALESCE(t.source, '') NOT IN ('bench', 'label')"
                " ORDER BY t.id"
            )
        )

    # -- examples and outcomes ---------------------------------------------------------

    def add_example(self, **fields) -> int:
        return self._write(lambda: self.db["examples"].insert({"created": now(), "bad": 0, **fields}).last_pk)

    def examples(self, limit: int | None = 20, include_failed: bool = False) -> list[dict]:
        """Teacher fallbacks, newest first; by default only whole answers, the training data."""
        sql = "SELECT * FROM examples" + ("" if include_failed else " WHERE status = 'ok'") + " ORDER BY id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return list(self.db.query(sql))

    def teacher_calls_since(self, since: str, consent: str | None = None) -> int:
        """Live queries sent since `since` (a batch job's labels are not live queries)."""
        sql, params = "SELECT COUNT(*) FROM examples WHERE created >= ? AND batch_job IS NULL", [since]
        if consent:
            sql += " AND consent = ?"
            params.append(consent)
        return self.db.execute(sql, params).fetchone()[0]

    def add_outcome(self, **fields) -> int:
        return self._write(lambda: self.db["outcomes"].insert({"created": now(), **fields}).last_pk)

    def forget_kept_outcome(self, turn_id: int) -> int:
        """Remove the "kept" outcome of a turn (the cascade kept its answer); returns how many."""
        return self._write(
            lambda: self.db.execute("DELETE FROM outcomes WHERE turn_id = ? AND origin = 'kept'", [turn_id]).rowcount
        )

    def outcomes(self, student_version: str, after_id: int = 0) -> list[dict]:
        return list(
            self.db.query(
                "SELECT id, query, embedding, wrong, origin FROM outcomes"
                " WHERE student_version = ? AND id > ? ORDER BY id",
                [student_version, after_id],
            )
        )

    def mark_bad(self, turn_id: int) -> dict:
        """Mark a turn's answer wrong; its teacher example, if any, is never trained on."""
        turn = self.turn(turn_id)
        if turn is None:
            raise BadInput(f"There is no turn {turn_id}; `apprentice log list` shows them.")

        def mark():
            self.db["turns"].update(turn_id, {"bad": 1})
            self.db.execute("UPDATE examples SET bad = 1 WHERE turn_id = ?", [turn_id])

        self._write(mark)
        return self.turn(turn_id)

    def mark_correction(self, example_id: int, turn_id: int) -> None:
        """The teacher's answer in `example_id` corrects the local answer of `turn_id`, marked wrong."""
        self._write(lambda: self.db["examples"].update(example_id, {"kind": "correction", "corrects": turn_id}))

    def examples_of_turn(self, turn_id: int) -> list[dict]:
        """Whole teacher answers recorded for a turn, oldest first."""
        return list(self.db.query("SELECT * FROM examples WHERE turn_id = ? AND status = 'ok' ORDER BY id", [turn_id]))

    # -- the chat app's history ---------------------------------------------------------

    def conversations(self, search: str | None = None, limit: int | None = 100) -> list[dict]:
        """Conversations newest first (benchmark runs left out), each with `id`, `title`, `source`,
        `created`, `updated` and `turns` (how many); with `search`, only those whose title or
        turns match it: full text over queries and answers, the last word as a prefix, so
        a search can run as the user types."""
        sql = (
            "SELECT c.id, c.title, c.source, c.created, c.updated, COUNT(t.id) AS turns"
            " FROM conversations c LEFT JOIN turns t ON t.conversation_id = c.id"
            " WHERE c.source NOT IN ('bench', 'label')"
        )
        params: list = []
        words = (search or "").split()
        if words:
            match = _fts_query(search) + "*"  # the last word as a prefix: search as you type
            sql += (
                " AND (c.id IN (SELECT turns.conversation_id FROM turns"
                " JOIN turns_fts ON turns_fts.rowid = turns.id WHERE turns_fts MATCH ?)"
                " OR c.title LIKE ?)"
            )
            params += [match, f"%{' '.join(words)}%"]
        sql += " GROUP BY c.id ORDER BY c.updated DESC, c.id DESC"
        if limit:
            sql += " LIMIT ?"
            params.append(limit)
        try:
            return list(self.db.query(sql, params))
        except sqlite3.OperationalError as exc:
            raise BadInput(f"Cannot search for {search!r}: {exc}.") from None

    def conversation_turns(self, conversation_id: int) -> list[dict]:
        """Every turn of a conversation, oldest first, with where each answer came from."""
        return list(self.db.query("SELECT * FROM turns WHERE conversation_id = ? ORDER BY id", [conversation_id]))

    def query_sent(self, turn_id: int) -> str | None:
        """What left the machine for a turn: the redacted query as sent to the teacher, or None."""
        row = self.db.execute(
            "SELECT query_sent FROM examples WHERE turn_id = ? ORDER BY id DESC LIMIT 1", [turn_id]
        ).fetchone()
        return row[0] if row else None

    # -- distillation (model/dataset.py, model/distill.py) ------------------------------------

    def distill_examples(self) -> list[dict]:
        """Whole teacher answers, oldest first, with what decides whether one may be trained on:
        `source` and `turn_query` come from its turn, None when the turn was removed from the log
        or never kept in it (--no-log); `turn_bad` is 1 when the user marked the answer wrong.
        A turn id is reused after the newest turn is removed: a turn newer than the example is not its own."""
        return list(
            self.db.query(
                "SELECT e.*, t.id AS turn_found, t.source AS source, t.query AS turn_query, t.bad AS turn_bad"
                " FROM examples e LEFT JOIN turns t ON t.id = e.turn_id AND t.created <= e.created"
                " WHERE e.status = 'ok' ORDER BY e.id"
            )
        )

    def trainable_example_ids(self) -> set[int]:
        """Examples still in the log and not marked wrong: what a distilled version may have learned from."""
        return {
            row[0]
            for row in self.db.execute(
                "SELECT e.id FROM examples e JOIN turns t ON t.id = e.turn_id AND t.created <= e.created"
                " WHERE e.status = 'ok' AND e.bad = 0 AND t.bad = 0"
            )
        }

    def add_rationale(self, example_id: int, **fields) -> int:
        """Record a request for a rationale (it left the machine like any other) and its answer."""
        return self.add_example(**fields, status="rationale", rationale_for=example_id)

    def rationales(self) -> dict[int, str]:
        """The teacher's rationale answers, newest per example: {example_id: answer as received}."""
        return {
            row[0]: row[1]
            for row in self.db.execute(
                "SELECT rationale_for, teacher_answer FROM examples WHERE status = 'rationale'"
                " AND rationale_for IS NOT NULL AND teacher_answer IS NOT NULL ORDER BY id"
            )
        }

    def outcomes_with_answers(self, student_version: str) -> list[dict]:
        """A version's outcomes, newest first, each with the teacher's answer when it was judged against one."""
        return list(
            self.db.query(
                "SELECT o.*, e.teacher_answer FROM outcomes o LEFT JOIN examples e ON e.id = o.example_id"
                " WHERE o.student_version = ? ORDER BY o.id DESC",
                [student_version],
            )
        )

    # -- teacher labels through the Batch API (model/distill/label.py) ----------------------

    def _atomic(self, fn):
        """`fn` in one transaction: sqlite-utils 4 commits each write on its own unless one is open
        (`with conn:` opens none), so a kill between two writes would keep half of them."""
        with self.db.atomic():
            return fn()

    def add_batch_job(self, sent: list[dict], **fields) -> int:
        """Record a job about to be created, and each query it sends, in one transaction."""

        def insert():
            job_id = self.db["batch_jobs"].insert({"created": now(), "updated": now(), **fields}).last_pk
            self.db["batch_requests"].insert_all({"job_id": job_id, **r} for r in sent)
            return job_id

        return self._write(lambda: self._atomic(insert))

    def batch_job(self, job_id: int) -> dict | None:
        rows = list(self.db.query("SELECT * FROM batch_jobs WHERE id = ?", [job_id]))
        return rows[0] if rows else None

    def open_batch_job(self, file: str) -> dict | None:
        """The newest job for `file` whose results are not in the log yet and that may still give them."""
        rows = list(
            self.db.query(
                "SELECT * FROM batch_jobs WHERE file = ? AND state NOT IN"
                " ('written', 'gone', 'JOB_STATE_FAILED', 'JOB_STATE_EXPIRED', 'JOB_STATE_CANCELLED')"
                " ORDER BY id DESC LIMIT 1",
                [file],
            )
        )
        return rows[0] if rows else None

    def update_batch_job(self, job_id: int, **fields) -> None:
        self._write(lambda: self.db["batch_jobs"].update(job_id, {**fields, "updated": now()}))

    def end_batch_job(self, job_id: int, state: str, error: str | None) -> None:
        """A job that gave no results: its state; its queries as typed and their restore tables dropped."""

        def end():
            self.db["batch_jobs"].update(job_id, {"state": state, "error": error, "updated": now()})
            self.db.execute("UPDATE batch_requests SET query = NULL, restore = NULL WHERE job_id = ?", [job_id])

        self._write(lambda: self._atomic(end))

    def batch_requests(self, job_id: int) -> list[dict]:
        return list(self.db.query("SELECT * FROM batch_requests WHERE job_id = ? ORDER BY rowid", [job_id]))

    def labelled_digests(self) -> set[str]:
        """Digests of the queries a batch job already labelled with a whole answer: never sent again."""
        return {
            row[0]
            for row in self.db.execute(
                "SELECT r.digest FROM batch_requests r JOIN examples e ON e.id = r.example_id WHERE e.status = 'ok'"
            )
        }

    def label_conversation(self, job_id: int, title: str) -> int:
        """The conversation a job's labelled turns go into, made once."""

        def get_or_make():
            found = self.db.execute("SELECT conversation_id FROM batch_jobs WHERE id = ?", [job_id]).fetchone()
            if found and found[0] is not None:
                return found[0]
            created = now()
            row = {"title": title[:80], "source": "label", "created": created, "updated": created}
            conversation_id = self.db["conversations"].insert(row).last_pk
            self.db["batch_jobs"].update(job_id, {"conversation_id": conversation_id})
            return conversation_id

        return self._write(lambda: self._atomic(get_or_make))

    def write_labels(self, job_id: int, results: list[tuple[str, dict | None, dict]]) -> list[int | None]:
        """Log results (key, turn or None, example) of a job in one transaction, each once: the example's
        id, or None for a (job, key) written already. A kill mid-way loses the whole transaction, never half."""

        def write():
            ids = []
            for key, turn, example in results:
                row = self.db.execute(
                    "SELECT example_id FROM batch_requests WHERE job_id = ? AND key = ?", [job_id, key]
                ).fetchone()
                if row is None or row[0] is not None:
                    ids.append(None)
                    continue
                created = now()
                turn_id = self.db["turns"].insert({"created": created, **turn}).last_pk if turn else None
                example = {"created": created, "bad": 0, **example, "turn_id": turn_id, "batch_job": job_id}
                example_id = self.db["examples"].insert(example).last_pk
                self.db.execute(
                    "UPDATE batch_requests SET example_id = ?, query = NULL, restore = NULL"
                    " WHERE job_id = ? AND key = ?",
                    [example_id, job_id, key],
                )
                ids.append(example_id)
            return ids

        return self._write(lambda: self._atomic(write))

    # -- notes (personal data: never sent anywhere) ------------------------------------

    def add_note(self, text: str) -> int:
        return self._write(lambda: self.db["notes"].insert({"text": text, "created": now()}).last_pk)

    def notes(self, limit: int | None = 20) -> list[dict]:
        """Notes newest first."""
        sql = "SELECT * FROM notes ORDER BY id DESC" + (" LIMIT ?" if limit else "")
        return list(self.db.query(sql, [limit] if limit else []))

    def find_notes(self, words: list[str], limit: int = 5, every: bool = False) -> list[dict]:
        """Notes holding any of `words` (every one of them, with `every`; stemmed: "boilers" finds
        "boiler"), best match first."""
        words = [w.replace('"', '""') for w in words if w.strip()]
        if not words:
            return []
        match = (" AND " if every else " OR ").join(f'"{w}"' for w in words)
        return list(
            self.db.query(
                "SELECT notes.* FROM notes JOIN notes_fts ON notes_fts.rowid = notes.id"
                " WHERE notes_fts MATCH ? ORDER BY notes_fts.rank, notes.id DESC LIMIT ?",
                [match, limit],
            )
        )

    def delete_note(self, note_id: int) -> bool:
        return self._write(lambda: self.db.execute("DELETE FROM notes WHERE id = ?", [note_id]).rowcount) > 0

    # -- timers, alarms and reminders (assistant/tools/timers.py; rung by assistant/tools/ringer.py) --

    def add_timer(self, kind: str, due: str, label: str = "", source: str = "", created: str | None = None) -> int:
        row = {"kind": kind, "label": label, "due": due, "created": created or now(), "status": "pending"}
        return self._write(lambda: self.db["timers"].insert({**row, "source": source}).last_pk)

    def timer(self, timer_id: int) -> dict | None:
        rows = list(self.db.query("SELECT * FROM timers WHERE id = ?", [timer_id]))
        return rows[0] if rows else None

    def timers(self, status: str | None = "pending", kind: str | None = None) -> list[dict]:
        """Timers soonest first; `status=None` for every one, rung and cancelled too."""
        where, params = [], []
        for column, value in (("status", status), ("kind", kind)):
            if value:
                where.append(f"{column} = ?")
                params.append(value)
        sql = "SELECT * FROM timers" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY due, id"
        return list(self.db.query(sql, params))

    def cancel_timer(self, timer_id: int) -> bool:
        """Cancel a pending timer; False when it is not pending (it rang, was missed or is unknown)."""
        sql = "UPDATE timers SET status = 'cancelled' WHERE id = ? AND status = 'pending'"
        return self._write(lambda: self.db.execute(sql, [timer_id]).rowcount) > 0

    def next_due(self) -> str | None:
        return self.db.execute("SELECT MIN(due) FROM timers WHERE status = 'pending'").fetchone()[0]

    def claim_due(self, until: str) -> list[dict]:
        """Mark the pending timers due by `until` rung, and return them: one UPDATE, so of two
        processes claiming at once each timer goes to exactly one, and rings once."""

        def claim():
            cursor = self.db.execute(
                "UPDATE timers SET status = 'rung', rang_at = ? WHERE status = 'pending' AND due <= ? RETURNING *",
                [now(), until],
            )
            columns = [c[0] for c in cursor.description]
            return [dict(zip(columns, values)) for values in cursor.fetchall()]

        return sorted(self._write(claim), key=lambda row: (row["due"], row["id"]))

    def miss_overdue(self, before: str) -> int:
        """Pending timers due before `before` never rang (no ringer ran): they are missed."""
        sql = "UPDATE timers SET status = 'missed' WHERE status = 'pending' AND due < ?"
        return self._write(lambda: self.db.execute(sql, [before]).rowcount)

    def unshown_rings(self) -> list[dict]:
        """Timers that rang or were missed and that no surface has shown yet, oldest first."""
        return list(
            self.db.query(
                "SELECT * FROM timers WHERE status IN ('rung', 'missed') AND shown_at IS NULL ORDER BY due, id"
            )
        )

    def mark_shown(self, timer_ids: list[int]) -> int:
        marks = ", ".join("?" * len(timer_ids))
        sql = f"UPDATE timers SET shown_at = ? WHERE id IN ({marks}) AND shown_at IS NULL"
        return self._write(lambda: self.db.execute(sql, [now(), *timer_ids]).rowcount) if timer_ids else 0


def _process(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks since boot) from Linux's /proc; None where there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return fields[0], fields[19]  # stat's fields 3 and 22


def this_process() -> str:
    """Who answers a turn: the pid, and where the system says it, when the process started, so a
    later process given the same pid is not taken for it."""
    pid = os.getpid()
    found = _process(pid)
    return f"{pid}:{found[1]}" if found else str(pid)


def owner_alive(owner: str) -> bool:
    """Whether the process `this_process()` named is still running."""
    pid_text, _, start = owner.partition(":")
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if os.name == "nt":  # os.kill would end the process there, not probe it: assume it runs
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # running as another user: its start time below tells whether it is the same process
    except OSError:
        return False
    found = _process(pid)
    if found is None:  # no /proc (macOS): the pid alone decides
        return True
    state, started = found
    return state not in ("Z", "X") and (not start or started == start)  # a zombie is a killed child not yet reaped


def _fts_query(text: str) -> str:
    """Quote each word so user text (hyphens, colons) is never read as FTS syntax."""
    words = [w.replace('"', '""') for w in text.split()]
    return " ".join(f'"{w}"' for w in words)


if __name__ == "__main__":
    store = Store()
    print(store.path)
    for name in store.db.table_names():
        print(f"  {name}: {store.db[name].count} rows")
