"""`apprentice bench distill`: answer checks, the routing curve's numbers, the task files, a quick
end-to-end run with the tiny model, and a quick run of `--rounds` (days of use, each distilled)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from assistant import config
from assistant.errors import BadInput
from model.bench import checks, rounds
from model.bench import distill as bench
from model.dataset import read_tasks

TEXT_FAMILIES = {"device", "conversion", "dates", "arithmetic", "facts", "fresh"}
ACTION_FAMILIES = {"timer", "alarm", "reminder", "clock", "calculate", "convert", "note"}
TIMER_10 = '<tool_call>{"name": "timer", "arguments": {"minutes": 10}}</tool_call>'


def test_checks_judge_answers_as_documented():
    assert checks.check("Tuesday.", "tuesday", "exact") and not checks.check("It is Tuesday", "Tuesday", "exact")
    assert checks.check("The day after Monday is Tuesday.", "Tuesday", "contains")
    assert checks.check("5 km is about 3.1 miles", "3.11 miles", "number")  # within 1%
    assert not checks.check("5 km is 3 miles", "3.11 miles", "number")
    assert checks.check("1,000 grams", "1000", "number")
    assert checks.check(
        '```json\n{"intent": "timer", "minutes": 10}\n```', '{"minutes": 10, "intent": "Timer"}', "json"
    )
    assert not checks.check('{"intent": "timer", "minutes": 11}', '{"intent": "timer", "minutes": 10}', "json")
    assert not checks.check("Sure! I set a timer.", '{"intent": "timer", "minutes": 10}', "json")
    assert checks.check(
        "Jupiter is the biggest planet of the solar system.",
        "Jupiter is the largest planet in the solar system.",
        "similar",
    )
    assert not checks.check("I like turtles.", "Jupiter is the largest planet in the solar system.", "similar")
    assert (checks.infer('{"a": 1}'), checks.infer("42"), checks.infer("Paris")) == ("json", "number", None)


def test_the_call_check_compares_calls_or_finds_what_the_call_shows():
    # the same call, however written: a string number, the default action, the time split otherwise
    assert checks.check(
        '<tool_call>{"name": "timer", "arguments": {"minutes": "10", "action": "set"}}', TIMER_10, "call"
    )
    assert checks.check(
        '<tool_call>{"name": "timer", "arguments": {"seconds": 600}}</tool_call>\nTimer set for 10 minutes.',
        TIMER_10,
        "call",
    )
    assert not checks.check('<tool_call>{"name": "timer", "arguments": {"minutes": 11}}</tool_call>', TIMER_10, "call")
    assert not checks.check('<tool_call>{"name": "alarm", "arguments": {"time": "10"}}</tool_call>', TIMER_10, "call")
    # words alone are wrong, unless they say what running the reference call shows
    assert not checks.check("Set a timer for 10 minutes.", TIMER_10, "call")
    multiply = '<tool_call>{"name": "calculate", "arguments": {"expression": "17 * 23"}}</tool_call>'
    assert checks.check("17 × 23 = 391", multiply, "call", executed="17 × 23 = 391")
    assert not checks.check("17 times 23 is 317.", multiply, "call", executed="17 × 23 = 391")
    assert not checks.check("", multiply, "call", executed="17 × 23 = 391")


def test_an_action_line_reads_as_a_call_reference_and_old_lines_are_unchanged(tmp_path):
    tasks = tmp_path / "tasks.jsonl"
    old = {"query": "What is 6 times 7?", "reference": "42", "check": "number", "family": "arithmetic"}
    action = {
        "query": "Pasta, ten minutes.",
        "call": {"name": "timer", "arguments": {"minutes": 10}},
        "family": "timer",
    }
    tasks.write_text(json.dumps(old) + "\n" + json.dumps(action) + "\n")
    first, second = read_tasks(tasks)
    assert first == old
    assert second["check"] == "call" and second["reference"] == TIMER_10 and second["call"] == action["call"]
    tasks.write_text('{"query": "Pasta, ten minutes.", "call": {"name": 5}, "family": "timer"}\n')
    with pytest.raises(BadInput, match="line 1"):
        read_tasks(tasks)


def test_curve_cpt95_and_apgr_follow_routellm():
    # 4 queries; the student gets the two the router trusts most right, the teacher all of them
    score = np.array([0.9, 0.8, 0.2, 0.1])
    conf = np.array([-1.0, -1.0, -0.1, -0.1])
    student = np.array([0, 0, 1, 1])
    teacher = np.array([1, 1, 1, 1])
    shares, accs = bench.curve(score, conf, student, teacher)
    assert list(shares) == [0, 0.25, 0.5, 0.75, 1.0] and list(accs) == [0.5, 0.75, 1.0, 1.0, 1.0]
    assert bench.cpt(shares, accs, 1.0) == 0.5  # half the queries to the teacher reach 95% of its accuracy
    assert bench.apgr(shares, accs, 0.5, 1.0) == pytest.approx(0.75)  # area under (acc - 0.5) / 0.5
    assert bench.apgr(shares, accs, 1.0, 1.0) is None  # no gap to recover


def _load_generator():
    path = config.assets_dir() / "bench" / "make_tasks.py"
    spec = importlib.util.spec_from_file_location("make_tasks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shipped_task_files_are_the_seeded_generator_output_and_disjoint(tmp_path):
    generator = _load_generator()
    generator.main(["--out", str(tmp_path)])
    shipped = config.assets_dir() / "bench"
    for name in ("train.jsonl", "test.jsonl"):
        assert (tmp_path / name).read_text() == (shipped / name).read_text()
    train, test = read_tasks(shipped / "train.jsonl"), read_tasks(shipped / "test.jsonl")
    fresh = read_tasks(shipped / "test_fresh.jsonl")
    train_keys = {generator.key(r["query"]) for r in train}
    assert not train_keys & {generator.key(r["query"]) for r in test + fresh}
    assert {r["family"] for r in test} == TEXT_FAMILIES | ACTION_FAMILIES
    assert {r["family"] for r in train} == TEXT_FAMILIES | ACTION_FAMILIES - {"note"}  # no teacher sees a note
    assert {r["family"] for r in fresh} == ACTION_FAMILIES | TEXT_FAMILIES - {"device"}  # timers are timer lines there
    for row in train + test + [r for r in fresh if "call" not in r]:  # the fake teacher is right by construction
        assert checks.check(row.get("answer", row["reference"]), row["reference"], row["check"])

    # train and test phrasings differ: no test phrasing is a train phrasing with other numbers
    def shape(query):
        return generator.key(re.sub(r"\d+(:\d+)?( ?[ap]m)?", "N", query))

    actions = {
        "train": [r for r in train if r["family"] in ACTION_FAMILIES],
        "test": [r for r in test if r["family"] in ACTION_FAMILIES],
    }
    assert len(actions["train"]) == 270 and len(actions["test"]) == 60
    assert all("call" in r for r in actions["train"] + actions["test"])
    # the device family's timers, alarms and reminders are calls too; its messages, which no tool sends, JSON
    device = [r for r in train + test if r["family"] == "device"]
    assert {r["call"]["name"] for r in device if "call" in r} == {"timer", "alarm", "reminder"}
    assert all(json.loads(r["reference"])["intent"] == "message" for r in device if "call" not in r)
    assert not {shape(r["query"]) for r in actions["train"]} & {shape(r["query"]) for r in actions["test"]}
    # every reference call runs, and shows a text an answer in words can be checked against
    fresh_actions = [r for r in fresh if "call" in r]
    bench.executed_references(actions["test"] + fresh_actions, tmp_path)
    for row in actions["test"] + fresh_actions:  # only what a call answers, not what it does, can be said in words
        assert bool(row.get("executed", "").strip()) == (row["call"]["name"] not in bench.ACTING_TOOLS), row


def test_a_bad_task_file_is_bad_input(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query": "hi", "reference": "hello", "check": "fuzzy", "family": "x"}\n')
    assert bench.main(["--test", str(bad), "--progress", "none"]) == 2
    assert "fuzzy" in capsys.readouterr().err
    # a second test set that is missing, or given without --rounds, is a sentence too
    missing = ["--rounds", "2", "--quick", "--also-test", str(tmp_path / "none.jsonl"), "--progress", "none"]
    assert bench.main(missing) == 2
    assert "Cannot read the task file" in capsys.readouterr().err
    assert bench.main(["--also-test", str(bad), "--progress", "none"]) == 2
    assert "--also-test is measured after each day of --rounds" in capsys.readouterr().err


def test_quick_bench_runs_end_to_end_in_its_own_home(home, tiny_checkpoint, tmp_path, capsys, monkeypatch):
    from tests.reliability import SocketGuard

    monkeypatch.setenv("APPRENTICE_MODE", "private")  # the user's mode: the bench's own fake teacher is on loopback
    guard = SocketGuard().install(monkeypatch)  # and nothing else is reached (tests/test_privacy_guard.py)
    plot = tmp_path / "bench.png"
    argv = [
        "--quick",
        "--student",
        str(tiny_checkpoint),
        "--json",
        "--progress",
        "none",
        "--distill-arg=--learning-rate=1e-3",
    ]
    has_matplotlib = importlib.util.find_spec("matplotlib") is not None
    if has_matplotlib:
        argv += ["--plot", str(plot)]

    code = bench.main(argv)

    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)
    for name in ("student_accuracy", "teacher_share", "routed_accuracy", "cpt95", "apgr"):
        assert {"before", "after", "before_ci", "after_ci", "delta_ci"} <= set(result[name])
    before = result["queries"]["before"]
    # the fake answers with the references, and with the call for an action; a note never leaves
    assert all(r["teacher_right"] for r in before if r["family"] != "note"), before
    assert 0 <= result["student_accuracy"]["before"] <= 1 and 0 <= result["teacher_share"]["after"] <= 1
    assert result["sizes"] == {"train": 36, "test": 26, "quick": True}
    assert set(result["families"]) == TEXT_FAMILIES | ACTION_FAMILIES
    for family in ACTION_FAMILIES:  # before and after, each action family says how often the student made a valid call
        assert set(result["families"][family]["student_valid_calls"]) == {"before", "after"}
    for family in TEXT_FAMILIES - {"device"}:  # device lines are calls and JSON intents both
        assert "student_valid_calls" not in result["families"][family]
    # a teacher's answer to an action line is its call, then the text its result rendered
    timers = [r for r in before if r["family"] == "timer" and r["to_teacher"]]
    assert timers and all(r["answer"].startswith('<tool_call>{"name": "timer"') for r in timers)
    assert result["families"]["fresh"]["teacher_share"]["before"] == 1.0  # live information goes to the teacher
    assert result["collection"]["examples"] > 0 and result["distill"]["version"] == "distill-1"
    assert len(result["curve"]["before"]) == 27 and result["wall_s"] > 0
    # measured on the real path: each routed answer is the student's or the teacher's, as the route says
    for r in result["queries"]["before"]:
        assert r["routed_right"] == (r["teacher_right"] if r["to_teacher"] else r["student_right"]), r
        assert isinstance(r["answer"], str) and r["reason"]
    fresh = [r for r in result["queries"]["before"] if r["family"] == "fresh"]
    assert all(r["to_teacher"] and "live information" in r["reason"] for r in fresh)
    assert result["settings"]["fast_path"] is False
    if result["distill"]["promoted"]:  # each way to draw the lines, replayed on the answers measured after
        after, drawn = result["queries"]["after"], result["distill"]["cascade"]
        assert set(result["calibrations"]) == {"risk", "precision"}
        assert result["calibrations"][drawn["method"]]["teacher_share"] == result["teacher_share"]["after"]
        # the text line the assistant used: a base student's words may stand by the configured one
        line = result["settings"]["cascade_min_logprob"]["after"]
        replayed = bench.routed_with_lines(after, line, drawn["call_min_logprob"])
        assert replayed["routed_accuracy"] == result["routed_accuracy"]["after"]
    assert not (home / "apprentice.db").exists() and not (home / "models").exists()  # the user's home untouched
    assert "GOOGLE_GEMINI_BASE_URL" not in os.environ
    if has_matplotlib:
        assert plot.read_bytes()[:4] == b"\x89PNG"
    assert guard.attempts and guard.outside == [], guard.outside  # the fake teacher was reached, nothing else


def test_rounds_deal_every_train_query_once_into_days_of_mixed_families():
    train = read_tasks(config.assets_dir() / "bench" / "train.jsonl")
    days = rounds.days(train, 3, seed=0)
    assert sorted(len(d) for d in days) == [124, 124, 124]
    assert sorted(r["query"] for d in days for r in d) == sorted(r["query"] for r in train)
    for day in days:  # a day of use is a mix, not one family after another
        assert len({r["family"] for r in day}) == len({r["family"] for r in train})


def test_too_many_rounds_for_the_train_queries_is_bad_input(tiny_checkpoint, capsys):
    argv = ["--rounds", "40", "--quick", "--student", str(tiny_checkpoint), "--progress", "none"]
    assert bench.main(argv) == 2
    assert "cannot fill 40 days" in capsys.readouterr().err


def test_quick_rounds_measure_every_day_and_say_when_one_was_skipped(
    home, learnable_checkpoint, tmp_path, capsys, monkeypatch
):
    # A cascade line no answer reaches: every day's queries go to the teacher and are logged, as
    # with a student that knows nothing yet. Day 1's fallbacks (18 queries, less the live ones)
    # are too few for 24 examples; with day 2's they are enough, so day 2 distills.
    monkeypatch.setenv("APPRENTICE_CASCADE_MIN_LOGPROB", "-0.0001")
    plot = tmp_path / "rounds.png"
    argv = ["--rounds", "2", "--quick", "--student", str(learnable_checkpoint), "--json", "--progress", "none"]
    argv += ["--distill-arg=--min-examples=24", "--distill-arg=--learning-rate=1e-3", "--plot", str(plot), "--keep"]

    code = bench.main(argv)

    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)
    before, day1, day2 = result["rounds"]
    assert [r["label"] for r in result["rounds"]] == ["before", "day 1", "day 2"]
    for r in result["rounds"]:  # every round's figures, each with its 95% interval
        for name in ("student_accuracy", "routed_accuracy", "teacher_share", "oracle_share", "teacher_share_drop"):
            assert 0 <= r[name] <= 1 or name == "teacher_share_drop", (name, r[name])
            low, high = r[f"{name}_ci"]
            assert low <= r[name] <= high, (name, r)
        assert r["oracle_share"] == pytest.approx(1 - r["student_accuracy"])  # the student's errors, no more
        assert len(r["queries"]) == result["sizes"]["test"] == 26
        # the fresh phrasings never tuned on (nor trained on), measured beside the test set every round
        sets = r["also_test"]
        assert [(a["file"], a["n"]) for a in sets] == [("test_fresh7.jsonl", 24)]
        for also in sets:
            assert 0 <= also["student_accuracy"] <= 1 and also["oracle_share"] == pytest.approx(
                1 - also["student_accuracy"]
            )
            # each fresh query's record, so a wrong answer kept on phrasings never seen can be read
            assert len(also["queries"]) == 24 and sum(f["n"] for f in also["families"].values()) == 24
            assert {"query", "route", "student_answer", "to_teacher", "routed_right"} <= set(also["queries"][0])
    assert before["distill"] is None and before["teacher_share_drop"] == 0
    assert result["sizes"]["days"] == [18, 18]
    assert day1["day"]["queries"] == 18 and day1["day"]["teacher_share"] == 1.0
    # day 1 had too few fallbacks: skipped, and said so in the report, the notes and the table
    assert day1["distill"]["status"] == "skipped" and "too few fallbacks" in day1["distill"]["reason"]
    assert day1["active"] == "base"
    assert any("Day 1 had too few fallbacks" in n for n in result["notes"])
    assert "skipped: too few fallbacks to train on" in rounds.table(result)
    assert "on test_fresh7.jsonl (24 queries, never trained on" in rounds.table(result)
    assert "day 1 of 2, test_fresh7.jsonl: student alone" in err and "day 2 of 2, test_fresh7.jsonl" in err
    assert "day 1 of 2: answering 18 queries" in err and "day 2 of 2: distilling" in err
    assert f"day 2 of 2: student alone {100 * day2['student_accuracy']:.0f}%, routed" in err  # figures as they come
    # day 2 distilled, and what distill decided is reported with its reason
    assert day2["distill"]["status"] in {"promoted", "kept"} and day2["distill"]["version"] == "distill-1"
    assert day2["distill"]["reason"] and day2["distill"]["examples"] >= 24
    assert day2["active"] == ("distill-1" if day2["distill"]["status"] == "promoted" else "base")
    assert set(result["goals"]) == {"1", "2"}
    assert plot.read_bytes()[:4] == b"\x89PNG"
    # the figures were saved as each round was measured: a run stopped later keeps them
    kept = Path(next(n for n in result["notes"] if "home is kept at" in n).rsplit(" at ", 1)[1].rstrip("."))
    saved = json.loads((kept / "rounds.json").read_text())
    assert [r["label"] for r in saved["rounds"]] == ["before", "day 1", "day 2"]
    assert saved["rounds"][2]["teacher_share"] == day2["teacher_share"] and saved["goals"] == result["goals"]
    shutil.rmtree(kept)
    assert not (home / "apprentice.db").exists() and not (home / "models").exists()  # the user's home untouched
    assert "GOOGLE_GEMINI_BASE_URL" not in os.environ


def test_a_stopped_rounds_run_goes_on_from_its_last_round_and_counts_nothing_twice(
    home, learnable_checkpoint, tmp_path, capsys, monkeypatch
):
    from model import distill

    monkeypatch.setenv("APPRENTICE_CASCADE_MIN_LOGPROB", "-0.0001")  # every day's queries go out and are logged
    argv = ["--rounds", "2", "--quick", "--student", str(learnable_checkpoint), "--json", "--progress", "none"]
    argv += ["--distill-arg=--min-examples=24", "--distill-arg=--learning-rate=1e-3"]
    real_distill, calls = distill.run, []

    def stopped_after_day_2s_distill(*a, **kw):
        calls.append(real_distill(*a, **kw))
        if len(calls) == 2:  # day 2 was answered and distilled; the run is stopped while it measures
            raise KeyboardInterrupt
        return calls[-1]

    monkeypatch.setattr(distill, "run", stopped_after_day_2s_distill)
    assert bench.main(argv + ["--keep"]) == 130
    err = capsys.readouterr().err
    assert "--resume HOME" in err
    kept = Path(re.search(r"the benchmark's home: (\S+)", err).group(1))
    assert [r["label"] for r in json.loads((kept / "rounds.json").read_text())["rounds"]] == ["before", "day 1"]
    stopped_day = calls[1]
    assert stopped_day["version"] == "distill-1" and (kept / "models" / "distill-1").is_dir()

    monkeypatch.setattr(distill, "run", real_distill)
    assert bench.main(argv + ["--resume", str(kept)]) == 0
    out, err = capsys.readouterr()
    result = json.loads(out)
    assert "going on after day 1 of 2" in err
    saved = json.loads((kept / "rounds.json").read_text())
    assert (
        [r["label"] for r in result["rounds"]] == ["before", "day 1", "day 2"] == [r["label"] for r in saved["rounds"]]
    )
    day2 = result["rounds"][2]
    # the stopped day's version was removed and its queries logged once: day 2 learns from what it did before
    assert day2["distill"]["version"] == "distill-1"
    assert day2["distill"]["examples"] == stopped_day["dataset"]["examples"]
    snapshot = json.loads((kept / "resume" / "round-2" / "figures.json").read_text())
    day2_queries = set(snapshot["identity"]["days"][1])
    assert set(snapshot["teacher_answers"]) >= set(snapshot["identity"]["test"])  # asked once, kept across a stop
    logged = sqlite3.connect(kept / "apprentice.db").execute("SELECT query FROM turns").fetchall()
    counts = [sum(q == row[0] for row in logged) for q in day2_queries]
    assert counts and set(counts) == {1}, counts
    assert set(result["goals"]) == {"1", "2"} and result["wall_s"] > 0

    # another seed, a finished run, a run stopped before any round, or a folder that is no benchmark's home:
    # a sentence each
    assert bench.main(argv + ["--seed", "7", "--resume", str(kept)]) == 2
    assert "was started with other queries or flags" in capsys.readouterr().err
    assert bench.main(argv + ["--max-tokens", "20", "--resume", str(kept)]) == 2
    assert "was started with other settings (max_tokens)" in capsys.readouterr().err
    assert bench.main(argv + ["--resume", str(kept)]) == 2
    assert "holds all 2 days already" in capsys.readouterr().err
    shutil.rmtree(kept / "resume")
    assert bench.main(argv + ["--resume", str(kept)]) == 2
    assert "holds no finished round to go on from" in capsys.readouterr().err
    assert bench.main(argv + ["--resume", str(tmp_path)]) == 2
    assert "is not a benchmark's home" in capsys.readouterr().err
    assert bench.main(["--quick", "--resume", str(kept)]) == 2
    assert "--resume goes on with a run of --rounds" in capsys.readouterr().err
    shutil.rmtree(kept)
    assert not (home / "apprentice.db").exists()  # the user's home untouched


def test_a_rounds_value_labels_never_cover_one_another():
    from model.bench.rounds import LABEL_GAP, spread

    # before any distillation the oracle's share (85%), routed accuracy (85%) and the teacher share
    # (78%) sit within a few points of each other
    labels = [(0, 85.0, "oracle"), (0, 78.0, "share"), (0, 85.0, "routed"), (0, 15.0, "student"), (1, 40.0, "x")]
    placed = spread(labels, gap=LABEL_GAP)
    column = sorted(at for round_, _, at, _ in placed if round_ == 0)
    assert all(b - a >= LABEL_GAP - 1e-9 for a, b in zip(column, column[1:]))
    assert all(abs(at - value) < 2 * LABEL_GAP for _, value, at, _ in placed)  # each stays by its point
    assert [(r, v, at) for r, v, at, _ in placed if r == 1] == [(1, 40.0, 40.0)]  # alone: at its value


def test_a_family_the_base_answered_right_that_loses_more_than_5_points_misses_the_goal():
    def measured(round_, student, families, fresh):
        return {
            "round": round_,
            "student_accuracy": student,
            "routed_accuracy": 0.9,
            "teacher_accuracy": 0.95,
            "teacher_share": 0.3,
            "oracle_share": 0.3,
            "teacher_share_drop": 0.45,
            "families": {f: {"student_accuracy": a} for f, a in families.items()},
            "also_test": [{"file": "fresh.jsonl", "families": {f: {"student_accuracy": a} for f, a in fresh.items()}}],
        }

    before = measured(0, 0.2, {"facts": 0.7, "dates": 0.3, "timer": 0.0}, {"facts": 0.5})
    day1 = measured(1, 0.7, {"facts": 0.7, "dates": 0.1, "timer": 0.9}, {"facts": 0.5})
    day2 = measured(2, 0.7, {"facts": 0.66, "dates": 0.3, "timer": 0.9}, {"facts": 0.4})
    result = rounds.goals([before, day1, day2])
    assert result["1"]["no_forgetting"]["value"] == {"test": {"dates": [0.3, 0.1]}, "fresh.jsonl": {}}
    assert not result["1"]["no_forgetting"]["met"]
    # 4 points lost is within the goal; the set never tuned on counts as much as the test set
    assert result["2"]["no_forgetting"]["value"] == {"test": {}, "fresh.jsonl": {"facts": [0.5, 0.4]}}
    assert not result["2"]["no_forgetting"]["met"]
    day2["also_test"][0]["families"]["facts"]["student_accuracy"] = 0.5
    assert rounds.goals([before, day1, day2])["2"]["no_forgetting"]["met"]


def test_a_plot_of_a_run_stopped_early_says_how_far_it_got():
    from model.bench.rounds import title

    run = {"machine": {"cores": 2, "cpu": "AMD EPYC"}, "sizes": {"train": 372, "test": 120, "days": [124] * 3}}
    run["wall_s"] = 3600
    said = {done: title({**run, "rounds": [{}] * (done + 1)}) for done in range(4)}
    assert said[3].startswith("apprentice bench distill --rounds 3: 372 train queries over 3 days, 120 test")
    assert "--rounds 3 (day 1 so far)" in said[1] and "--rounds 3 (days 1–2 so far)" in said[2]
    assert "(before day 1 only)" in said[0] and "60 min" in said[3]


def test_a_replayed_line_keeps_only_sure_answers_that_stand():
    def record(confidence, stands, right, called=False):
        return {
            **{"route": "cascade", "to_teacher": False, "teacher_right": True, "student_valid_call": False},
            **{"confidence": confidence, "stands": stands, "student_right": right, "student_called": called},
        }

    records = [
        record(-0.1, True, True),  # sure and stands: kept, right
        record(-0.1, False, False),  # sure, but "The day after Tuesday is Friday.": sent on
        record(-0.9, True, False),  # unsure: sent on
        record(-0.2, False, False, called=True),  # a sure call that does not validate: sent on
    ]
    assert bench.routed_with_lines(records, -0.3, -0.3) == {"teacher_share": 0.75, "routed_accuracy": 1.0}
    older = [{k: v for k, v in r.items() if k != "stands"} for r in records]  # records kept before `stands`
    assert bench.routed_with_lines(older, -0.3, -0.3) == {"teacher_share": 0.5, "routed_accuracy": 0.75}
