"""`apprentice bench line`: a never-distilled student's cascade line, drawn on its answers to the train queries."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from model.bench import line as bench_line
from model.distill.calibration import Point, risk_line


def _drawn(capsys, argv: list[str]) -> dict:
    assert bench_line.main(argv) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_the_line_is_drawn_on_the_answers_that_reach_the_cascade_and_bounds_their_errors(home, tiny_checkpoint, capsys):
    common = ["--quick", "--student", str(tiny_checkpoint), "--progress", "none"]
    result = _drawn(capsys, [*common, "--json", "--risk", "0.5"])

    # the router's rules send live questions (weather, prices) to the teacher outright; the rest reach the cascade
    assert 0 < result["n"] < result["queries"] == 36 and len(result["points"]) == result["n"]
    assert not any(p["family"] == "fresh" for p in result["points"])
    points = [Point(p["confidence"], p["student_right"], False, "local", p["vetoed"]) for p in result["points"]]
    assert result["line"] == risk_line(points, 0.5)
    kept = [p for p in result["points"] if p["confidence"] >= result["line"] and not p["vetoed"]]
    assert result["kept"] == len(kept) and result["kept_wrong"] == sum(not p["student_right"] for p in kept)
    assert (result["kept_wrong"] + 1) / (result["n"] + 1) <= 0.5
    # by family: every answer that reached the cascade counted once, and what the line keeps split among them
    families = result["families"]
    assert set(families) == {p["family"] for p in result["points"]}
    for name, f in families.items():
        mine = [p for p in kept if p["family"] == name]
        assert f["n"] == sum(p["family"] == name for p in result["points"])
        assert (f["kept"], f["kept_wrong"]) == (len(mine), sum(not p["student_right"] for p in mine))
    assert result["configured"]["line"] == -0.345  # the shipped default student's line
    # what asking a sentence again kept below that line: the tiny student says no name, so nothing is asked
    assert result["said_again"] == {"asked": 0, "right": 0, "kept": 0, "kept_wrong": 0}
    assert not (home / "apprentice.db").exists()  # the user's home is untouched: the bench has one of its own

    # without --json, at the configured 5%: the tiny student is never right, so its line keeps nothing
    assert bench_line.main(common) == 0
    said = capsys.readouterr().out
    assert "of 36 train queries reached the cascade" in said and "Line at risk 0.05: 0, which keeps none" in said
    assert "To use it: cascade_min_logprob = 0 in config.toml" in said
    assert "Below it, 0 sentences were asked again (0 right): 0 said again and kept, 0 wrong." in said
    assert "By family:" in said and all(f"  {name} " in said for name in families)


def test_bad_values_are_sentences(home, tmp_path, capsys):
    assert bench_line.main(["--risk", "2", "--progress", "none"]) == 2
    assert "--risk is a share of answers, between 0 and 1" in capsys.readouterr().err
    assert bench_line.main(["--train", str(tmp_path / "none.jsonl"), "--progress", "none"]) == 2
    assert "Cannot read the task file" in capsys.readouterr().err
    homes = set(Path(tempfile.gettempdir()).glob("apprentice-bench-*"))
    assert bench_line.main(["--student", str(tmp_path), "--progress", "none"]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path} is not an mlx-lm checkpoint" in err and "apprentice model list --json" in err
    assert set(Path(tempfile.gettempdir()).glob("apprentice-bench-*")) == homes  # refused before a home was made
