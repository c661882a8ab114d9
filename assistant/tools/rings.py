"""What timers say and what surfaces show of them: words for durations and clock times, a ring's
sentence, and the rings no surface has shown yet. Light on imports (no tool registration, no
google-genai), so the ringer process and every command's start can use it cheaply.
"""

from __future__ import annotations

import datetime as dt

GRACE_S = 60  # due this recently, it still rings; older and never rung, it came due while no ringer ran

# -- words for durations and times ------------------------------------------------------


def duration_words(seconds: float) -> str:
    """3725 -> "1 hour 2 minutes 5 seconds"."""
    seconds = int(round(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{n} {unit}{'' if n == 1 else 's'}"
        for n, unit in ((days, "day"), (hours, "hour"), (minutes, "minute"), (secs, "second"))
        if n
    ]
    return " ".join(parts) or "0 seconds"


def short_duration(seconds: float) -> str:
    """For badges: 600 -> "10 min", 5400 -> "1 h 30 min", 30 -> "30 s"."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n} {unit}" for n, unit in ((hours, "h"), (minutes, "min"), (secs, "s")) if n]
    return " ".join(parts) or "0 s"


def _machine_zone(now: dt.datetime) -> bool:
    """Whether `now` carries this machine's zone as a fixed offset (what `datetime.now().astimezone()`
    gives): that offset is only today's, and past a daylight-saving change the zone's rules decide."""
    return isinstance(now.tzinfo, dt.timezone) and now.utcoffset() == now.replace(tzinfo=None).astimezone().utcoffset()


def in_zone(when: dt.datetime, now: dt.datetime) -> dt.datetime:
    """`when` in the user's zone, the zone of `now`."""
    return when.astimezone() if _machine_zone(now) else when.astimezone(now.tzinfo)


def at_clock(day: dt.date, time: dt.time, now: dt.datetime) -> dt.datetime:
    """That day's wall-clock time in the user's zone, daylight saving included."""
    if _machine_zone(now):
        return dt.datetime.combine(day, time).astimezone()
    return dt.datetime.combine(day, time, tzinfo=now.tzinfo)


def clock_words(when: dt.datetime, now: dt.datetime, seconds: bool = False) -> str:
    """A local time as a user reads it, with its day when that is not today: "07:00 tomorrow"."""
    when = in_zone(when, now)
    hhmm = when.strftime("%H:%M:%S" if seconds else "%H:%M")
    days = (when.date() - now.date()).days
    if days == 0:
        return hhmm
    if days == 1:
        return f"{hhmm} tomorrow"
    if days == -1:
        return f"{hhmm} yesterday"
    if 1 < days < 7:
        return f"{hhmm} on {when:%A}"
    return f"{hhmm} on {when:%a} {when.day} {when:%b %Y}"


def until_words(when: dt.datetime, now: dt.datetime) -> str:
    """How long from now: whole minutes past a minute ("5 hours 8 minutes"), seconds below one."""
    left = (when - now).total_seconds()
    return duration_words(left if left < 60 else round(left / 60) * 60)


def utc_iso(when: dt.datetime) -> str:
    """The store's form of a time: UTC ISO with milliseconds, so strings compare as times do."""
    return when.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def parse_utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# -- the rows -------------------------------------------------------------------------------


def what(row: dict, now: dt.datetime) -> str:
    """What a timer is, in a few words: "10 minutes", "at 07:00 tomorrow", "“call mum”"."""
    due = parse_utc(row["due"])
    words = {
        "timer": duration_words((due - parse_utc(row["created"])).total_seconds()),
        "alarm": f"at {clock_words(due, now)}",
        "reminder": f"“{row['label']}”",
    }[row["kind"]]
    if row["label"] and row["kind"] != "reminder":
        words = f"“{row['label']}” {words}"
    return words


def describe(row: dict, now: dt.datetime, kind: bool = True) -> str:
    """One line about a timer: "#3 timer 10 minutes, rings at 14:32 (in 4 minutes)"; without its kind
    where the kind is said already."""
    due = parse_utc(row["due"])
    status = row["status"]
    if status == "pending":
        if row["kind"] == "alarm":
            tail = f"in {until_words(due, now)}"
        else:
            tail = f"rings at {clock_words(due, now)} (in {until_words(due, now)})"
    elif status == "rung":
        tail = f"rang at {clock_words(parse_utc(row['rang_at'] or row['due']), now)}"
    elif status == "missed":
        tail = f"missed, due at {clock_words(due, now)}"
    else:
        tail = f"cancelled, was due at {clock_words(due, now)}"
    return f"#{row['id']} {row['kind'] + ' ' if kind else ''}{what(row, now)}, {tail}"


def as_json(row: dict, now: dt.datetime) -> dict:
    """A timer for `--json` and for ToolResult.data: the row, plus its due time in the user's zone."""
    due = parse_utc(row["due"])
    return {
        "id": row["id"],
        "kind": row["kind"],
        "label": row["label"] or "",
        "due": row["due"],
        "due_local": in_zone(due, now).isoformat(timespec="seconds"),
        "seconds_left": max(0, round((due - now).total_seconds())) if row["status"] == "pending" else 0,
        "status": row["status"],
        "created": row["created"],
        "rang_at": row["rang_at"],
        "shown_at": row["shown_at"],
        "source": row["source"] or "",
    }


def ring_text(row: dict) -> str:
    """What a ring says, aloud and in a notification: "Timer done: 10 minutes." """
    due = parse_utc(row["due"]).astimezone()
    label = row["label"] or ""
    if row["kind"] == "timer":
        length = duration_words((due - parse_utc(row["created"])).total_seconds())
        return f"Timer done: {label}, {length}." if label else f"Timer done: {length}."
    if row["kind"] == "alarm":
        return f"Alarm: {label}, {due:%H:%M}." if label else f"Alarm: it is {due:%H:%M}."
    return f"Reminder: {label}."


def missed_text(row: dict, now: dt.datetime | None = None) -> str:
    """A ring nobody saw, as surfaces show it at their next start:
    "Missed: timer #3 of 10 minutes rang at 14:32." """
    now = now or dt.datetime.now().astimezone()
    due = parse_utc(row["due"])
    label = row["label"] or ""
    name = f"{row['kind']} #{row['id']}"
    if row["kind"] == "timer":
        name += f" of {duration_words((due - parse_utc(row['created'])).total_seconds())}"
    if label:
        name += f" “{label}”"
    if row["status"] == "rung":
        when = f"rang at {clock_words(parse_utc(row['rang_at'] or row['due']), now)}"
    else:
        when = f"came due at {clock_words(due, now)} while nothing was running to ring it"
    return f"Missed: {name} {when}."


# -- what surfaces call --------------------------------------------------------------------


def due_unshown(store, now: dt.datetime | None = None) -> list[dict]:
    """Rings no surface has shown yet, oldest first. Pending timers that came due more than a
    minute ago while no ringer ran are marked missed first; pending ones still to come get a
    ringer if none runs (after a restart, say). Each row's `status` is `rung` (it rang while no
    surface showed it) or `missed` (it never rang). Call `mark_shown` once they are shown.

    The CLI calls it at the start of a command; the chat app at mount and then every second or
    so while open, showing each row with `notice(row)` (ring the bell when `ringing(row)`)."""
    from assistant.tools import ringer

    now = now or dt.datetime.now(dt.UTC)
    store.miss_overdue(utc_iso(now - dt.timedelta(seconds=GRACE_S)))
    if store.next_due() is not None:
        ringer.ensure_running(wake=False)  # surfaces call this often: a running ringer is left alone
    return store.unshown_rings()


def poll(store, now: dt.datetime | None = None) -> list[dict]:
    """`due_unshown` for a surface that asks every second: reads only, unless something came due
    while no ringer ran (then `due_unshown` marks it missed). A ringer is started whenever
    something is pending and none runs (a ringer killed, a timer set by an older version)."""
    from assistant.tools import ringer

    now = now or dt.datetime.now(dt.UTC)
    due = store.next_due()
    if due is not None and parse_utc(due) < now - dt.timedelta(seconds=GRACE_S):
        return due_unshown(store, now)
    if due is not None:
        ringer.ensure_running(wake=False)  # a look at a lock: a running ringer is left alone
    return store.unshown_rings()


def mark_shown(store, ids) -> int:
    """Record that a surface showed these rings: they are no longer missed."""
    return store.mark_shown(list(ids))


def ringing(row: dict, now: dt.datetime | None = None, within_s: float = 5.0) -> bool:
    """Whether a surface that is open should show this ring as ringing now (its text, the terminal
    bell, a notification) rather than as missed: it rang within the last few seconds, so the
    surface polling for rings is seeing it as it happens."""
    if row["status"] != "rung" or not row["rang_at"]:
        return False
    now = now or dt.datetime.now(dt.UTC)
    return (now - parse_utc(row["rang_at"])).total_seconds() <= within_s


def notice(row: dict, now: dt.datetime | None = None) -> str:
    """What an open surface shows for an unshown ring: the ring itself as it happens ("Timer done:
    10 minutes."), else "Missed: …"."""
    return ring_text(row) if ringing(row, now) else missed_text(row, now and now.astimezone())
