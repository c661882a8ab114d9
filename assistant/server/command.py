"""`apprentice serve [--stop|--status]`: run, stop or look at the resident server of this APPRENTICE_HOME.

apprentice serve &                       # keeps the student loaded; ask and voice use it
apprentice serve --status --json
apprentice serve --stop
"""

from __future__ import annotations

import json
import os
import signal
import sys

import click

from assistant import config
from assistant.output import emit_json, say


def _status() -> dict | None:
    """The running server's state, asked over its socket (what it has loaded), else from its state file."""
    from assistant.server import status
    from assistant.server.client import served

    state = status()
    if state is None:
        return None
    remote = served()
    if remote is not None:
        try:
            return remote.request({"op": "status"})
        except (OSError, ValueError):
            pass
    return state


def _stop() -> None:
    from assistant.server.client import served
    from assistant.server.daemon import wait_gone

    state = _status()
    if state is None:
        say(f"No server runs for {config.home()}.")
        return
    remote = served()
    try:
        if remote is not None:
            remote.request({"op": "stop"})
        elif state.get("pid"):
            os.kill(state["pid"], signal.SIGTERM)
    except (OSError, ValueError):
        if state.get("pid"):
            os.kill(state["pid"], signal.SIGTERM)
    if not wait_gone(config.home()):
        raise click.ClickException(
            f"The server (pid {state.get('pid')}) did not stop; end it with `kill {state.get('pid')}`."
        )
    say(f"Stopped the server (pid {state.get('pid')}).")


def _serve(host: str | None, port: int | None) -> None:
    from assistant.server.daemon import Server

    settings = config.load({"serve_host": host, "serve_port": port}, warn=lambda w: say(f"note: {w}"))
    server = Server(settings, say=say)
    server.start()  # Ctrl-C while the student loads is an ordinary interrupt: start() cleans up
    stop = lambda *_: server._stopped.set()  # noqa: E731  the main loop below then closes everything
    # SIGHUP: the terminal closed
    names = [n for n in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, n)]
    before = {n: signal.signal(getattr(signal, n), stop) for n in names}
    state = server.state()
    say(
        f"Apprentice serves {server.home} (pid {os.getpid()}, student {state['student']}):\n"
        f"  socket {state['socket']} (ask, voice)\n"
        f"  OpenAI-compatible API at {state['url']} (models `apprentice`, `apprentice-local`)\n"
        "Stop it with Ctrl-C or `apprentice serve --stop`."
    )
    try:
        server.wait()
    finally:
        server.stop()
        for name, handler in before.items():
            signal.signal(getattr(signal, name), handler)
    say("Server stopped.")


@click.command("serve")
@click.option("--stop", is_flag=True, help="Stop the server of this APPRENTICE_HOME.")
@click.option("--status", "show_status", is_flag=True, help="Say whether a server runs, where, and with which student.")
@click.option("--json", "json_mode", is_flag=True, help="With --status: one JSON object.")
@click.option("--host", help="Address for the HTTP API (default: serve_host, 127.0.0.1).")
@click.option(
    "--port", type=click.IntRange(0, 65535), help="Port for the HTTP API (default: serve_port, 8741; 0: any free one)."
)
def serve_command(stop, show_status, json_mode, host, port):
    """Keep the student loaded and answer over a socket and an OpenAI-compatible API.

    `apprentice ask` and `apprentice voice` use the running server (their `--json` says
    "served": true); tools that speak OpenAI's API use http://127.0.0.1:8741/v1 with the
    model `apprentice` (routed as your privacy mode allows) or `apprentice-local` (never leaves).

    \b
    Examples:
      apprentice serve &
      apprentice serve --status --json
      apprentice serve --stop
    """
    if stop and show_status:
        raise click.UsageError("Give --stop or --status, not both.")
    if json_mode and not show_status:
        raise click.UsageError("--json goes with --status.")
    if stop:
        _stop()
    elif show_status:
        state = _status()
        if json_mode:
            emit_json({"running": state is not None, **(state or {}), "home": str(config.home())})
        elif state is None:
            click.echo(f"No server runs for {config.home()}.")
        else:
            click.echo(json.dumps(state, indent=2) if state.get("starting") else _describe(state))
    else:
        _serve(host, port)


def _describe(state: dict) -> str:
    return (
        f"A server runs for {state.get('home')} (pid {state.get('pid')}, since {state.get('started')}).\n"
        f"  student: {state.get('student')} (loaded: {state.get('loaded')})\n"
        f"  socket:  {state.get('socket')}\n"
        f"  API:     {state.get('url')}\n"
        f"  waiting: {state.get('waiting', 0)}; ringer: {'here' if state.get('ringer') else 'not here'}"
    )


if __name__ == "__main__":
    sys.exit(serve_command())
