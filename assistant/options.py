"""Command-line options shared by every way of asking (`apprentice ask`, `apprentice voice`)."""

import click

from assistant import config


def query_options(fn):
    """The options every way of asking shares (ask, voice): mode, route, conversation, log, decoding."""
    options = [
        click.option("--mode", type=click.Choice(config.MODES), help="Privacy mode (default: from config)."),
        click.option(
            "--local", "force", flag_value="local", help="Answer with the local student, whatever the router says."
        ),
        click.option("--cloud", "force", flag_value="cloud", help="Ask the teacher (still needs consent and a key)."),
        click.option("--continue", "-c", "continue_", is_flag=True, help="Go on with the most recent conversation."),
        click.option("--conversation", "conversation_id", type=int, metavar="ID", help="Go on with conversation ID."),
        click.option("--no-log", is_flag=True, help="Keep the turns out of the history."),
        click.option("--max-tokens", type=int, help="Longest answer, in tokens."),
        click.option("--temperature", type=float, help="Sampling temperature (0: greedy, repeatable)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def conversation_to_continue(store, continue_: bool, conversation_id: int | None, say) -> int | None:
    """The conversation `--continue` or `--conversation ID` names (None: a new one)."""
    if continue_:
        conversation_id = store.last_conversation_id()
        if conversation_id is None:
            say("No earlier conversation to continue; starting a new one.")
    return conversation_id
