"""A `bench distill --rounds N` run stopped partway goes on where its last finished day left it.

A run of N days takes hours (about an hour a day on two cores), so it must survive being stopped.
After each round the run writes a snapshot into its home's `resume/` folder: the database (the
logged turns, the training examples, the router's memory, notes and timers) copied with SQLite's
backup API, the registry's `active.json`, the names of the versions in `models/`, and the figures so
far with the run's notes, elapsed time and the teacher's answers (asked once per query, so a resumed
run judges the teacher alone on the answers an unbroken one would). A snapshot's folder is complete
only once its `state.json` is written, last; the older one is removed after that, so a stop at any
instant leaves one complete snapshot.

`restore` puts the home back as the last complete snapshot left it, so a day the run was stopped
in is asked again from its start, and nothing it had logged, trained or promoted counts twice: the
database is the snapshot's, versions made since are removed, and the conversation caches (keyed
by conversation numbers the restored database hands out again) are dropped.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from assistant.errors import BadInput

FOLDER = "resume"
STATE = "state.json"  # written last: a snapshot without it is incomplete and never read
DATABASE = "apprentice.db"
ACTIVE = "active.json"


def snapshot(home: Path, round_: int, figures: dict) -> None:
    """The home's state after round `round_` (0: before the first day), with `figures`: what the
    run needs to go on (its rounds and records so far, notes, elapsed seconds, sizes, settings)."""
    root = home / FOLDER
    folder = root / f"round-{round_}"
    shutil.rmtree(folder, ignore_errors=True)  # an incomplete one left by an earlier stop
    folder.mkdir(parents=True)
    source = sqlite3.connect(home / DATABASE)
    target = sqlite3.connect(folder / DATABASE)
    try:
        source.backup(target)  # consistent while the store's own connection stays open
    finally:
        target.close()
        source.close()
    models = home / "models"
    shutil.copy(models / ACTIVE, folder / ACTIVE)
    versions = sorted(p.name for p in models.iterdir() if p.is_dir() and not p.name.startswith("."))
    (folder / "figures.json").write_text(json.dumps(figures, ensure_ascii=False), encoding="utf-8")
    (folder / STATE).write_text(json.dumps({"round": round_, "versions": versions}), encoding="utf-8")
    for older in root.iterdir():
        if older != folder:
            shutil.rmtree(older, ignore_errors=True)


def latest(home: Path) -> Path | None:
    """The folder of the last complete snapshot in `home`, or None."""
    root = home / FOLDER
    done = [f for f in root.glob("round-*") if (f / STATE).is_file()] if root.is_dir() else []
    return max(done, key=lambda f: json.loads((f / STATE).read_text())["round"], default=None)


def go_on(home: Path, identity: dict, asked: dict, days: int) -> dict:
    """The figures of a stopped run to go on from, once it is known to be the same run (`identity`: its
    days' queries, test sets, seed and --quick; `asked`: the flags that change what is measured) with
    days left, and its home is put back as its last snapshot left it."""
    figures = saved(home)
    if figures["identity"] != identity:
        raise BadInput(
            f"{home} was started with other queries or flags; resume with the --train, --test, "
            "--also-test, --rounds, --seed and --quick it was started with."
        )
    if changed := sorted(k for k, v in asked.items() if figures["meta"]["settings"].get(k) != v):
        raise BadInput(
            f"{home} was started with other settings ({', '.join(changed)}); resume with the "
            "--max-tokens, --rationales and --distill-arg flags it was started with."
        )
    if len(figures["rounds"]) > days:
        raise BadInput(f"{home} holds all {days} days already; its figures are in {home / 'rounds.json'}.")
    restore(home)
    return figures


def saved(home: Path) -> dict:
    """The figures of `home`'s last complete snapshot, read without touching anything."""
    if not (home / DATABASE).is_file() or not (home / "models" / ACTIVE).is_file():
        raise BadInput(
            f"{home} is not a benchmark's home (it holds no {DATABASE} or models/{ACTIVE}); give --resume "
            "the folder a run with --keep named."
        )
    folder = latest(home)
    if folder is None:
        raise BadInput(
            f"{home} holds no finished round to go on from (no {FOLDER}/ snapshot: the run stopped before its "
            "first measure, or it was made by a version that wrote none); start a new run instead."
        )
    return json.loads((folder / "figures.json").read_text(encoding="utf-8"))


def restore(home: Path) -> None:
    """Put `home` back as its last complete snapshot left it (`saved` has checked there is one)."""
    folder = latest(home)
    state = json.loads((folder / STATE).read_text())
    for suffix in ("", "-wal", "-shm"):
        (home / f"{DATABASE}{suffix}").unlink(missing_ok=True)
    shutil.copy(folder / DATABASE, home / DATABASE)
    models = home / "models"
    shutil.copy(folder / ACTIVE, models / ACTIVE)
    for version in models.iterdir():
        if version.is_dir() and version.name not in state["versions"]:
            shutil.rmtree(version)  # made by the day that was stopped (or its staging folder)
    shutil.rmtree(home / "cache" / "prompts", ignore_errors=True)
