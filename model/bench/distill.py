"""`apprentice bench distill`: the flywheel end to end, offline, in a home of its own.

    apprentice bench distill [--train FILE] [--test FILE] [--json] [--plot FILE.png] [--quick] [--rationales]
    apprentice bench distill --rounds N …      the same over N days of use (model/bench/rounds.py)

It never touches the user's log or active student: everything happens in a temporary
APPRENTICE_HOME (your config.toml is copied in, so the router's thresholds are yours), with
the default student (the one pulled in your home, read only, else pulled from the cache) and
a fake Gemini on loopback that answers every query from its line: the `answer` when the line
has one (a sentence, as a real teacher says it: "17 + 25 = 42."), else the `reference`. Every
line's answer passes the line's own check against its reference: the teacher is right by
construction. (Terse teacher answers, "42", measured worse as training data: the student lost
the lead-in it computes and recalls with, and forgot facts it knew.)

Both the collection and the measurement go through the real `Assistant.answer` in auto mode
(the router, the cascade with the active version's own line, redaction, the teacher through
google-genai), with two things off: sentence templates (`fast_path`), which answer timers and
conversions with no model at all while this benchmark measures the student and the teacher, and
the ringer process (a timer a model sets would
otherwise leave one running in a home that is removed).

1. Collect: every train query is asked as a user asks it: the router decides, fallbacks are
   logged and judged exactly as for a user.
2. Before: every test query is asked again the same way, unlogged, with the router's memory as
   phase 1 left it (frozen, so the test set teaches nothing); `measure` reads off each answer
   what happened (route, score, the cascade's confidence and verdict, the teacher's answer)
   and gets the student-alone and teacher-alone answers from the same run where it gave them,
   else from the real path forced one way (/local, /cloud).
3. `apprentice distill`, excluding the test file, scoring held-out queries with the train
   file's checks.
4. After: the test queries again, with whatever is active now and its re-judged memory.

Measures (each with a 95% bootstrap interval over test queries): the student's accuracy alone;
the routed system's accuracy and teacher share at the configured thresholds, as the real path
answered and routed; always-teacher accuracy. The curve of routed accuracy over teacher share
is an analysis of those recorded outcomes, computed offline: queries sent to the teacher in
order of the router's recorded score, the student's recorded confidence breaking ties, each
query counted right as its real student-alone or teacher-alone answer was (every threshold
there is, without asking again). From it: CPT(95%) = the least teacher share whose routed
accuracy reaches 95% of the teacher's, and APGR = the area under the curve of the performance
gap recovered, (routed − student) / (teacher − student), as in RouteLLM. Per-family numbers and
wall time too.

Action lines ({"query", "call", "family"}, model/bench/checks.py's `call` check) are right when
the call made (by the student, or the teacher's functionCall, run here) is the line's call, or when
the answer's text holds what running the line's call shows (run once, in the benchmark's home, at
a fixed clock). Lines in the text format are checked against the text shown, as before: for an
action, its rendered answer. Each action family also reports the share of valid student calls.

Sizes: the shipped text families hold 17 train and 10 test queries per family (102 and 60), the
action families 120 train and 60 test lines (assets/bench/make_tasks.py); answers are
cut at 40 tokens (a tool call begun within them is read to its end, as for a user). On the README's
2-core machine the default run took 2.5 minutes with the default 4-bit student (5 to 8.5 with
float32 weights or other work loading the machine), within the 15 minutes it is sized for.
`--quick` takes 3 train and 2 test queries per family: with a tiny model, seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant import blas, config
from assistant.errors import ApprenticeError, BadInput
from assistant.plotting import pyplot

QUICK_TRAIN, QUICK_TEST = 3, 2
BOOTSTRAP = 1000
FAKE_KEY = "bench-fake-gemini-key"


def parser() -> argparse.ArgumentParser:
    shipped = config.assets_dir() / "bench"
    p = argparse.ArgumentParser(
        prog="apprentice bench distill",
        description="Does distillation lower the teacher share at equal accuracy? Measured offline.",
    )
    p.add_argument(
        "--train", type=Path, default=shipped / "train.jsonl", help="train queries (JSONL; default: the shipped file)"
    )
    p.add_argument(
        "--test", type=Path, default=shipped / "test.jsonl", help="test queries (JSONL; default: the shipped file)"
    )
    p.add_argument(
        "--also-test",
        type=Path,
        action="append",
        metavar="FILE",
        help="with --rounds: another test set, measured beside --test after each day and never trained on; "
        "once per file (default with the shipped --test: test_fresh7.jsonl, the shipped fresh phrasings "
        "never tuned on; test_fresh.jsonl to test_fresh6.jsonl were read to write checks)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--plot", type=Path, metavar="FILE.png", help="draw the routing curve and the before/after bars")
    p.add_argument("--quick", action="store_true", help=f"{QUICK_TRAIN} train and {QUICK_TEST} test queries per family")
    p.add_argument(
        "--rounds",
        type=int,
        metavar="N",
        help="simulate N days of use, each followed by `apprentice distill`; measure before the first and after each",
    )
    p.add_argument("--rationales", action="store_true", help="distill with the teacher's rationales (a second task)")
    p.add_argument(
        "--student", type=Path, metavar="PATH", help="an mlx-lm checkpoint to start from (default: the default student)"
    )
    p.add_argument("--max-tokens", type=int, default=40, help="longest answer, in tokens (default 40)")
    p.add_argument("--rejudge-seconds", type=float, default=150.0, help="time allowed to re-judge the router's memory")
    p.add_argument(
        "--distill-arg",
        action="append",
        default=[],
        metavar="=--FLAG=VALUE",
        help="pass a flag to `apprentice distill` (e.g. --distill-arg=--learning-rate=2e-4)",
    )
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("--keep", action="store_true", help="keep the benchmark's home folder and say where")
    p.add_argument(
        "--resume",
        type=Path,
        metavar="HOME",
        help="with --rounds: go on with a run that was stopped, from the last round it finished, in the home "
        "it kept (--keep says where); give the files and flags it was started with",
    )
    p.add_argument("--progress", choices=["rich", "jsonl", "none"], default="rich")
    return p


def take_quick(rows: list[dict], per_family: int) -> list[dict]:
    counts: dict[str, int] = {}
    out = []
    for row in rows:
        if counts.get(row["family"], 0) < per_family:
            counts[row["family"]] = counts.get(row["family"], 0) + 1
            out.append(row)
    return out


@contextlib.contextmanager
def environment(values: dict[str, str]):
    """Set environment variables for the benchmark, and put back what was there."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def default_checkpoint(say) -> tuple[Path | None, str]:
    """The default student pulled in the user's home (used read only), or None to pull one."""
    from assistant.models import registry

    try:
        version = registry.get("base")
    except ApprenticeError:
        return None, ""
    if (version.path / "config.json").exists():
        return version.path, version.source
    return None, ""


def install_student(path: Path | None, say) -> str:
    """Register the student in the benchmark's home and make it active; returns its name."""
    from assistant.models import pull, registry

    if path is None:
        return pull.pull(say=say).name
    staging = registry.staging_folder("base")
    version = registry.new_version(
        "base", source=str(path), bits=registry.checkpoint_bits(path), external_path=str(path)
    )
    registry.register(staging, version, make_active=True)
    return version.name


# -- measuring ------------------------------------------------------------------------------------------


def measure(assistant, rows: list[dict], teacher_answers: dict[str, str], progress, label: str) -> list[dict]:
    """Each test query asked as a user in auto mode asks it, through the real `Assistant.answer`,
    and what happened read off the answer: the router's score, the cascade's confidence and
    verdict, whether the teacher answered, and the text shown.

    The same query's student-alone and teacher-alone answers come from the same run where it
    gave them (the cascade's unshown answer; the teacher's, when it was asked), else from the
    real path forced one way (`force="local"` or `"cloud"`, as /local and /cloud do). The
    teacher's answer is asked once per query and reused after distillation (the fake answers
    from its table). Nothing is learned: the queries are asked with `log=False` (what leaves is
    recorded, as with --no-log, and never trained on) and the outcomes the cascade judged are
    removed after each query, so the router's memory stays as phase 1 or the distillation left it.
    """
    from assistant.core import callable_call, made_call
    from model.bench.checks import check

    store = assistant.store
    frozen = _last_outcome(store)
    task = progress.task(label, len(rows))
    out = []
    for row in rows:
        q = row["query"]
        routed = _ask(assistant, q)
        cascade = routed.cascade
        # An action line checks the call made and the text shown; a line in the text format, the
        # text shown (an action's rendered answer), as before.
        said = _said if row["check"] == "call" else (lambda a: a.text.strip())
        student_response = None
        if cascade is not None and not made_call(cascade.response):
            student_text, confidence = cascade.text.strip(), cascade.confidence  # its answer, unshown or shown
        elif routed.decision.route == "local" and routed.teacher is None and routed.response is not None:
            student_text, confidence = said(routed), routed.response.confidence  # the router trusted it
            student_response = routed.response
        else:
            alone = _ask(assistant, q, force="local")
            student_text, student_response = said(alone), alone.response
            confidence = alone.response.confidence if alone.response is not None else None
        if routed.teacher is not None and routed.teacher.ok:
            teacher_answers[q] = said(routed)
        elif q not in teacher_answers:
            teacher_answers[q] = said(_ask(assistant, q, force="cloud"))
        _forget_since(store, frozen)
        kw = dict(
            tolerance=row.get("tolerance"),
            threshold=row.get("threshold"),
            embedder=assistant.embedder,
            executed=row.get("executed"),
        )
        to_teacher = routed.decision.route == "cloud"
        routed_text = said(routed)
        made = student_response is not None and made_call(student_response)
        out.append(
            {
                "query": q,
                "family": row["family"],
                "check": row["check"],
                "route": "cascade" if cascade is not None else routed.decision.route,  # the router's own
                "score": routed.decision.score,
                "reason": routed.decision.reason,
                "confidence": None if confidence is None or not np.isfinite(confidence) else round(confidence, 3),
                "student_answer": student_text,
                "answer": routed_text,
                "student_right": check(student_text, row["reference"], row["check"], **kw),
                "teacher_right": check(teacher_answers[q], row["reference"], row["check"], **kw),
                "to_teacher": to_teacher,
                "routed_right": check(routed_text, row["reference"], row["check"], **kw),
                "student_called": made,  # the student chose a tool
                "student_valid_call": made and callable_call(student_response),  # ... and its call validates
                # what the cascade checks besides the line: its call can stand, its sentence is not shown false
                "stands": None if cascade is None else cascade.call_doubt is None and cascade.words_doubt is None,
                # the share of answers asked again that named what its sentence did (assistant/said_again.py)
                "said_again": None if cascade is None else cascade.said_again,
            }
        )
        task.advance()
    return out


def _said(answer) -> str:
    """An answer as the `call` check reads it: the call it ran, canonical, then the text shown."""
    from assistant.tools.calls import format_call

    call = answer.action.call if answer.action is not None else None
    text = answer.text.strip()
    return f"{format_call(call)}\n{text}" if call is not None else text


# Tools whose call does something (sets, saves): words alone cannot be right, as nothing was done, and
# their rendered text repeats the query ("Noted: the boiler code is 4312"), so only the call counts.
ACTING_TOOLS = frozenset({"timer", "alarm", "reminder", "note"})


def executed_references(rows: list[dict], home: Path) -> None:
    """For each action line, `executed`: what running its reference call shows, in the benchmark's
    own home (a store of its own, so nothing set here rings or shows as missed) at a fixed clock."""
    import datetime as dt

    from assistant import tools
    from assistant.store import Store

    store = Store(home / "reference-calls.sqlite")
    now = dt.datetime(2026, 6, 15, 9, 30, tzinfo=dt.UTC)
    try:
        for row in rows:
            if row["check"] != "call" or "call" not in row or row["call"]["name"] in ACTING_TOOLS:
                continue
            try:
                result = tools.run(row["call"]["name"], row["call"].get("arguments", {}), tools.ToolContext(store, now))
            except tools.ToolError:
                continue  # a reference that would not run: only the call itself can be right
            row["executed"] = result.text
    finally:
        store.db.conn.close()


def _ask(assistant, query: str, force: str | None = None):
    """One query through the real path, in auto mode, unlogged; the finished Answer."""
    answer = assistant.answer(query, source="bench", mode="auto", log=False, force=force)
    for _ in answer:
        pass
    return answer


def _last_outcome(store) -> int:
    return store.db.execute("SELECT COALESCE(MAX(id), 0) FROM outcomes").fetchone()[0]


def _forget_since(store, last_id: int) -> None:
    """Remove the outcomes judged after `last_id`: a measurement must not teach the router."""
    with store.db.conn:
        store.db.execute("DELETE FROM outcomes WHERE id > ?", [last_id])


def curve(score, confidence, student_right, teacher_right) -> tuple[np.ndarray, np.ndarray]:
    """Routed accuracy after sending the k most doubtful queries to the teacher, k = 0…n:
    (shares, accuracies), each of length n+1. Doubt: the router's score, then low confidence."""
    n = len(score)
    conf = np.where(np.isfinite(confidence), confidence, -1e9)
    order = np.lexsort((conf, -score))  # last key is primary: highest score first, least confident first
    s, t = student_right[order].astype(float), teacher_right[order].astype(float)
    to_teacher = np.concatenate([[0.0], np.cumsum(t)])
    kept_student = np.concatenate([[s.sum()], s.sum() - np.cumsum(s)])
    return np.arange(n + 1) / n, (to_teacher + kept_student) / n


def cpt(shares, accs, teacher_acc: float, level: float = 0.95) -> float:
    reached = np.nonzero(accs >= level * teacher_acc - 1e-12)[0]
    return float(shares[reached[0]]) if len(reached) else 1.0


def apgr(shares, accs, student_acc: float, teacher_acc: float) -> float | None:
    gap = teacher_acc - student_acc
    if gap <= 1e-12:
        return None  # the student is as good as the teacher: no gap to recover
    pgr = (accs - student_acc) / gap
    return float(np.sum((pgr[1:] + pgr[:-1]) / 2 * np.diff(shares)))


def phase_metrics(records: list[dict], idx=None) -> dict:
    idx = np.arange(len(records)) if idx is None else idx
    pick = [records[i] for i in idx]

    def arr(k):
        return np.array([r[k] for r in pick], dtype=float)

    score = np.array([r["score"] if r["score"] is not None else 0.5 for r in pick], dtype=float)
    conf = np.array([r["confidence"] if r["confidence"] is not None else -np.inf for r in pick], dtype=float)
    s, t = arr("student_right"), arr("teacher_right")
    shares, accs = curve(score, conf, s, t)
    student_acc, teacher_acc = float(s.mean()), float(t.mean())
    return {
        "student_accuracy": student_acc,
        "teacher_accuracy": teacher_acc,
        "routed_accuracy": float(arr("routed_right").mean()),
        "teacher_share": float(arr("to_teacher").mean()),
        "cpt95": cpt(shares, accs, teacher_acc),
        "apgr": apgr(shares, accs, student_acc, teacher_acc),
        "curve": (shares, accs),
    }


def bootstrap(before: list[dict], after: list[dict], seed: int) -> dict:
    """95% intervals of each metric, and of after − before, resampling test queries (paired)."""
    rng = np.random.default_rng(seed)
    n = len(before)
    names = ("student_accuracy", "routed_accuracy", "teacher_share", "cpt95", "apgr")
    samples = {f"{k}.{p}": [] for k in names for p in ("before", "after", "delta")}
    samples["teacher_accuracy"] = []
    for _ in range(BOOTSTRAP):
        idx = rng.integers(0, n, n)
        b, a = phase_metrics(before, idx), phase_metrics(after, idx)
        samples["teacher_accuracy"].append(b["teacher_accuracy"])
        for k in names:
            if b[k] is None or a[k] is None:
                continue
            samples[f"{k}.before"].append(b[k])
            samples[f"{k}.after"].append(a[k])
            samples[f"{k}.delta"].append(a[k] - b[k])
    return {
        k: [round(float(np.percentile(v, 2.5)), 4), round(float(np.percentile(v, 97.5)), 4)] if v else None
        for k, v in samples.items()
    }


def families(before: list[dict], after: list[dict]) -> dict:
    out = {}
    for fam in sorted({r["family"] for r in before}):
        b = [r for r in before if r["family"] == fam]
        a = [r for r in after if r["family"] == fam]

        def mean(rows, k):
            return round(sum(r[k] for r in rows) / len(rows), 4)

        out[fam] = {
            "n": len(b),
            "student_accuracy": {"before": mean(b, "student_right"), "after": mean(a, "student_right")},
            "routed_accuracy": {"before": mean(b, "routed_right"), "after": mean(a, "routed_right")},
            "teacher_share": {"before": mean(b, "to_teacher"), "after": mean(a, "to_teacher")},
            "teacher_accuracy": mean(b, "teacher_right"),
        }
        if all(r["check"] == "call" for r in b):  # an action family: how often the student made a valid call
            out[fam]["student_valid_calls"] = {
                "before": mean(b, "student_valid_call"),
                "after": mean(a, "student_valid_call"),
            }
    return out


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {
        "system": f"{platform.system()} {platform.machine()}",
        "cpu": cpu,
        "cores": os.cpu_count(),
        "blas": blas.ensure(),
        "python": platform.python_version(),
        "load_average_at_end": load,
    }


# -- the run ------------------------------------------------------------------------------------------------


def read_sets(args: argparse.Namespace, notes: list[str]) -> tuple[list[dict], list[dict]]:
    """The train and test lines, train queries that are also test queries left out, cut for --quick."""
    from assistant.outcomes import query_key
    from model.dataset import read_tasks

    train, test = read_tasks(args.train), read_tasks(args.test)
    test_keys = {query_key(r["query"]) for r in test}
    overlap = [r for r in train if query_key(r["query"]) in test_keys]
    if overlap:
        notes.append(f"{len(overlap)} train queries are also in the test file; they were left out of training.")
        train = [r for r in train if query_key(r["query"]) not in test_keys]
    if args.quick:
        train, test = take_quick(train, QUICK_TRAIN), take_quick(test, QUICK_TEST)
    return train, test


@contextlib.contextmanager
def session(
    args: argparse.Namespace, progress, train: list[dict], test: list[dict], notes: list[str], home: Path | None = None
):
    """A home of the benchmark's own with the student active, a fake Gemini answering every line,
    and an `Assistant` in auto mode; yields (assistant, student source). Everything is removed on
    exit (kept with --keep), and the environment is put back. With `home`, a kept home a stopped run
    goes on in (`--resume`): its student is already active (the source is None), and it stays."""
    from assistant.dev.fake_gemini import FakeGemini

    user_config = config.home() / "config.toml"
    if args.student and not (args.student / "config.json").is_file():
        raise BadInput(
            f"{args.student} is not an mlx-lm checkpoint (it holds no config.json); give --student a model's "
            "folder, such as a version's path in `apprentice model list --json`."
        )
    kept = home is not None
    if kept:
        checkpoint, source = None, None
    else:
        checkpoint, source = (args.student, str(args.student)) if args.student else default_checkpoint(progress.say)
        home = Path(tempfile.mkdtemp(prefix="apprentice-bench-"))
        if user_config.exists():
            shutil.copy(user_config, home / "config.toml")
    if args.keep and not kept:
        progress.say(f"the benchmark's home: {home}")
    fake = FakeGemini(answers=train + test)
    fake.start()
    env = {
        "APPRENTICE_HOME": str(home),
        "GEMINI_API_KEY": FAKE_KEY,
        "GOOGLE_GEMINI_BASE_URL": fake.url,
        "APPRENTICE_MODE": "auto",
        "APPRENTICE_MAX_TOKENS": str(args.max_tokens),
        "APPRENTICE_TEACHER_DAILY_CAP": "1000000",
        # Sentence templates answer timers and conversions with no model at all: this benchmark
        # measures the student and the teacher.
        "APPRENTICE_FAST_PATH": "0",
        "APPRENTICE_RINGER": "off",  # a timer a model sets must not leave a process behind in a removed home
    }
    assistant = None
    try:
        with environment(env):
            from assistant.core import Assistant

            if not kept:
                install_student(checkpoint, progress.say)
            assistant = Assistant(config.load())
            assistant.embedder.start()
            executed_references(test, home)
            yield assistant, source
    finally:
        if assistant is not None:
            assistant.close()  # the student frees its arrays on its own thread (see Student._run)
            assistant = None
            gc.collect()
        fake.stop()
        if args.keep or kept:
            notes.append(f"The benchmark's home is kept at {home}.")
        else:
            shutil.rmtree(home, ignore_errors=True)


def collect(assistant, rows: list[dict], progress, label: str) -> dict:
    """Each query asked as a user asks it in auto mode, logged: the router decides, and the
    fallbacks are logged and judged exactly as for a user (they become training examples, and
    the router's memory grows)."""
    task = progress.task(label, len(rows))
    routes = []
    for row in rows:
        ans = assistant.answer(row["query"], source="bench", mode="auto")
        for _ in ans:
            pass
        routes.append(ans.decision.route)
        task.advance()
    return {
        "queries": len(rows),
        "teacher_share": round(routes.count("cloud") / max(1, len(rows)), 4),
        "examples": len(assistant.store.examples(limit=None)),
    }


def distill_argv(args: argparse.Namespace) -> list[str]:
    """`apprentice distill`'s flags for a run inside the benchmark: the test file kept out, the
    train file's checks scoring held-out queries, and the user's --distill-arg flags last (they win)."""
    argv = ["--exclude", str(args.test), "--references", str(args.train)]
    argv += ["--rejudge-seconds", str(args.rejudge_seconds)]
    if args.quick:
        argv += ["--min-examples", "4"]
    if args.rationales:
        argv += ["--rationales"]
    return argv + args.distill_arg


def run(args: argparse.Namespace, progress) -> dict:
    from model import distill

    if args.also_test is not None:
        raise BadInput(
            "--also-test is measured after each day of --rounds; add --rounds 3, "
            "or measure that file alone with --test."
        )
    if args.resume is not None:
        raise BadInput("--resume goes on with a run of --rounds; add the --rounds it was started with.")
    started = time.monotonic()
    notes: list[str] = []
    train, test = read_sets(args, notes)
    times: dict[str, float] = {}
    tick = time.monotonic()
    with session(args, progress, train, test, notes) as (assistant, source):
        settings = assistant.settings
        times["setup"] = time.monotonic() - tick

        tick = time.monotonic()
        collected = collect(assistant, train, progress, "1 collect (train)")
        times["collect"] = time.monotonic() - tick

        tick = time.monotonic()
        teacher_answers: dict[str, str] = {}
        before = measure(assistant, test, teacher_answers, progress, "2 test before")
        cascade_lines = {"before": assistant.cascade_line()}
        times["test_before"] = time.monotonic() - tick

        tick = time.monotonic()
        distilled = distill.run(distill.parser().parse_args(distill_argv(args)), progress)
        times["distill"] = time.monotonic() - tick
        if distilled["status"] == "too_few":
            raise ApprenticeError(
                f"Phase 1 logged {distilled['dataset']['examples']} usable examples; distillation needs "
                f"{distilled['min_examples']}. Use a larger --train file."
            )

        tick = time.monotonic()
        if distilled["promoted"]:
            after = measure(assistant, test, teacher_answers, progress, "4 test after")
            cascade_lines["after"] = assistant.cascade_line()
            calibrations = compare_calibrations(after, active_folder(), settings)
        else:
            notes.append(
                f"{distilled['version']} was not promoted ({distilled['reason']}); "
                "after distillation the system is the one before."
            )
            after, cascade_lines["after"] = before, cascade_lines["before"]
            calibrations = None
        times["test_after"] = time.monotonic() - tick

    b, a = phase_metrics(before), phase_metrics(after)
    ci = bootstrap(before, after, args.seed)

    def pair(k):
        return {
            "before": _r(b[k]),
            "after": _r(a[k]),
            "before_ci": ci[f"{k}.before"],
            "after_ci": ci[f"{k}.after"],
            "delta_ci": ci[f"{k}.delta"],
        }

    result = {
        "student_accuracy": pair("student_accuracy"),
        "teacher_share": pair("teacher_share"),
        "routed_accuracy": pair("routed_accuracy"),
        "teacher_accuracy": _r(b["teacher_accuracy"]),
        "teacher_accuracy_ci": ci["teacher_accuracy"],
        "always_student_accuracy": {"before": _r(b["student_accuracy"]), "after": _r(a["student_accuracy"])},
        "always_teacher_accuracy": _r(b["teacher_accuracy"]),
        "cpt95": pair("cpt95"),
        "apgr": pair("apgr"),
        "curve": {"before": _points(b["curve"]), "after": _points(a["curve"])},
        "families": families(before, after),
        "calibrations": calibrations,
        "collection": collected,
        "distill": {
            k: distilled.get(k)
            for k in (
                "version",
                "promoted",
                "reason",
                "dataset",
                "training",
                "metrics",
                "cascade",
                "rejudged",
                "seconds",
            )
        },
        "sizes": {"train": len(train), "test": len(test), "quick": args.quick},
        "settings": {
            "student": source or "pulled default student",
            "max_tokens": settings.max_tokens,
            "router_cloud_threshold": settings.router_cloud_threshold,
            "router_local_threshold": settings.router_local_threshold,
            "cascade_min_logprob": cascade_lines,
            "fast_path": settings.fast_path,
            "rationales": args.rationales,
            "distill_args": args.distill_arg,
        },
        "queries": {"before": before, "after": after if after is not before else "same as before"},
        "machine": machine(),
        "phase_s": {k: round(v, 1) for k, v in times.items()},
        "wall_s": round(time.monotonic() - started, 1),
        "notes": notes + distilled.get("notes", []),
    }
    if args.plot:
        plot(result, args.plot)
    return result


def _r(x):
    return None if x is None else round(float(x), 4)


def active_folder() -> Path | None:
    from assistant.models import registry

    return registry.active().folder


def routed_with_lines(records: list[dict], text_line: float, call_line: float) -> dict:
    """Teacher share and routed accuracy had the cascade drawn these lines: the router's own routes
    stay, and a cascade query keeps the student's answer when it is as sure as its kind's line and it
    stands (its call can stand, its sentence is not shown false; a record from before `stands` was
    kept: its call validates). Greedy answers make this exact: nothing else would change."""
    sent = right = 0
    for r in records:
        to_teacher = r["to_teacher"]
        if r["route"] == "cascade":
            line = call_line if r["student_called"] else text_line
            sure = r["confidence"] is not None and r["confidence"] >= line
            stands = r.get("stands")
            if stands is None:
                stands = r["student_valid_call"] or not r["student_called"]
            to_teacher = not (sure and stands)
        sent += to_teacher
        right += r["teacher_right"] if to_teacher else r["student_right"]
    n = len(records) or 1
    return {"teacher_share": round(sent / n, 4), "routed_accuracy": round(right / n, 4)}


def compare_calibrations(records: list[dict], folder: Path | None, settings) -> dict | None:
    """Each way of drawing the distilled version's lines (model/distill/calibration.py), from the answers
    it gave the gate, and what each would have done on the test queries just measured."""
    from assistant.models import registry
    from assistant.student import base_words
    from model.distill import calibration

    pts = calibration.load(folder) if folder is not None else []
    if not pts:
        return None
    words = settings.student_words_from_base and base_words(folder)
    configured = settings.cascade_min_logprob
    if words and (base := registry.base_of(registry.active())) is not None:
        configured = base.cascade_min_logprob(configured)  # the line of the student whose words they are
    out = {}
    for method in calibration.METHODS:
        lines = calibration.draw(pts, method=method, precision=settings.cascade_precision, risk=settings.cascade_risk)
        text = registry.cascade_line(lines, configured, "text", base_words=words)
        out[method] = {**lines, **routed_with_lines(records, text, lines["call_min_logprob"])}
    return out


def _points(c) -> list[list[float]]:
    shares, accs = c
    return [[round(float(s), 4), round(float(a), 4)] for s, a in zip(shares, accs)]


# -- output ----------------------------------------------------------------------------------------------------


def table(result: dict) -> str:
    def pct(x):
        return "   –" if x is None else f"{100 * x:4.0f}%"

    def ci(v):
        return "" if not v else f"  [{100 * v[0]:.0f}, {100 * v[1]:.0f}]"

    lines = [f"{'':28} {'before':>8} {'after':>8}   95% CI of after − before"]
    for name, label in (
        ("student_accuracy", "student alone: accuracy"),
        ("routed_accuracy", "routed: accuracy"),
        ("teacher_share", "routed: teacher share"),
        ("cpt95", "CPT(95%): teacher share"),
        ("apgr", "APGR"),
    ):
        m = result[name]
        lines.append(f"{label:28} {pct(m['before']):>8} {pct(m['after']):>8}  {ci(m['delta_ci'])}")
    lines.append(f"{'teacher alone: accuracy':28} {pct(result['teacher_accuracy']):>8}")
    lines.append("")
    lines.append(f"{'family':12} {'n':>3}  {'student':>13}  {'routed':>13}  {'teacher share':>13}  {'valid calls':>13}")
    for fam, f in result["families"].items():

        def arrow(d):
            return f"{pct(d['before']).strip():>5}→{pct(d['after']).strip():<5}"

        lines.append(
            f"{fam:12} {f['n']:>3}  {arrow(f['student_accuracy']):>13}  {arrow(f['routed_accuracy']):>13}  "
            f"{arrow(f['teacher_share']):>13}"
            + (f"  {arrow(f['student_valid_calls']):>13}" if "student_valid_calls" in f else "")
        )
    d = result["distill"]
    lines.append("")
    lines.append(f"distilled {d['version']}: {'promoted' if d['promoted'] else 'not promoted'} ({d['reason']})")
    for method, c in (result.get("calibrations") or {}).items():
        lines.append(
            f"  lines drawn by {method:9}: text {c['min_logprob']:.2f}, call {c['call_min_logprob']:.2f} "
            f"(kept {c['kept']} of {c['n']}, {c['kept_wrong']} wrong) → teacher share "
            f"{pct(c['teacher_share']).strip()}, routed {pct(c['routed_accuracy']).strip()}"
        )
    lines.append(
        f"train {result['sizes']['train']} / test {result['sizes']['test']} queries; collection sent "
        f"{100 * result['collection']['teacher_share']:.0f}% to the teacher; wall time {result['wall_s']:.0f} s "
        f"({', '.join(f'{k} {v:.0f} s' for k, v in result['phase_s'].items())})"
    )
    return "\n".join(lines)


def plot(result: dict, path: Path) -> None:
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    teacher = result["teacher_accuracy"]
    for phase, color in (("before", "tab:gray"), ("after", "tab:blue")):
        pts = np.array(result["curve"][phase])
        left.plot(100 * pts[:, 0], 100 * pts[:, 1], color=color, label=f"{phase} distillation")
        left.scatter(
            [100 * result["teacher_share"][phase]],
            [100 * result["routed_accuracy"][phase]],
            color=color,
            zorder=3,
            marker="o",
            s=40,
        )
        c = result["cpt95"][phase]
        left.axvline(100 * c, color=color, linestyle=":", linewidth=1)
    left.axhline(100 * teacher, color="tab:green", linestyle="--", linewidth=1, label="always teacher")
    left.axhline(95 * teacher, color="tab:green", linestyle=":", linewidth=1, label="95% of teacher (CPT line)")
    left.set_xlabel("queries sent to the teacher (%)")
    left.set_ylabel("routed accuracy (%)")
    left.set_title("Routing curve (dots: configured thresholds)")
    left.legend(loc="lower right", fontsize=8)
    left.set_xlim(0, 100)
    left.set_ylim(0, 105)
    names = [
        ("student_accuracy", "student\naccuracy"),
        ("routed_accuracy", "routed\naccuracy"),
        ("teacher_share", "teacher\nshare"),
        ("cpt95", "CPT(95%)"),
    ]
    x = np.arange(len(names))
    for offset, phase, color in ((-0.2, "before", "tab:gray"), (0.2, "after", "tab:blue")):
        values = [100 * (result[k][phase] or 0) for k, _ in names]
        cis = [result[k][f"{phase}_ci"] or [result[k][phase] or 0] * 2 for k, _ in names]
        err = np.array([[max(0.0, v - 100 * c[0]), max(0.0, 100 * c[1] - v)] for v, c in zip(values, cis)]).T
        right.bar(x + offset, values, width=0.4, color=color, label=f"{phase}", yerr=err, capsize=3)
    right.set_xticks(x, [label for _, label in names])
    right.set_ylabel("%")
    right.set_ylim(0, 105)
    right.set_title("Before and after distillation (95% CI)")
    right.legend(fontsize=8)
    m = result["machine"]
    fig.suptitle(
        f"apprentice bench distill: {result['sizes']['train']} train / {result['sizes']['test']} test queries, "
        f"{m['cores']} cores ({m['cpu']}), {result['wall_s']:.0f} s",
        fontsize=9,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = parser().parse_args(argv)
    blas.ensure()
    if args.rounds is not None:
        from model.bench import rounds

        return report(args, rounds.run, rounds.table)
    return report(args, run, table)


def report(args: argparse.Namespace, run_it, text_of) -> int:
    """Run a benchmark that works in a home of its own, with its progress shown, and print its
    result (`--json`, or `text_of` it) and its notes: the exit status of a `bench` command."""
    from model.distill.progress import Progress

    progress = Progress.for_flags(args.progress, args.json)
    try:
        with progress:
            result = run_it(args, progress)
    except KeyboardInterrupt:
        if getattr(args, "keep", False) or getattr(args, "resume", None):
            print(
                "\nInterrupted; the benchmark's home is kept (its path is above). With --rounds, go on from the "
                "last round it finished with --resume HOME. Nothing of yours was touched.",
                file=sys.stderr,
            )
        else:
            print("\nInterrupted; the benchmark's home was removed. Nothing of yours was touched.", file=sys.stderr)
        return 130
    except ApprenticeError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return exc.exit_code
    for note in result["notes"]:
        print(f"note: {note}", file=sys.stderr)
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.json else text_of(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
