"""`apprentice bench distill --rounds N`: the flywheel over N days of use, in a home of its own.

    apprentice bench distill --rounds 3 [--train FILE] [--test FILE] [--json] [--plot FILE.png] [--quick]

The same home, student, fake Gemini and `Assistant` as the one-round benchmark (distill.py's
`session`), but used as a person would use it over N days. The train queries are shuffled (seeded)
and dealt into N days, each day a mix of every family. Each day:

1. the day's queries are asked through the real `Assistant.answer` in auto mode, logged as a user's
   are: the fallbacks become training examples and the router's memory grows;
2. `apprentice distill` runs at the end of the day, on the same code path as the command (all the
   examples logged so far, the test file kept out). A day whose examples are still too few for
   distill's own `--min-examples` is skipped: nothing is trained, and the report and the plot say so;
3. the test queries are measured as in the one-round benchmark (`measure`: unlogged, the router's
   memory frozen).

Other test sets (`--also-test`, once per file; beside the shipped test set, by default, the shipped
fresh phrasings no check was written from, `NEVER_TUNED`: the fresh sets were written apart from
the train set's templates, and the first six have since been read to write checks, so only the
seventh is still evidence, README, Sets never tuned on) are measured beside it each round, kept
out of training (and what is near them in meaning, as for the test set), and reported as
`also_test` in each round, a list with one entry per file, without intervals but with its families
and each query's record, as for the test set.

The test set is also measured before the first day. Each round reports, with a 95% bootstrap
interval over test queries (resampled together across rounds): the student's accuracy alone; the
routed system's accuracy and teacher share at the configured thresholds; the oracle's share (an
oracle router sends exactly the queries the student gets wrong, so its share is the student's error
rate, and its accuracy is the teacher's on those); the drop in teacher share since before the first
day; and what distill decided (promoted, kept and why, or skipped). `goals` checks issue 13's goals
on every round after the first day, among them that no family the base student answered right
loses more than 5 points, on the test set and on each other set.

After each round the figures so far (the object `--json` prints) are rewritten to `rounds.json` in
the benchmark's home, so with `--keep` a run of hours that is stopped keeps every day it measured.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from assistant import config
from assistant.errors import BadInput
from assistant.outcomes import query_key
from assistant.plotting import pyplot
from model.bench import resume
from model.bench.distill import (
    BOOTSTRAP,
    _r,
    collect,
    distill_argv,
    machine,
    measure,
    phase_metrics,
    read_sets,
    session,
)

SAVED = "rounds.json"  # the figures so far, rewritten in the benchmark's home after each round
METRICS = ("student_accuracy", "routed_accuracy", "teacher_share", "oracle_share", "teacher_accuracy", "cpt95")

# Issue 13's goals, checked on each round after a day of use.
GOAL_STUDENT = 0.60  # the student alone
GOAL_ROUTED = 0.95  # routed accuracy, as a share of the teacher's
GOAL_ORACLE = 1.25  # the teacher share, as a multiple of the oracle's
GOAL_DROP = 0.40  # the teacher share's drop since before the first day
GOAL_FORGET = 0.05  # the most a family the base student answered right may lose, alone, on each set
# The shipped fresh sets no check or lever was written from: the evidence a run reports beside the test set. The
# others (test_fresh.jsonl to test_fresh6.jsonl) were read to write checks; `--also-test` still measures them.
NEVER_TUNED = ("test_fresh7.jsonl",)


def days(train: list[dict], n: int, seed: int) -> list[list[dict]]:
    """The train queries shuffled and dealt into n days, so each day holds a mix of families."""
    order = np.random.default_rng(seed).permutation(len(train))
    return [[train[i] for i in order[k::n]] for k in range(n)]


def also_sets(args: argparse.Namespace, train: list[dict], notes: list[str]) -> list[tuple[str, list[dict]]]:
    """The other test sets (`--also-test`; by default the shipped fresh phrasings never tuned on beside
    the shipped test set), each as (file name, lines); none with a test set of the user's own and no
    --also-test."""
    from model.bench.distill import QUICK_TEST, take_quick
    from model.dataset import read_tasks

    shipped = config.assets_dir() / "bench"
    if args.also_test is None and Path(args.test).resolve() == (shipped / "test.jsonl").resolve():
        args.also_test = [shipped / name for name in NEVER_TUNED]  # set on args: each day's distill --exclude reads it
    sets = []
    for path in args.also_test or []:
        also = read_tasks(path)
        if args.quick:
            also = take_quick(also, QUICK_TEST)
        keys = {query_key(r["query"]) for r in also}
        if overlap := sum(query_key(r["query"]) in keys for r in train):
            notes.append(f"{overlap} train queries are also in {path.name}; they were left out of training.")
        sets.append((path.name, also))
    return sets


def figures(records: list[dict], idx=None) -> dict:
    """One round's figures on the test queries (or a resample of them, `idx`)."""
    m = phase_metrics(records, idx)
    pick = records if idx is None else [records[i] for i in idx]
    m["oracle_share"] = float(np.mean([not r["student_right"] for r in pick]))
    return m


def bootstrap(rounds: list[list[dict]], seed: int) -> dict:
    """95% intervals of each round's figures and of the teacher share's drop since round 0,
    resampling test queries, the same resample for every round (the same queries were asked)."""
    rng = np.random.default_rng(seed)
    n = len(rounds[0])
    samples: dict[tuple[int, str], list[float]] = {}
    for _ in range(BOOTSTRAP):
        idx = rng.integers(0, n, n)
        first = None
        for k, records in enumerate(rounds):
            f = figures(records, idx)
            first = f if first is None else first
            f["teacher_share_drop"] = first["teacher_share"] - f["teacher_share"]
            for name in (*METRICS, "teacher_share_drop"):
                if f[name] is not None:
                    samples.setdefault((k, name), []).append(f[name])
    return {
        key: [round(float(np.percentile(v, 2.5)), 4), round(float(np.percentile(v, 97.5)), 4)]
        for key, v in samples.items()
    }


def goals(rounds: list[dict]) -> dict:
    """Issue 13's goals on each round after the first day: the value, the goal, and whether it is met."""
    if len(rounds) < 2:
        return {}
    out = {}
    for r in rounds[1:]:
        teacher, oracle = r["teacher_accuracy"], r["oracle_share"]
        out[str(r["round"])] = {
            "student_accuracy": {"value": r["student_accuracy"], "goal": f">= {GOAL_STUDENT}"},
            "routed_vs_teacher": {
                "value": _r(r["routed_accuracy"] / teacher) if teacher else None,
                "goal": f">= {GOAL_ROUTED}",
            },
            "share_vs_oracle": {
                "value": _r(r["teacher_share"] / oracle) if oracle else None,
                "goal": f"<= {GOAL_ORACLE}",
            },
            "teacher_share_drop": {"value": r["teacher_share_drop"], "goal": f">= {GOAL_DROP}"},
        }
        g = out[str(r["round"])]
        g["student_accuracy"]["met"] = r["student_accuracy"] >= GOAL_STUDENT
        g["routed_vs_teacher"]["met"] = g["routed_vs_teacher"]["value"] is not None and (
            g["routed_vs_teacher"]["value"] >= GOAL_ROUTED
        )
        # With no queries the student gets wrong, the oracle sends none: met only if the router sends none.
        share = g["share_vs_oracle"]["value"]
        g["share_vs_oracle"]["met"] = r["teacher_share"] == 0 if share is None else share <= GOAL_ORACLE
        g["teacher_share_drop"]["met"] = r["teacher_share_drop"] >= GOAL_DROP
        lost = {"test": forgotten(rounds[0].get("families"), r.get("families"))}
        now = {a["file"]: a for a in r.get("also_test") or []}
        for first in rounds[0].get("also_test") or []:
            if first["file"] in now:
                lost[first["file"]] = forgotten(first.get("families"), now[first["file"]].get("families"))
        g["no_forgetting"] = {
            "value": lost,
            "goal": f"(no family the base answered right loses > {GOAL_FORGET * 100:.0f} points)",
            "met": not any(lost.values()),
        }
    return out


def forgotten(before: dict | None, now: dict | None) -> dict:
    """The families the base student answered right, alone, that lost more than GOAL_FORGET: {family: [before, now]}."""
    out = {}
    for family, was in (before or {}).items():
        then, later = was["student_accuracy"], (now or {}).get(family, {}).get("student_accuracy")
        if then and later is not None and later < then - GOAL_FORGET - 1e-9:
            out[family] = [then, later]
    return out


def family_figures(records: list[dict]) -> dict:
    out = {}
    for fam in sorted({r["family"] for r in records}):
        rows = [r for r in records if r["family"] == fam]
        out[fam] = {
            "n": len(rows),
            **{k: _r(np.mean([r[f] for r in rows])) for k, f in FAMILY_FIELDS.items()},
        }
    return out


FAMILY_FIELDS = {
    "student_accuracy": "student_right",
    "routed_accuracy": "routed_right",
    "teacher_share": "to_teacher",
    "teacher_accuracy": "teacher_right",
}


def decision(distilled: dict) -> dict:
    """What distill decided at the end of a day, in a form the report and the plot read."""
    ds = distilled.get("dataset") or {}
    if distilled["status"] == "too_few":
        return {
            "status": "skipped",
            "reason": (
                f"too few fallbacks to train on: {ds.get('examples', 0)} usable examples, "
                f"distill needs {distilled['min_examples']}"
            ),
            "examples": ds.get("examples", 0),
            "min_examples": distilled["min_examples"],
        }
    return {
        "status": distilled["status"],  # promoted, or kept (registered, not made active)
        "version": distilled.get("version"),
        "reason": distilled.get("reason"),
        "examples": ds.get("examples"),
        "dataset": ds,
        "training": distilled.get("training"),
        "metrics": distilled.get("metrics"),
        "cascade": distilled.get("cascade"),
        "rejudged": distilled.get("rejudged"),
        "seconds": distilled.get("seconds"),
    }


def run(args: argparse.Namespace, progress) -> dict:
    from assistant.models import registry
    from model import distill

    if args.rounds < 1:
        raise BadInput("--rounds needs at least 1 day; try --rounds 3.")
    notes: list[str] = []
    train, test = read_sets(args, notes)
    others = also_sets(args, train, notes)
    also = [line for _, lines in others for line in lines]
    also_keys = {query_key(a["query"]) for a in also}
    train = [r for r in train if query_key(r["query"]) not in also_keys]  # never trained on
    schedule = days(train, args.rounds, args.seed)
    if any(not day for day in schedule):
        raise BadInput(
            f"{len(train)} train queries cannot fill {args.rounds} days; use fewer --rounds or a larger --train file."
        )
    n = args.rounds
    identity = {
        "days": [[r["query"] for r in day] for day in schedule],
        "test": [r["query"] for r in test],
        "also_test": {name: [r["query"] for r in lines] for name, lines in others},
        "seed": args.seed,
        "quick": args.quick,
    }
    measured: list[list[dict]] = []
    rounds: list[dict] = []
    teacher_answers: dict[str, str] = {}  # asked once per query, as in the one-round benchmark (`measure`)
    elapsed = 0.0
    saved_meta = None
    if args.resume:
        asked = {"max_tokens": args.max_tokens, "rationales": args.rationales, "distill_args": args.distill_arg}
        saved = resume.go_on(args.resume, identity, asked, n)
        measured, rounds, notes, elapsed = saved["measured"], saved["rounds"], saved["notes"], saved["wall_s"]
        teacher_answers, saved_meta = saved["teacher_answers"], saved["meta"]
        progress.say(f"going on after {rounds[-1]['label']} of {n}, in {args.resume}")
    started = time.monotonic() - elapsed
    with session(args, progress, train, test + also, notes, home=args.resume) as (assistant, source):
        settings = assistant.settings
        meta = {
            "seed": args.seed,
            "quick": args.quick,
            "settings": {
                "student": source or "pulled default student",
                "max_tokens": settings.max_tokens,
                "router_cloud_threshold": settings.router_cloud_threshold,
                "router_local_threshold": settings.router_local_threshold,
                "fast_path": settings.fast_path,
                "rationales": args.rationales,
                "distill_args": args.distill_arg,
            },
        }
        if saved_meta is not None:
            meta = saved_meta  # the student it started from
        home = config.home()

        def measure_also(label: str) -> list[dict]:
            """Each other test set's figures this round, said as they come."""
            measured_sets = []
            for name, lines in others:
                records = measure(assistant, lines, teacher_answers, progress, f"{label}: {name}")
                progress.say(f"{label}, {name}: {_summary(records)}")
                f = figures(records)
                measured_sets.append(
                    {
                        "file": name,
                        "n": len(records),
                        **{k: _r(f[k]) for k in METRICS},
                        "families": family_figures(records),
                        "queries": records,
                    }
                )
            return measured_sets

        def save() -> None:
            """The figures so far into the benchmark's home, and a snapshot to go on from (`--resume`): a
            run of hours stopped on day 3 keeps days 1 and 2 (with --keep, the home and this file stay)."""
            result = report(rounds, measured, schedule, train, test, meta, started, notes)
            (home / SAVED).write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
            state = {"rounds": rounds, "measured": measured, "notes": notes, "wall_s": result["wall_s"]}
            state["teacher_answers"] = teacher_answers
            resume.snapshot(home, len(rounds) - 1, {**state, "meta": meta, "identity": identity})

        if not rounds:
            progress.say(f"before day 1 of {n}: measuring {len(test)} test queries")
            tick = time.monotonic()
            measured.append(measure(assistant, test, teacher_answers, progress, "before: measure"))
            progress.say(f"before day 1 of {n}: {_summary(measured[-1])}")
            rounds.append(
                {
                    "round": 0,
                    "label": "before",
                    "day": None,
                    "distill": None,
                    "active": registry.active_name(),
                    "cascade_min_logprob": assistant.cascade_line(),
                    "seconds": {"measure": round(time.monotonic() - tick, 1)},
                    "also_test": measure_also("before day 1"),
                }
            )
            save()
        for k, day in enumerate(schedule, start=1):
            if k < len(rounds):
                continue  # measured before the run was stopped
            seconds = {}
            progress.say(f"day {k} of {n}: answering {len(day)} queries")
            tick = time.monotonic()
            used = collect(assistant, day, progress, f"day {k}/{n}: answer")
            seconds["answer"] = round(time.monotonic() - tick, 1)

            progress.say(f"day {k} of {n}: distilling")
            tick = time.monotonic()
            argv = distill_argv(args) + [f"--exclude={path}" for path in args.also_test or []]
            distilled = distill.run(distill.parser().parse_args(argv), progress)
            decided = decision(distilled)
            notes.extend(distilled.get("notes", []))
            seconds["distill"] = round(time.monotonic() - tick, 1)
            if decided["status"] == "skipped":
                progress.say(f"day {k} of {n}: skipped, {decided['reason']}")
            else:
                progress.say(f"day {k} of {n}: {decided['version']} {decided['status']} ({decided['reason']})")

            progress.say(f"day {k} of {n}: measuring {len(test)} test queries")
            tick = time.monotonic()
            measured.append(measure(assistant, test, teacher_answers, progress, f"day {k}/{n}: measure"))
            progress.say(f"day {k} of {n}: {_summary(measured[-1])}")
            seconds["measure"] = round(time.monotonic() - tick, 1)
            rounds.append(
                {
                    "round": k,
                    "label": f"day {k}",
                    "day": used,
                    "distill": decided,
                    "active": registry.active_name(),
                    "cascade_min_logprob": assistant.cascade_line(),
                    "seconds": seconds,
                    "also_test": measure_also(f"day {k} of {n}"),
                }
            )
            save()

    result = report(rounds, measured, schedule, train, test, meta, started, notes)
    if args.plot:
        plot(result, args.plot)
    return result


def report(
    rounds: list[dict],
    measured: list[list[dict]],
    schedule: list[list[dict]],
    train: list[dict],
    test: list[dict],
    meta: dict,
    started: float,
    notes: list[str],
) -> dict:
    """The figures of the rounds measured so far, with their intervals, the goals and the notes."""
    rounds = [dict(r) for r in rounds]
    ci = bootstrap(measured, meta["seed"])
    first = figures(measured[0])
    for k, (r, records) in enumerate(zip(rounds, measured)):
        f = figures(records)
        for name in METRICS:
            r[name] = _r(f[name])
            r[f"{name}_ci"] = ci.get((k, name))
        r["teacher_share_drop"] = _r(first["teacher_share"] - f["teacher_share"])
        r["teacher_share_drop_ci"] = ci.get((k, "teacher_share_drop"))
        r["families"] = family_figures(records)
        r["queries"] = records
    skipped = [r["round"] for r in rounds if r["distill"] and r["distill"]["status"] == "skipped"]
    if skipped:
        notes = notes + [
            f"Day {', '.join(map(str, skipped))} had too few fallbacks to train on; distillation was skipped "
            "that day (the examples carry over to the next)."
        ]
    result = {
        "rounds": rounds,
        "goals": goals(rounds),
        "sizes": {"train": len(train), "test": len(test), "days": [len(d) for d in schedule], "quick": meta["quick"]},
        "settings": meta["settings"],
        "machine": machine(),
        "wall_s": round(time.monotonic() - started, 1),
        "notes": notes,
    }
    return result


# -- output ----------------------------------------------------------------------------------------------------


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def _ci(v) -> str:
    return "" if not v else f" [{100 * v[0]:.0f}, {100 * v[1]:.0f}]"


def _summary(records: list[dict]) -> str:
    """A round's figures in one line, said as soon as they are measured (a long run shows them as it goes)."""
    f = figures(records)
    return (
        f"student alone {_pct(f['student_accuracy'])}, routed {_pct(f['routed_accuracy'])} "
        f"(teacher alone {_pct(f['teacher_accuracy'])}), teacher share {_pct(f['teacher_share'])}, "
        f"oracle's share {_pct(f['oracle_share'])}"
    )


def _said(r: dict) -> str:
    d = r["distill"]
    if d is None:
        return "the base student"
    if d["status"] == "skipped":
        return f"skipped: {d['reason']}"
    return f"{d['version']} {d['status']}: {d['reason']}"


def table(result: dict) -> str:
    cols = (
        ("student_accuracy", "student alone"),
        ("routed_accuracy", "routed"),
        ("teacher_share", "teacher share"),
        ("oracle_share", "oracle share"),
        ("teacher_share_drop", "share drop"),
    )
    lines = [f"{'round':8} " + " ".join(f"{label:>17}" for _, label in cols)]
    for r in result["rounds"]:
        cells = [f"{_pct(r[k]) + _ci(r[k + '_ci']):>17}" for k, _ in cols]
        lines.append(f"{r['label']:8} " + " ".join(cells))
    lines.append(f"teacher alone: {_pct(result['rounds'][0]['teacher_accuracy'])}  (95% intervals in brackets)")
    for first in result["rounds"][0].get("also_test") or []:
        lines.append("")
        alone = _pct(first["teacher_accuracy"])
        lines.append(f"on {first['file']} ({first['n']} queries, never trained on; teacher alone {alone}):")
        for r in result["rounds"]:
            for a in r.get("also_test") or []:
                if a["file"] == first["file"]:
                    lines.append(f"{r['label']:8} " + " ".join(f"{_pct(a[k]):>17}" for k, _ in cols[:4]))
    lines.append("")
    for r in result["rounds"]:
        day = r["day"]
        sent = "" if day is None else f"{day['queries']} queries, {_pct(day['teacher_share'])} to the teacher; "
        lines.append(f"{r['label']:8} {sent}{_said(r)}")
    if result["goals"]:
        lines.append("")
        lines.append("goals (issue 13) after each day:")
        for k, g in result["goals"].items():
            parts = [
                f"{name} {_goal_value(v['value'])} {v['goal']} {'met' if v['met'] else 'missed'}"
                for name, v in g.items()
            ]
            lines.append(f"  day {k}: " + "; ".join(parts))
    sizes = result["sizes"]
    lines.append("")
    lines.append(
        f"train {sizes['train']} queries in {len(sizes['days'])} days ({', '.join(map(str, sizes['days']))}) / "
        f"test {sizes['test']}; wall time {result['wall_s']:.0f} s"
    )
    return "\n".join(lines)


def _goal_value(value) -> str:
    if isinstance(value, dict):  # no_forgetting: {set: {family: [before, now]}}
        lost = [f"{fam} {_pct(a)} → {_pct(b)} ({name})" for name, fams in value.items() for fam, (a, b) in fams.items()]
        return ", ".join(lost) if lost else "(none lost)"
    return "–" if value is None else str(round(value, 2))


LABEL_GAP = 5.0  # percentage points between two value labels of one round, so none covers another


def spread(labels: list[tuple[int, float, str]], gap: float) -> list[tuple[int, float, float, str]]:
    """(round, value, label height, colour): a round's labels in value order, each at least `gap`
    above the one below it, and the stack centred on the values so labels stay by their points."""
    placed = []
    for round_ in sorted({r for r, _, _ in labels}):
        column = sorted((v, c) for r, v, c in labels if r == round_)
        heights = [column[0][0]]
        for value, _ in column[1:]:
            heights.append(max(value, heights[-1] + gap))
        shift = (sum(v for v, _ in column) - sum(heights)) / len(heights)
        shift = max(shift, -min(h for h in heights))  # no label below the axis
        placed += [(round_, v, h + shift, c) for (v, c), h in zip(column, heights)]
    return placed


def title(result: dict) -> str:
    """The plot's title: the run, and how far it got (`rounds.json` is saved after each day, and may be drawn)."""
    m, sizes = result["machine"], result["sizes"]
    planned, done = len(sizes["days"]), len(result["rounds"]) - 1
    so_far = ""
    if done < planned:  # a run stopped early: its rounds.json holds the days it finished
        so_far = " (before day 1 only)" if done == 0 else f" (days 1–{done} so far)" if done > 1 else " (day 1 so far)"
    return (
        f"apprentice bench distill --rounds {planned}{so_far}: {sizes['train']} train queries over "
        f"{planned} days, {sizes['test']} test queries\n{m['cores']} cores ({m['cpu']}), "
        f"{result['wall_s'] / 60:.0f} min"
    )


def plot(result: dict, path: Path) -> None:
    """Teacher share and routed accuracy per round, each with its 95% band, the oracle's share beside
    them, the student alone and the teacher alone for scale; a skipped or kept day is marked."""
    plt = pyplot()
    rounds = result["rounds"]
    x = np.arange(len(rounds))
    fig, ax = plt.subplots(figsize=(8, 5.2))

    labels: list[tuple[int, float, str]] = []  # (round, value, colour): drawn once all lines are in

    def line(key, label, color, style="-", marker="o"):
        y = np.array([100 * (r[key] or 0) for r in rounds])
        ax.plot(x, y, style, color=color, marker=marker, label=label, linewidth=2 if style == "-" else 1.5)
        cis = [r.get(f"{key}_ci") for r in rounds]
        if all(cis):
            ax.fill_between(x, [100 * c[0] for c in cis], [100 * c[1] for c in cis], color=color, alpha=0.15)
        labels.extend((int(xi), float(yi), color) for xi, yi in zip(x, y))

    line("teacher_share", "teacher share (routed)", "tab:red")
    line("oracle_share", "oracle's share (the student's errors)", "tab:red", "--", "s")
    line("routed_accuracy", "routed accuracy", "tab:blue")
    line("student_accuracy", "student alone", "tab:gray", ":", "^")
    for xi, yi, at, color in spread(labels, gap=LABEL_GAP):
        ax.annotate(
            f"{yi:.0f}%",
            (xi, yi),
            xytext=(xi + 0.06, at),
            va="center",
            fontsize=8,
            color=color,
            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8},  # readable over a line
        )
    ax.axhline(
        100 * rounds[0]["teacher_accuracy"], color="tab:green", linestyle="--", linewidth=1, label="teacher alone"
    )
    for r in rounds[1:]:
        d = r["distill"]
        if d["status"] == "skipped":
            text = "skipped:\ntoo few fallbacks"
        elif d["status"] == "kept":
            text = "not promoted"
        else:
            continue
        ax.annotate(text, (r["round"], 50), ha="right", va="center", rotation=90, fontsize=8, color="tab:orange")
        ax.axvline(r["round"], color="tab:orange", linestyle=":", linewidth=1)
    ax.set_xticks(x, [r["label"] for r in rounds])
    ax.set_xlabel("days of use, each followed by `apprentice distill`")
    ax.set_ylabel("% of test queries (95% bands)")
    ax.set_ylim(0, 108)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, fontsize=8, frameon=False)
    ax.set_title(title(result), fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
