"""`apprentice bench distill`: answer checks, the routing curve's numbers, the task files, and a
quick end-to-end run with the tiny model."""

from __future__ import annotations

import importlib.util
import json
import os

import numpy as np
import pytest

from assistant import config
from model.bench import checks
from model.bench import distill as bench


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
    train = [json.loads(line_) for line_ in (shipped / "train.jsonl").read_text().splitlines()]
    test = [json.loads(line_) for line_ in (shipped / "test.jsonl").read_text().splitlines()]
    assert not {generator.key(r["query"]) for r in train} & {generator.key(r["query"]) for r in test}
    assert {r["family"] for r in test} == {"device", "conversion", "dates", "arithmetic", "facts", "fresh"}
    for row in train + test:  # the teacher (the fake answers with the line) is right by construction
        assert checks.check(row.get("answer", row["reference"]), row["reference"], row["check"])


def test_a_bad_task_file_is_bad_input(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query": "hi", "reference": "hello", "check": "fuzzy", "family": "x"}\n')
    assert bench.main(["--test", str(bad), "--progress", "none"]) == 2
    assert "fuzzy" in capsys.readouterr().err


def test_quick_bench_runs_end_to_end_in_its_own_home(home, tiny_checkpoint, tmp_path, capsys):
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
    assert result["teacher_accuracy"] == 1.0  # the fake answers with the references
    assert 0 <= result["student_accuracy"]["before"] <= 1 and 0 <= result["teacher_share"]["after"] <= 1
    assert result["sizes"] == {"train": 18, "test": 12, "quick": True}
    assert set(result["families"]) == {"device", "conversion", "dates", "arithmetic", "facts", "fresh"}
    assert result["families"]["fresh"]["teacher_share"]["before"] == 1.0  # live information goes to the teacher
    assert result["collection"]["examples"] > 0 and result["distill"]["version"] == "distill-1"
    assert len(result["curve"]["before"]) == 13 and result["wall_s"] > 0
    # measured on the real path: each routed answer is the student's or the teacher's, as the route says
    for r in result["queries"]["before"]:
        assert r["routed_right"] == (r["teacher_right"] if r["to_teacher"] else r["student_right"]), r
        assert isinstance(r["answer"], str) and r["reason"]
    fresh = [r for r in result["queries"]["before"] if r["family"] == "fresh"]
    assert all(r["to_teacher"] and "live information" in r["reason"] for r in fresh)
    assert result["settings"]["fast_path"] is False
    assert not (home / "apprentice.db").exists() and not (home / "models").exists()  # the user's home untouched
    assert "GOOGLE_GEMINI_BASE_URL" not in os.environ
    if has_matplotlib:
        assert plot.read_bytes()[:4] == b"\x89PNG"
