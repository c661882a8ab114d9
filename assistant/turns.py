"""The answer and turn objects of docs/CONTRACTS.md: the one place their fields are named.

An answer in flight (`core.Answer.result()`), a turn read back from the log
(`apprentice log list --json`, the chat app's history) and every other surface build
their JSON here, so a field added to the contract is added once.
"""

from __future__ import annotations

import json


def answer_fields(*, answer: str | None, route: str | None, reason: str | None, model: str | None,
                  turn_id: int | None, conversation_id: int | None, tokens: int | None,
                  ttft_ms: float | None, tokens_per_s: float | None, notes: list[str],
                  action: dict | None = None, served: bool | None = None) -> dict:  # fmt: skip
    """The answer object: what `ask --json` prints for one answer (`served` only for an answer in flight)."""
    return {
        "answer": (answer or "").strip(),
        "route": route,
        "reason": reason,
        "model": model,
        "turn_id": turn_id,
        "conversation_id": conversation_id,
        "tokens": tokens or 0,
        "ttft_ms": round(ttft_ms, 1) if ttft_ms is not None else None,
        "tokens_per_s": round(tokens_per_s, 1) if tokens_per_s is not None else None,
        "notes": list(notes),
        "action": action,  # {"name", "arguments", "result"} when a tool answered, else null
    } | ({"served": served} if served is not None else {})  # true when a running `apprentice serve` answered


def _action(stored: str | None) -> dict | None:
    if not stored:
        return None
    try:
        data = json.loads(stored)
    except ValueError:
        return None
    data.pop("local_only", None)  # the store's own bookkeeping, not the contract's
    return data


def turn_fields(row: dict) -> dict:
    """A logged turn (a row of the `turns` table): the answer object plus what the log adds."""
    try:
        notes = json.loads(row.get("notes") or "[]")
    except (TypeError, ValueError):  # a note column written by hand, or torn: the turn still shows
        notes = []
    if row.get("status") in ("interrupted", "failed") and not notes:
        notes = [f"This answer was {row['status']}."]
    return {
        **answer_fields(
            answer=row.get("answer"),
            route=row.get("route"),
            reason=row.get("reason"),
            model=row.get("model"),
            turn_id=row.get("id"),
            conversation_id=row.get("conversation_id"),
            tokens=row.get("tokens"),
            ttft_ms=row.get("ttft_ms"),
            tokens_per_s=row.get("tokens_per_s"),
            notes=notes,
            action=_action(row.get("action")),
        ),
        "query": row.get("query"),
        "source": row.get("source"),
        "status": row.get("status"),
        "created": row.get("created"),
    }
