"""`apprentice timers`: list the timers, alarms and reminders, cancel one; and, at the start of
every command, the rings nobody saw.

    apprentice timers                  # what is set, soonest first
    apprentice timers list --all       # also what rang, was missed or was cancelled
    apprentice timers cancel 3

A command that answers (`ask`, `voice`) holds those rings for its answer instead: they are its
first notes, so with `--json` they go to stderr and into `"notes"`, and stdout stays one object.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import click

from assistant import config
from assistant.errors import BadInput


def _store():
    from assistant.store import Store

    return Store(on_wait=lambda sentence: click.echo(sentence, err=True))


def _emit(obj) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2))


def _now() -> dt.datetime:
    return dt.datetime.now().astimezone()


@click.group("timers", invoke_without_command=True)
@click.option("--json", "json_mode", is_flag=True, help="Print a JSON array.")
@click.pass_context
def timers_command(ctx: click.Context, json_mode: bool) -> None:
    """Timers, alarms and reminders: list them (the default), cancel one.

    Ask for one in words: apprentice ask "set a timer for 10 minutes".
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(timers_list, all_=False, json_mode=json_mode)


@timers_command.command("list")
@click.option("--all", "all_", is_flag=True, help="Also those that rang, were missed or were cancelled.")
@click.option("--json", "json_mode", is_flag=True, help="Print a JSON array.")
def timers_list(all_: bool, json_mode: bool) -> None:
    """What is set, soonest first."""
    from assistant.render import inert
    from assistant.tools import rings

    now = _now()
    rows = _store().timers(status=None if all_ else "pending")
    if json_mode:
        _emit([rings.as_json(r, now) for r in rows])
    elif rows:
        for row in rows:
            click.echo(inert(rings.describe(row, now)))
    else:
        click.echo("No timers, alarms or reminders are set." if not all_ else "No timers, alarms or reminders yet.")


@timers_command.command("cancel")
@click.argument("timer_id", type=int)
@click.option("--json", "json_mode", is_flag=True, help="Print the cancelled timer as a JSON object.")
def timers_cancel(timer_id: int, json_mode: bool) -> None:
    """Cancel a timer, alarm or reminder by its number (`apprentice timers` shows them)."""
    from assistant.render import inert
    from assistant.tools import rings

    store = _store()
    row = store.timer(timer_id)
    if row is None:
        raise BadInput(f"There is no timer {timer_id}; `apprentice timers` lists those set.")
    if not store.cancel_timer(timer_id):
        raise BadInput(f"{row['kind'].capitalize()} {timer_id} is already {row['status']}: nothing to cancel.")
    from assistant.tools import ringer

    ringer.wake()
    now = _now()
    row = store.timer(timer_id)
    if json_mode:
        _emit(rings.as_json(row, now))
    else:
        click.echo(inert(f"{row['kind'].capitalize()} {timer_id} ({rings.what(row, now)}) cancelled."))


_held: dict = {}  # {"home": path, "rows": [...]}: rings found at this command's start, for its answer's notes


def announce_missed(say, hold: bool = False) -> None:
    """At the start of a command: say each ring no surface showed ("Missed: …") and mark it shown;
    start a ringer if timers are pending and none runs (after a restart). With nothing to do this
    costs one small query on the database, or nothing when there is no database yet.

    With `hold` (a command whose answer carries notes), the rings are kept for `held_notes()`
    instead of said now, and marked shown only when taken: a command that fails before it
    answers leaves them for the next one."""
    _held.clear()  # a new command: nothing from an earlier one in this process carries over
    path = config.home() / "apprentice.db"
    if not path.exists():
        return
    try:  # plain sqlite3: the common case, nothing to say, should not pay for importing the store
        conn = sqlite3.connect(str(path), timeout=5)
        try:
            found = conn.execute(
                "SELECT MAX(status != 'pending'), COUNT(*) FROM timers"
                " WHERE (status IN ('rung', 'missed') AND shown_at IS NULL) OR status = 'pending'"
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:  # no timers table yet, or a database busy elsewhere: the next command will say
        return
    unshown, pending = found
    if not pending:
        return
    from assistant.tools import ringer, rings

    if not unshown and ringer.running() is not None:
        return
    from assistant.render import inert

    store = _store()
    now = _now()
    rows = rings.due_unshown(store)
    if hold:
        _held.update(home=config.home(), rows=rows)
        return
    for row in rows:
        say(inert(rings.missed_text(row, now)))
    rings.mark_shown(store, [r["id"] for r in rows])


def held_notes() -> list[str]:
    """The rings `announce_missed(hold=True)` kept, as notes ("Missed: …"), marked shown now that an
    answer carries them; [] when there are none (and then nothing is opened)."""
    rows = _held.get("rows") if _held.get("home") == config.home() else None
    _held.clear()
    if not rows:
        return []
    from assistant.render import inert
    from assistant.tools import rings

    now = _now()
    rings.mark_shown(_store(), [r["id"] for r in rows])
    return [inert(rings.missed_text(row, now)) for row in rows]
