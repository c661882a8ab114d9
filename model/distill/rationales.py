"""Rationales: the teacher's short reasoning for each training example, learned as a second task.

With `--rationales`, each training example that has none yet is sent to the teacher again (the
redacted query that already left, recorded like any request) with a request for "Rationale: …"
and "Answer: …". The dataset (model/dataset.py) then teaches the student both to answer and, when
asked, to give the rationale (Distilling step-by-step). Measured within the benchmark's intervals
at twice the cost, so it is off by default.
"""

from __future__ import annotations

import json

from assistant import config
from assistant.errors import ApprenticeError
from model.distill.progress import Progress

RATIONALE_SYSTEM = (
    "Before the answer, give a short rationale. Reply in exactly two lines: 'Rationale: …' and then 'Answer: …'."
)


def ask_rationales(store, ds, settings: config.Settings, progress: Progress, notes: list[str]) -> None:
    """Ask the teacher for a rationale to each training example that has none yet (recorded like any request)."""
    from assistant import privacy
    from assistant.teacher import Teacher, TeacherError
    from model.dataset import parse_rationale

    todo = [ex for ex in ds.train if ex.rationale is None]
    if not todo:
        return
    key = privacy.gemini_key()
    mode = privacy.default_mode(settings)
    if key is None or mode == "private":
        raise ApprenticeError(
            "--rationales asks the teacher again for each example, which needs a Gemini key and a "
            "mode other than private; run without --rationales to train on the answers alone."
        )
    # a rationale is words about an answer: no tools declared, so Gemini cannot answer it with a call
    system = f"{config.system_prompt(settings)}\n\n{RATIONALE_SYSTEM}"
    teacher = Teacher.from_settings(key, settings, system, tools=False)
    progress.say(f"Asking the teacher for {len(todo)} rationale(s); the already-sent redacted queries go again.")
    task = progress.task("rationales", len(todo))
    failed = 0
    for ex in todo:
        text, error = "", None
        response = teacher.stream(ex.messages)
        try:
            text = response.complete()
        except TeacherError as exc:
            error, failed = str(exc), failed + 1
        store.add_rationale(
            ex.id,
            turn_id=None,
            query_sent=ex.messages[-1]["content"],
            messages_sent=json.dumps(ex.messages),
            teacher_answer=text or None,
            teacher_model=teacher.model,
            consent=mode,
            error=error,
            latency_ms=response.usage.latency_ms,
            answer_tokens=response.usage.tokens,
        )
        ex.rationale = text or None
        task.advance()
    got = sum(1 for ex in ds.train if parse_rationale(ex.rationale or ""))
    notes.append(
        f"{got} of {len(ds.train)} training examples carry a rationale"
        + (f"; {failed} request(s) failed." if failed else ".")
    )
