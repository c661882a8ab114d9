"""`apprentice bench speed`'s figures for `apprentice serve`: what a resident student saves.

In a home of its own (the active student's weights registered by path, private mode, no
ringer), so nothing lands in the user's log:

- wall time of `apprentice ask "What is the capital of France?"`, from the command's start to
  its exit, answering by itself and through a running server; the same for "What is 17 times
  23?", which a sentence template answers with no model, so it shows what the process costs;
- over the OpenAI-compatible API, the time from sending a streaming request to the first
  text chunk, and to the whole answer;
- `apprentice voice --wav question.wav --tts-out answer.wav` through the server (espeak-ng says
  the question; Whisper must be on this machine already): from the command's start to the first
  byte of spoken audio in answer.wav (past its 44-byte header), and to the command's exit.

    python -m model.bench.served [--runs 3]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUERY = "What is the capital of France?"  # the student answers
FAST_QUERY = "What is 17 times 23?"  # a sentence template answers: no model runs, so this is the process's own cost
START_S = 300


def _register(home: Path) -> str:
    """The active student's weights, registered by path in `home`; its name."""
    from assistant.models import registry

    version = registry.active()
    old = os.environ.get("APPRENTICE_HOME")
    os.environ["APPRENTICE_HOME"] = str(home)
    try:
        staging = registry.staging_folder(version.name)
        copy = registry.new_version(
            version.name, source=version.source, bits=version.bits, external_path=str(version.path)
        )
        registry.register(staging, copy, make_active=True)
    finally:
        if old is None:
            del os.environ["APPRENTICE_HOME"]
        else:
            os.environ["APPRENTICE_HOME"] = old
    return version.name


def _ask(env: dict, query: str = QUERY) -> tuple[float, dict]:
    """(wall ms from start to exit, the answer object) of one `apprentice ask --json`."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", query, "--json"], capture_output=True, text=True, env=env
    )
    wall = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"apprentice ask failed: {done.stderr.strip()}")
    return wall, json.loads(done.stdout)


def _first_token(port: int) -> tuple[float, float]:
    """(ms to the first text chunk, ms to the end) of one streaming chat completion."""
    body = json.dumps({"model": "apprentice", "stream": True, "messages": [{"role": "user", "content": QUERY}]})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    start = time.perf_counter()
    conn.request("POST", "/v1/chat/completions", body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    first = None
    for line in response:
        if not line.startswith(b"data: {"):
            continue
        choices = json.loads(line[6:]).get("choices") or [{}]
        if first is None and (choices[0].get("delta") or {}).get("content"):
            first = (time.perf_counter() - start) * 1000
    whole = (time.perf_counter() - start) * 1000
    conn.close()
    return (first if first is not None else whole), whole


def _voice(env: dict, wav: Path, out: Path) -> tuple[float, float, dict]:
    """(ms to the first byte of spoken audio, ms to exit, the answer object) of one served
    `apprentice voice --wav --tts-out --json`; answer.wav is watched while the command runs."""
    out.unlink(missing_ok=True)
    command = [sys.executable, "-m", "assistant", "voice", "--wav", str(wav), "--tts-out", str(out), "--json"]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    first = None
    while process.poll() is None:
        if first is None and out.exists() and out.stat().st_size > 44:  # past the WAV header: sound
            first = (time.perf_counter() - start) * 1000
        time.sleep(0.002)
    wall = (time.perf_counter() - start) * 1000
    stdout, stderr = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"apprentice voice failed: {stderr.strip()}")
    if first is None:  # written in the last instant before exit
        first = wall
    return first, wall, json.loads(stdout)


def _question_wav(folder: Path) -> Path | None:
    """The question as espeak-ng says it, when espeak-ng and Whisper are both on this machine."""
    import shutil

    from assistant.models import whisper

    if shutil.which("espeak-ng") is None or whisper.installed() is None:
        return None
    wav = folder / "question.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), QUERY], check=True, capture_output=True)
    return wav


def _start_server(env: dict, home: Path) -> tuple[subprocess.Popen, dict, float]:
    from assistant.server import state_path

    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant", "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    give_up = time.monotonic() + START_S
    while time.monotonic() < give_up:
        if process.poll() is not None:
            raise RuntimeError(f"apprentice serve ended: {process.stderr.read().decode().strip()}")
        try:
            state = json.loads(state_path(home).read_text())
            return process, state, (time.perf_counter() - start) * 1000
        except (OSError, ValueError):
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("apprentice serve did not start in time")


def measure(runs: int, say=lambda message: None) -> dict:
    """The served figures (see the module's docstring)."""
    from model.bench.speed import spread

    notes = []
    with tempfile.TemporaryDirectory(prefix="apprentice-serve-") as tmp:
        home = Path(tmp)
        name = _register(home)
        wav = _question_wav(home)
        if wav is None:
            notes.append("voice through the server is not measured: it needs espeak-ng and Whisper on this machine")
        env = dict(os.environ, APPRENTICE_HOME=str(home), APPRENTICE_MODE="private", APPRENTICE_RINGER="off")
        env |= {"APPRENTICE_SERVE_PORT": "0"}
        say("ask, answering by itself")
        alone = [_ask(env | {"APPRENTICE_USE_SERVER": "0"}) for _ in range(runs)]
        alone_fast = [_ask(env | {"APPRENTICE_USE_SERVER": "0"}, FAST_QUERY) for _ in range(runs)]
        say("starting the server")
        process, state, start_ms = _start_server(env, home)
        try:
            _ask(env)  # the first query warms the prompt cache of the system prompt, as any would
            say("ask, through the server")
            served = [_ask(env) for _ in range(runs)]
            served_fast = [_ask(env, FAST_QUERY) for _ in range(runs)]
            say("first token over HTTP")
            http_runs = [_first_token(state["port"]) for _ in range(runs)]
            voice_runs = []
            if wav is not None:
                say("voice --wav --tts-out, through the server")
                _voice(env, wav, home / "answer.wav")  # the first loads Whisper, if the server had not yet
                voice_runs = [_voice(env, wav, home / "answer.wav") for _ in range(runs)]
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    served, alone = served + served_fast, alone + alone_fast  # for the check below
    if not all(result["served"] for _, result in served) or any(result["served"] for _, result in alone):
        notes.append("some asks were not answered as intended (served or not): compare with care")
    return {
        "student": name,
        "query": QUERY,
        "server_start_ms": round(start_ms),
        "ask_wall_ms": {
            "alone": spread([w for w, _ in alone[:runs]], 0),
            "served": spread([w for w, _ in served[:runs]], 0),
        },
        "fast_path_ask_wall_ms": {
            "alone": spread([w for w, _ in alone_fast], 0),
            "served": spread([w for w, _ in served_fast], 0),
        },
        "answer_tokens": served[0][1]["tokens"],
        "http_first_token_ms": spread([first for first, _ in http_runs], 0),
        "http_whole_ms": spread([whole for _, whole in http_runs], 0),
        # the median alone, as the goal in `apprentice bench speed` reads it; its spread beside it
        "voice_first_audio_ms": spread([first for first, _, _ in voice_runs], 0)["median"] if voice_runs else None,
        "voice_first_audio_spread_ms": spread([first for first, _, _ in voice_runs], 0) if voice_runs else None,
        "voice_wall_ms": spread([wall for _, wall, _ in voice_runs], 0) if voice_runs else None,
        "voice_stt_ms": spread([r["stt_ms"] for _, _, r in voice_runs], 0) if voice_runs else None,
        "voice_transcript": voice_runs[0][2]["transcript"] if voice_runs else None,
        "notes": notes,
    }


def report(s: dict) -> list[str]:
    """Lines for `apprentice bench speed`'s report."""
    alone, served = s["ask_wall_ms"]["alone"]["median"], s["ask_wall_ms"]["served"]["median"]
    return [
        f"  ask, wall, by itself / served    {alone:>8.0f} / {served:.0f} ms "
        f"({s['answer_tokens']} tokens; the server took {s['server_start_ms'] / 1000:.1f} s to start)",
        f"  ask a template answers, wall, by itself / served {s['fast_path_ask_wall_ms']['alone']['median']:.0f} / "
        f"{s['fast_path_ask_wall_ms']['served']['median']:.0f} ms",
        f"  HTTP first token / whole answer  {s['http_first_token_ms']['median']:>8.0f} / "
        f"{s['http_whole_ms']['median']:.0f} ms",
    ] + (
        [
            f"  voice served, first audio byte / exit {s['voice_first_audio_ms']:>5.0f} / "
            f"{s['voice_wall_ms']['median']:.0f} ms (speech to text {s['voice_stt_ms']['median']:.0f} ms)"
        ]
        if s.get("voice_first_audio_ms")
        else []
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.bench.served", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median, min, max)")
    args = parser.parse_args(argv)
    figures = measure(max(1, args.runs), say=lambda message: print(f"{message}…", file=sys.stderr))
    print(json.dumps(figures, indent=2))
    print("\n".join(report(figures)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
