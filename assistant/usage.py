"""What left this machine, period by period: the flywheel on the user's own questions.

Every question asked in the chat app, with `ask`, by voice or over the API is a turn. A turn *was
sent* when a request for it went out to the teacher, answered or failed (the audit trail that
`apprentice log list --examples --all` shows); everything else was answered here. Distillation is
meant to bring the share sent down as the student learns, and this is where a user sees whether it
did, on their own traffic: by day, week or month (local time), or by the student that answered.
A question asked with `--no-log` is in no period: it has no turn (a request it made is still in
the audit trail).
Each share carries a 95% Wilson interval, since a week of twenty questions says little.

    apprentice log stats [--by week|day|month|student] [--json] [--plot FILE.png]
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from assistant.errors import ApprenticeError
from assistant.intervals import wilson
from assistant.plotting import pyplot

GROUPINGS = ("week", "day", "month", "student")
HEADINGS = {"week": "week of", "day": "day", "month": "month", "student": "student"}


def period_of(created: str, by: str) -> str:
    """The period a turn logged at `created` (ISO 8601, UTC) falls in, in local time: the Monday
    that starts its week, its day or its month."""
    day = dt.datetime.fromisoformat(created).astimezone().date()
    if by == "week":
        return (day - dt.timedelta(days=day.weekday())).isoformat()
    return day.isoformat() if by == "day" else day.strftime("%Y-%m")


def _figures(rows: list[dict]) -> dict:
    sent = sum(1 for r in rows if r["sent"])
    return {
        "questions": len(rows),
        "here": len(rows) - sent,
        "sent": sent,
        "teacher_share": round(sent / len(rows), 4) if rows else None,
        "interval": [round(x, 4) for x in wilson(sent, len(rows))] if rows else None,
    }


def count(rows: list[dict], by: str = "week") -> dict:
    """The share of questions sent to the teacher per period (or per student), oldest first, with
    the students that answered in each period, and the same over all of them."""
    if by not in GROUPINGS:
        raise ApprenticeError(f"Count by one of {', '.join(GROUPINGS)}, not {by!r}.")
    groups: dict[str, list[dict]] = {}
    for row in rows:
        key = (row["student"] or "unknown") if by == "student" else period_of(row["created"], by)
        groups.setdefault(key, []).append(row)
    periods = []
    keys = list(groups) if by == "student" else sorted(groups)  # ISO dates sort as time does
    for key in keys:
        group = groups[key]
        students = list(dict.fromkeys(r["student"] for r in group if r["student"]))
        periods.append({"period": key, **_figures(group), "students": students})
    return {
        "by": by,
        "periods": periods,
        "total": _figures(rows),
        "first": min((r["created"] for r in rows), default=None),
        "last": max((r["created"] for r in rows), default=None),
    }


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{100 * share:.0f}%"


def report(result: dict) -> str:
    """The table a person reads (narrow enough for an 80-column terminal), and one sentence on where
    the share went."""
    periods, total = result["periods"], result["total"]
    heading = HEADINGS[result["by"]]
    width = max([len(heading), len("all")] + [len(p["period"]) for p in periods])
    by_period = result["by"] != "student"

    def row(*cells: str) -> str:
        name, asked, here, sent, share, band, students = cells
        line = f"  {name:<{width}}  {asked:>6}  {here:>6}  {sent:>10}  {share:>5}  {band:<10}  {students}"
        return line.rstrip()

    lines = [row(heading, "asked", "here", "to teacher", "share", "[95%]", "students" if by_period else "")]
    for p in periods + [{**total, "period": "all", "students": []}]:
        low, high = p["interval"] or (None, None)
        band = f"[{100 * low:.0f}, {100 * high:.0f}]" if low is not None else ""
        students = ", ".join(p["students"]) if by_period else ""
        cells = (p["questions"], p["here"], p["sent"])
        lines.append(row(p["period"], *map(str, cells), _pct(p["teacher_share"]), band, students))
    if len(periods) >= 2:
        first, last = (_pct(periods[i]["teacher_share"]) for i in (0, -1))
        change = periods[-1]["teacher_share"] - periods[0]["teacher_share"]
        way = (
            f"fell from {first} to {last}"
            if change < 0
            else f"rose from {first} to {last}"
            if change > 0
            else f"stayed at {first}"
        )
        lines.append(f"\nFrom {periods[0]['period']} to {periods[-1]['period']} the share sent to the teacher {way}.")
    return "\n".join(lines)


def plot(result: dict, path: Path) -> None:
    """The share sent per period with its 95% band: the picture of the flywheel on this machine."""
    plt = pyplot()
    periods = result["periods"]
    x = list(range(len(periods)))
    share = [100 * p["teacher_share"] for p in periods]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(x, share, "-o", color="tab:red", linewidth=2, label="sent to the teacher")
    ax.fill_between(
        x,
        [100 * p["interval"][0] for p in periods],
        [100 * p["interval"][1] for p in periods],
        color="tab:red",
        alpha=0.15,
    )
    for xi, p in zip(x, periods):
        ax.annotate(f"{p['questions']} asked", (xi, 100 * p["teacher_share"]), xytext=(0, 8),
                    textcoords="offset points", ha="center", fontsize=8, color="tab:gray")  # fmt: skip
    # under each period, the students that answered in it: where a new one took over shows
    ticks = [p["period"] + ("\n" + ", ".join(p["students"]) if result["by"] != "student" else "") for p in periods]
    slanted = len(periods) > 6
    ax.set_xticks(x, ticks, rotation=30 if slanted else 0, ha="right" if slanted else "center", fontsize=8)
    ax.set_ylim(0, 105)
    ax.set_ylabel("share of your questions (%)")
    ax.set_xlabel(HEADINGS[result["by"]])
    ax.set_title(f"What left this machine, by {result['by']} (95% bands)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right")
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=120)
    except OSError as exc:
        raise ApprenticeError(
            f"Cannot write the plot to {path} ({exc.strerror or exc}); name a file in a folder that exists."
        ) from None
    finally:
        plt.close(fig)
