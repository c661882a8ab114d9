"""Example calls of the tools no teacher sees (notes), taught in every distillation that gives the student the tools."""

from __future__ import annotations

import dataclasses

from assistant import config
from assistant.prompts import student_system_prompt
from assistant.tools import local_only, validate
from assistant.tools.calls import parse_call
from model.dataset import read_tasks
from model.distill.training import local_tool_rows, read_jsonl

SHIPPED = config.assets_dir() / "tools" / "local_calls.jsonl"


def _key(query: str) -> str:
    return " ".join(query.lower().rstrip(".?!").split())


def test_every_shipped_local_call_runs_and_no_query_is_a_benchmark_test_query():
    lines = read_jsonl(SHIPPED)
    assert len(lines) >= 30
    for line in lines:
        assert local_only(line["call"]["name"]), line  # a teacher's tool is learned from the teacher's calls
        validate(line["call"]["name"], line["call"]["arguments"])  # raises for a call that could not run
    bench = config.assets_dir() / "bench"
    tested = {_key(r["query"]) for path in sorted(bench.glob("test*.jsonl")) for r in read_tasks(path)}
    assert not {_key(line["query"]) for line in lines} & tested
    # both halves of the tool: saving a note and finding one
    assert {next(iter(line["call"]["arguments"])) for line in lines} == {"text", "find"}


def test_the_rows_are_calls_in_the_students_own_prompt_and_only_when_it_is_told_the_tools():
    told = dataclasses.replace(config.load(), student_tools=True)
    prompt = student_system_prompt(told)
    rows = local_tool_rows(prompt, told, teacher_rows=200, seed=0)
    assert len(rows) == len(read_jsonl(SHIPPED))
    first = rows[0]["messages"]
    assert first[0] == {"role": "system", "content": prompt}
    call = parse_call(first[-1]["content"])
    assert call is not None and call.name == "note"

    # a first distillation of a few examples is not swamped by notes: a quarter of the teacher's rows at most
    few = local_tool_rows(prompt, told, teacher_rows=20, seed=0)
    assert len(few) == 5 and all(parse_call(r["messages"][-1]["content"]).name == "note" for r in few)

    silent = dataclasses.replace(told, student_tools=False)
    assert local_tool_rows(student_system_prompt(silent), silent, teacher_rows=200, seed=0) == []
