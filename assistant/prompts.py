"""The student's system prompt: the configured prompt, then the tools it may call.

One function, so the student is trained, evaluated and asked with the same words: a version
distilled without the tool list in its prompt would be judged on a prompt users never send.
"""

from __future__ import annotations

from assistant import config


def student_system_prompt(settings: config.Settings) -> str:
    """The configured prompt and, unless `student_tools` is off, the tools and how to call them."""
    if not settings.student_tools:
        return config.system_prompt(settings)
    from assistant.tools import student_prompt

    return f"{config.system_prompt(settings)}\n\n{student_prompt()}"
