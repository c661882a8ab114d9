"""Whether a call the student wrote can stand as the answer to a query, or why not.

A call stands when it reads, names a tool and validates; a computing call runs (`trial_run`: its
result is what the user would see); an acting call passes its tool's own checks without acting
(`ready`: a reminder says when, a timer lasts some time); and it keeps what the user said
(`grounding`): their numbers, each length in one unit and in the unit said, the unit they wrote
after a value and the one they asked for, a value said below zero, the operation they named and the
order of its numbers, the weekday they named and the days before or after it (counted the way they
said, in days or months as they said), or after the one they suppose today is (no month or weekday
they did not name), a weekday or a count of days as asked, the place asked about (and none never
named), a length said as one, the clock time and the half of the day said, a timer's name (neither
its own length nor words never said), what a reminder is for, and a message to send, a request to be
reminded or told, or a question rather than a note, a question for a number rather than a timer, and
a request to save a note or a question about anything else rather than a search of the notes. It is
judged as the tool runs it for the query (`as_said`: a calculation of a quantity into another unit made
that conversion, a difference or a quotient taken in the order its numbers were said, the half of the
day and a timer's name the user said filled in where the call left them out, a timer set for a request
to be reminded made that reminder, a reminder's words cut before the time it is for, a note saved for a
question about the user's notes made the search, and a note cut short given the rest of what was said).
The cascade asks this of a sure answer before keeping it, and a cascade line is drawn counting only the
wrong answers that would pass it (model/distill/calibration.py): what no line can keep is no risk to the line.
"""

from __future__ import annotations

from assistant.tools import ToolError, ready, trial_run, validate
from assistant.tools.as_said import as_said
from assistant.tools.calls import ToolCall
from assistant.tools.grounding import (
    doubled_length,
    invented_label,
    invented_place,
    invented_task,
    lost_sign,
    number_gaps,
    other_half_of_day,
    other_length,
    other_span,
    other_target_unit,
    other_time,
    reversed_operands,
    unasked_count,
    unasked_note,
    unasked_search,
    unasked_setting,
    uncounted_days,
    uncounted_supposed,
    unnamed_label,
    unrung_reminder,
    unsaid_date,
    unsaid_label,
    unsaid_length,
    unsaid_numbers,
    unsaid_offset,
    unsaid_operation,
    unsaid_place,
    unsaid_task,
    unsaid_unit,
    unsaid_weekday,
    unsent_message,
)

# What a call that runs must keep of its query, each a reason or None (assistant/tools/grounding.py).
CHECKS = (
    unsaid_numbers,
    unsaid_unit,
    lost_sign,
    unsaid_label,
    unsaid_weekday,
    unsent_message,
    unsaid_operation,
    unsaid_offset,
    unnamed_label,
    invented_label,
    invented_task,
    doubled_length,
    unrung_reminder,
    unasked_note,
    unasked_search,
    unasked_setting,
    unasked_count,
    reversed_operands,
    unsaid_date,
    uncounted_days,
    uncounted_supposed,
    other_span,
    unsaid_task,
    other_length,
    unsaid_length,
    other_half_of_day,
    other_time,
    other_target_unit,
    unsaid_place,
    invented_place,
)


def call_doubt(call: ToolCall | None, query: str) -> str | None:
    """Why `call` (None: a call that could not be read) cannot stand for `query`, as a reason the
    router shows; None when it can."""
    if call is None:
        return "its call could not be read"
    if query:
        call = as_said(query, call)  # judged as the tool runs it for this query
    try:
        validate(call.name, call.arguments)
    except ToolError as exc:
        return f"its call could not run ({exc})"
    outcome = trial_run(call.name, call.arguments)
    if outcome is None:
        outcome = ready(call.name, call.arguments)
    if isinstance(outcome, ToolError):
        return f"its call could not run ({outcome})"
    if not query:
        return None
    return next((reason for check in CHECKS if (reason := check(query, call))), None)


def left_out(call: ToolCall, query: str) -> bool:
    """Whether `call`, as it stands so far, leaves out what one more of its arguments could still hold:
    a number the user said ("um timer, one hour and ten minutes" as hours=1), or the days counted
    before or after the day they named ("If today is Saturday, what day is it tomorrow?" as
    clock(date="Saturday")), while nothing it holds already goes against a number they said. The
    call constraint does not let such a call close (assistant/tools/constrain.py): the student goes on
    and writes the argument, and every check still judges what it wrote."""
    call = as_said(query, call)
    as_time, extra, missing = number_gaps(query, call)
    if as_time or extra:
        return False  # already wrong: another argument would not set it right
    dated = any(isinstance(call.arguments.get(key), str) for key in ("date", "to_date"))
    # a year said with a date belongs in that date ("November 5th, 2027"), not in a count of days
    if any(not (dated and n.is_integer() and 1000 <= n < 3000) for n in missing):
        return True
    return (
        call.name == "clock"
        and not call.arguments.get("days")
        and bool(unsaid_offset(query, call) or uncounted_days(query, call) or uncounted_supposed(query, call))
    )
