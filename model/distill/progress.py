"""Progress of a long run on stderr: bars with an ETA for a person, JSON lines for the chat app.

    with Progress.for_flags(args.progress, args.json) as progress:
        task = progress.task("train", 150)
        task.advance(loss=1.23)
        progress.say("Trained 150 steps.")

Style "rich": bars with an ETA (rich). Style "jsonl": one JSON object per line, `{"phase",
"done", "total", "eta_s", …}` for a task and `{"note"}` for a sentence, which the chat app's
/distill reads from its child process. Style "none": the sentences alone. Used by
`apprentice distill` and `apprentice bench distill`.
"""

from __future__ import annotations

import json
import sys
import time


class Progress:
    """Bars with an ETA on stderr (rich); or, with style "jsonl", one JSON object per line on stderr
    ({"phase", "done", "total", "eta_s", …}, for the chat app running this as a child process);
    or nothing but notes ("none")."""

    @classmethod
    def for_flags(cls, progress: str, json_out: bool) -> Progress:
        """--progress as given, except that rich bars stay off when --json goes to a script."""
        return cls("none" if progress == "rich" and json_out and not sys.stderr.isatty() else progress)

    def __init__(self, style: str = "rich"):
        self.style = style
        self._bars = None
        self._started = False  # the bars show from the first task on
        if style == "rich":
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import (
                Progress as Bars,
            )

            self.console = Console(stderr=True)
            self._bars = Bars(
                TextColumn("{task.description:<18}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[info]}"),
                console=self.console,
            )

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._bars is not None and self._started:
            self._bars.stop()

    def say(self, text: str) -> None:
        if self.style == "jsonl":
            print(json.dumps({"note": text}), file=sys.stderr, flush=True)
        elif self._bars is not None:
            self.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=sys.stderr, flush=True)

    def task(self, name: str, total: int, done: int = 0) -> Task:
        return Task(self, name, total, done)


class Task:
    def __init__(self, progress: Progress, name: str, total: int, done: int):
        self.progress, self.name, self.total, self.done = progress, name, total, done
        self.started, self.start_done = time.monotonic(), done
        self._id = None
        if progress._bars is not None:
            if not progress._started:
                progress._bars.start()
                progress._started = True
            self._id = progress._bars.add_task(name, total=total, completed=done, info="")

    def advance(self, n: int = 1, **info) -> None:
        self.done += n
        text = "  ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in info.items())
        if self._id is not None:
            self.progress._bars.update(self._id, advance=n, info=text)
        elif self.progress.style == "jsonl":
            rate = (time.monotonic() - self.started) / max(1, self.done - self.start_done)
            print(
                json.dumps(
                    {
                        "phase": self.name,
                        "done": self.done,
                        "total": self.total,
                        "eta_s": round(rate * (self.total - self.done), 1),
                        **info,
                    }
                ),
                file=sys.stderr,
                flush=True,
            )
