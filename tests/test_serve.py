"""`apprentice serve`: the resident assistant, its Unix socket and its OpenAI-compatible API.

Clients no one here wrote (the `openai` package, simonw's `llm` CLI) talk to a real server
process with the tiny student; faults (bad requests, a busy desk, a killed server, a client
that hangs up) are driven through the real HTTP stack. A few tests run the server inside
the test process, to watch which sockets it opens and to hold its desk.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from assistant import config
from assistant.cli import main
from assistant.errors import ApprenticeError
from assistant.server import lock_path, socket_path, state_path, status
from assistant.store import Store

START_S = 180  # a loaded CI machine may take this long to import MLX and torch


def apprentice(*args, env=None, timeout=180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def ask_json(capsys, *args) -> dict:
    code = main(["ask", *args, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Traceback" not in out + err
    return json.loads(out)


def api_turns() -> list[dict]:
    return [t for t in Store().turns(limit=None) if t["source"] == "api"]


@pytest.fixture
def settings_env(monkeypatch, tiny_student):
    """Short answers and any free port, for the server and for the commands alike."""
    monkeypatch.setenv("APPRENTICE_SERVE_PORT", "0")
    monkeypatch.setenv("APPRENTICE_MAX_TOKENS", "8")
    return tiny_student


class Running:
    """A server process started with `python -m assistant serve`."""

    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "assistant", "serve"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        give_up = time.monotonic() + START_S
        self.state = None
        while time.monotonic() < give_up:
            if self.process.poll() is not None:
                raise AssertionError(f"the server ended: {self.process.stderr.read()}")
            state = status()
            if state and state.get("url"):
                self.state = state
                break
            time.sleep(0.2)
        assert self.state, "the server did not start in time"
        self.url = self.state["url"]
        self.port = self.state["port"]

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def server(settings_env):
    running = Running()
    yield running
    running.stop()


@pytest.fixture
def inproc(settings_env, monkeypatch):
    """Start a server inside this process: `inproc(APPRENTICE_X="...")` sets settings first."""
    from assistant.server.daemon import Server

    started = []

    def start(**env):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        server = Server(config.load())
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def post(port: int, body: bytes, headers: dict | None = None) -> tuple[int, dict, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(
            "POST", "/v1/chat/completions", body=body, headers={"Content-Type": "application/json"} | (headers or {})
        )
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read() or b"{}")
    finally:
        conn.close()


def chat(port: int, **body) -> tuple[int, dict, dict]:
    body = {"model": "apprentice", "messages": [{"role": "user", "content": "What is the capital of France?"}]} | body
    return post(port, json.dumps(body).encode())


# -- real clients -------------------------------------------------------------------------------


def test_openai_client_chats_streams_and_lists_models(server):
    import openai

    client = openai.OpenAI(base_url=server.url, api_key="unused")
    ids = [m.id for m in client.models.list()]
    assert ids[:2] == ["apprentice", "apprentice-local"] and "tiny" in ids

    raw = client.chat.completions.with_raw_response.create(
        model="apprentice", messages=[{"role": "user", "content": "What is 17 times 23?"}]
    )
    reply = raw.parse()
    assert reply.choices[0].message.content == "17 × 23 = 391"  # the fast path's calculator, served
    assert raw.headers["x-apprentice-route"] == "local" and raw.headers["x-apprentice-model"] == "tiny"
    assert reply.model_extra["apprentice"]["reason"].startswith("a sentence template matched")

    stream = client.chat.completions.create(
        model="apprentice",
        messages=[{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Hello there"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert chunks[-1].usage.completion_tokens == 8 and chunks[-1].usage.prompt_tokens > 0
    turns = api_turns()
    assert [t["query"] for t in turns] == ["Hello there", "What is 17 times 23?"]  # newest first
    assert turns[0]["answer"] == text and turns[0]["status"] == "done" and turns[0]["model"] == "tiny"


def test_llm_cli_with_the_three_line_setup(server, tmp_path):
    user = tmp_path / "llm"
    user.mkdir()
    (user / "extra-openai-models.yaml").write_text(
        f'- model_id: apprentice\n  model_name: apprentice\n  api_base: "{server.url}"\n'
    )
    env = dict(os.environ, LLM_USER_PATH=str(user))
    for extra in ([], ["--no-stream"]):
        done = subprocess.run(
            ["llm", "-m", "apprentice", *extra, "What is 17 times 23?"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "17 × 23 = 391"
    assert len(api_turns()) == 2


# -- Apprentice's own commands through the server ----------------------------------------------------


def test_ask_through_the_server_and_without_gives_the_same_answer(settings_env, capsys):
    alone = ask_json(capsys, "What is the capital of France?")
    running = Running()
    try:
        served = ask_json(capsys, "What is the capital of France?")
        code = main(["serve", "--status", "--json"])
        state = json.loads(capsys.readouterr().out)
    finally:
        running.stop()
    assert code == 0 and state["running"] and state["student"] == "tiny" and state["url"] == running.url
    assert alone["served"] is False and served["served"] is True
    assert set(alone) == set(served)
    same = ("answer", "route", "reason", "model", "tokens", "notes", "action")
    assert {k: alone[k] for k in same} == {k: served[k] for k in same}
    assert served["turn_id"] == alone["turn_id"] + 1  # both in the one log
    assert [t["source"] for t in Store().turns(limit=None)] == ["ask", "ask"]


def test_killed_server_then_ask_still_answers_and_a_new_server_starts(server, capsys):
    assert ask_json(capsys, "Hello")["served"] is True
    second = apprentice("serve")  # one per home: the second says where the first runs
    assert second.returncode == 1
    assert "already runs" in second.stderr and server.url in second.stderr and "Traceback" not in second.stderr

    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    assert socket_path().exists() and state_path().exists()  # left behind, as after a crash
    data = ask_json(capsys, "Hello")
    assert data["served"] is False and data["model"] == "tiny" and data["tokens"] == 8

    assert main(["serve", "--status"]) == 0
    assert "No server runs" in capsys.readouterr().out
    assert not socket_path().exists() and not state_path().exists()  # cleaned up
    again = Running()
    try:
        assert ask_json(capsys, "Hello")["served"] is True
        assert main(["serve", "--stop"]) == 0
        assert "Stopped the server" in capsys.readouterr().err
        again.process.wait(timeout=30)
        assert status() is None and not socket_path().exists()
    finally:
        again.stop()


def test_consent_is_asked_at_the_client_over_the_socket(inproc, gemini):
    from assistant.server.client import served

    fake = gemini(answers={"What is the capital of France?": "Paris is the capital of France."})
    inproc()
    remote = served()
    assert remote is not None
    asked = []

    def refuse(text):
        asked.append(text)
        return False

    answer = remote.answer("What is the capital of France?", force="cloud", mode="ask", consent=refuse)
    "".join(answer)
    kept = answer.result()
    assert asked == ["What is the capital of France?"]
    assert kept["route"] == "local" and "You kept this query on this machine." in kept["notes"]
    assert not fake.record_path.exists() or not fake.record_path.read_text()  # nothing left

    answer = remote.answer("What is the capital of France?", force="cloud", mode="ask", consent=lambda text: True)
    text = "".join(answer)
    sent = answer.result()
    assert sent["route"] == "cloud" and sent["served"] is True and text == "Paris is the capital of France."


# -- the API's rules -----------------------------------------------------------------------------------


def test_ask_mode_keeps_api_queries_local_with_a_note(inproc, gemini, monkeypatch):
    fake = gemini()
    server = inproc()  # a key and no mode set: ask mode
    port = server._http.server_address[1]
    code, headers, reply = chat(port, messages=[{"role": "user", "content": "What's the weather in Paris tomorrow?"}])
    assert code == 200 and headers["x-apprentice-route"] == "local"
    assert any("no one to ask" in note for note in reply["apprentice"]["notes"])
    assert "kept local" in headers["x-apprentice-reason"]
    assert not fake.record_path.exists() or not fake.record_path.read_text()

    # auto mode reaches the API only when config.toml allows it
    monkeypatch.setenv("APPRENTICE_MODE", "auto")
    server.settings = config.load()  # as a server started with mode = "auto" in config.toml
    code, headers, reply = chat(port, messages=[{"role": "user", "content": "What's the weather in Paris tomorrow?"}])
    assert headers["x-apprentice-route"] == "local"
    assert any("serve_api_auto" in note for note in reply["apprentice"]["notes"])


def test_bad_requests_get_openai_errors_and_the_server_keeps_serving(inproc):
    import openai

    server = inproc()
    port = server._http.server_address[1]
    code, _, reply = post(port, b"{not json")
    assert code == 400 and reply["error"]["type"] == "invalid_request_error" and "JSON" in reply["error"]["message"]
    code, _, reply = post(port, b'{"model": "apprentice"}')
    assert code == 400 and reply["error"]["param"] == "messages"
    code, _, reply = chat(port, messages=[{"role": "tool", "content": "x"}])
    assert code == 400
    code, _, reply = post(port, b"x" * 1_000_001)
    assert code == 413 and reply["error"]["code"] == "body_too_large"
    for field, value in (("model", ["apprentice"]), ("stream", "yes"), ("stream_options", "include_usage")):
        code, _, reply = chat(port, **{field: value})
        assert code == 400 and reply["error"]["param"] == field, reply

    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
    assert "GET /v1/models lists them" in str(caught.value)

    code, _, reply = chat(port)
    assert code == 200 and reply["usage"]["completion_tokens"] == 8  # still serving
    assert len(api_turns()) == 1  # only the good request was logged


def test_a_requests_max_tokens_and_temperature_are_honoured(inproc):
    import openai

    server = inproc()  # the configured max_tokens is 8
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{server._http.server_address[1]}/v1", api_key="unused")
    hello = [{"role": "user", "content": "Hello there"}]

    reply = client.chat.completions.create(model="apprentice", messages=hello, max_tokens=3)
    assert reply.usage.completion_tokens == 3 and reply.choices[0].finish_reason == "length"
    stream = client.chat.completions.create(
        model="apprentice-local", messages=hello, max_completion_tokens=2, stream=True,
        stream_options={"include_usage": True},
    )  # fmt: skip
    assert list(stream)[-1].usage.completion_tokens == 2
    reply = client.chat.completions.create(model="apprentice", messages=hello, max_tokens=500)
    assert reply.usage.completion_tokens == 8  # never beyond the configured bound, and the reply says so
    assert any("answered within 8" in note for note in reply.model_extra["apprentice"]["notes"])

    def texts(temperature):
        return {
            client.chat.completions.create(model="apprentice", messages=hello, temperature=temperature)
            .choices[0]
            .message.content
            for _ in range(4)
        }

    assert len(texts(0)) == 1  # greedy: the same answer every time
    assert len(texts(2)) > 1  # sampled hot: the random tiny student says something else each time
    for bad in ({"max_tokens": 0}, {"max_completion_tokens": "many"}, {"temperature": 3}):
        with pytest.raises(openai.BadRequestError) as caught:
            client.chat.completions.create(model="apprentice", messages=hello, **bad)
        assert caught.value.body["param"] == next(iter(bad))
    assert len(api_turns()) == 3 + 8  # the refused requests were never logged


def test_a_client_that_hangs_up_mid_stream(inproc):
    server = inproc(APPRENTICE_MAX_TOKENS="512")  # the tiny student goes on for a few dozen tokens
    port = server._http.server_address[1]
    with socket.create_connection(("127.0.0.1", port)) as raw:
        body = json.dumps({"model": "apprentice", "stream": True, "messages": [{"role": "user", "content": "Hi"}]})
        raw.sendall(
            f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}".encode()
        )
        raw.recv(1)  # the reply began; closing with it unread resets the connection
    code, _, reply = chat(port)
    assert code == 200 and reply["usage"]["completion_tokens"] > 0  # the server goes on serving
    hung_up, answered = reversed(api_turns())
    assert hung_up["query"] == "Hi" and hung_up["status"] == "interrupted"  # kept, and said to be cut short
    assert answered["status"] == "done"


def test_a_command_that_hangs_up_on_the_socket_mid_answer(inproc, capsys):
    server = inproc(APPRENTICE_MAX_TOKENS="512")
    with socket.socket(socket.AF_UNIX) as raw:  # as `apprentice ask` does, then Ctrl-C after the first words
        raw.connect(str(socket_path()))
        raw.sendall(json.dumps({"op": "answer", "query": "Hi", "source": "ask"}).encode() + b"\n")
        reader = raw.makefile("rb")
        assert json.loads(reader.readline())["event"] == "started"
        assert json.loads(reader.readline())["event"] == "text"
        reader.close()
    give_up = time.monotonic() + 60
    while Store().turns(limit=None)[0]["status"] == "pending" and time.monotonic() < give_up:
        time.sleep(0.05)
    cut = Store().turns(limit=None)[0]
    assert cut["status"] == "interrupted" and cut["tokens"] < 512  # kept, said to be cut short, stopped
    assert server.desk.waiting == 0
    data = ask_json(capsys, "Hello")  # the server goes on serving
    assert data["served"] is True and data["turn_id"] == cut["id"] + 1


def test_two_clients_are_answered_in_turn_and_a_full_line_gets_503(inproc):
    server = inproc(APPRENTICE_SERVE_QUEUE="0")
    port = server._http.server_address[1]
    replies = []
    threads = [threading.Thread(target=lambda: replies.append(chat(port))) for _ in range(2)]
    with server.desk.turn():  # someone is being answered: one may wait, the next is turned away
        threads[0].start()
        while server.desk.waiting == 0:
            time.sleep(0.01)
        code, headers, reply = chat(port)
        assert code == 503 and headers["Retry-After"] == "5" and reply["error"]["code"] == "overloaded"
    threads[0].join()
    threads[1].start()
    threads[1].join()
    assert [code for code, _, _ in replies] == [200, 200]
    assert len(api_turns()) == 2  # the refused one was never logged


def test_a_token_guards_the_api_and_other_addresses_are_refused(inproc, monkeypatch):
    import openai

    from assistant.server.daemon import Server

    monkeypatch.setenv("APPRENTICE_SERVE_HOST", "0.0.0.0")
    with pytest.raises(ApprenticeError, match="serve_allow_remote"):
        Server(config.load()).start()
    monkeypatch.setenv("APPRENTICE_SERVE_ALLOW_REMOTE", "1")
    with pytest.raises(ApprenticeError, match="serve_token"):
        Server(config.load()).start()
    assert status() is None  # nothing listens, and no lock is held
    monkeypatch.delenv("APPRENTICE_SERVE_HOST")
    monkeypatch.delenv("APPRENTICE_SERVE_ALLOW_REMOTE")

    server = inproc(APPRENTICE_SERVE_TOKEN="s3cret")
    url = server.url
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=url, api_key="wrong", max_retries=0).models.list()
    assert "apprentice" in [m.id for m in openai.OpenAI(base_url=url, api_key="s3cret").models.list()]
    assert oct(socket_path().stat().st_mode & 0o777) == "0o600"


def test_private_mode_opens_no_outbound_socket(inproc, capsys):
    connects = []
    watching = threading.Event()

    def hook(event, args):
        if watching.is_set() and event == "socket.connect":
            connects.append(args[1])

    sys.addaudithook(hook)  # hooks stay for the process; this one only records while watching
    watching.set()
    try:
        server = inproc()
        code, _, reply = chat(server._http.server_address[1])
        served = ask_json(capsys, "What's the weather in Paris tomorrow?")
    finally:
        watching.clear()
    assert code == 200 and served["served"] is True and served["route"] == "local"
    for address in connects:
        assert isinstance(address, str) or address[0] in ("127.0.0.1", "::1", "localhost"), address


def test_a_promoted_student_answers_without_a_restart(inproc, tiny_checkpoint):
    from conftest import register_checkpoint

    server = inproc()
    port = server._http.server_address[1]
    assert chat(port)[1]["x-apprentice-model"] == "tiny"
    register_checkpoint(tiny_checkpoint, "tiny2")  # as `apprentice distill` promotes a version
    _, headers, reply = chat(port)
    assert headers["x-apprentice-model"] == "tiny2" and reply["apprentice"]["model"] == "tiny2"
    _, headers, _ = chat(port, model="tiny")  # an older version by name still answers
    assert headers["x-apprentice-model"] == "tiny"


def test_the_server_rings_timers_and_no_second_ringer_starts(inproc, monkeypatch):
    from assistant.tools import ringer

    monkeypatch.setenv("APPRENTICE_RINGER", "on")
    server = inproc()
    give_up = time.monotonic() + 10
    while ringer.running(Path(config.home())) != os.getpid() and time.monotonic() < give_up:
        time.sleep(0.1)
    assert ringer.running(Path(config.home())) == os.getpid()  # the server holds the ringer's lock
    _, _, reply = chat(
        server._http.server_address[1], messages=[{"role": "user", "content": "Set a timer for 1 second"}]
    )
    assert reply["apprentice"]["action"]["name"] == "timer"
    give_up = time.monotonic() + 15
    while time.monotonic() < give_up:
        rows = Store().db.execute("SELECT status FROM timers").fetchall()
        if rows and rows[0][0] == "rung":
            break
        time.sleep(0.2)
    assert rows == [("rung",)]
    assert not (Path(config.home()) / "logs" / "ringer.log").exists()  # no ringer process was started
    assert lock_path().exists()


def test_bench_measures_ask_alone_and_served(tiny_student):
    from model.bench import served

    figures = served.measure(1)
    walls = figures["ask_wall_ms"]
    assert walls["alone"]["median"] > 0 and walls["served"]["median"] > 0
    assert 0 < figures["http_first_token_ms"]["median"] <= figures["http_whole_ms"]["median"]
    assert figures["student"] == "tiny"
    assert not any("as intended" in note for note in figures["notes"])  # each ask served, or not, as meant
    if figures["voice_first_audio_ms"] is None:  # no espeak-ng or no Whisper here: said so
        assert any("voice through the server is not measured" in note for note in figures["notes"])
    else:
        assert figures["voice_transcript"].lower().startswith("what is the capital")
        assert 0 < figures["voice_first_audio_ms"] <= figures["voice_wall_ms"]["median"]
    assert Store().turns(limit=None) == []  # measured in a home of its own


def test_voice_hears_through_the_servers_recognizer(server, capsys, tmp_path, monkeypatch):
    import wave

    import numpy as np

    from assistant import speech

    monkeypatch.setattr(speech, "_loaded", {})
    rate = 16_000
    t = np.arange(int(1.5 * rate)) / rate
    tone = 0.5 * np.sin(2 * np.pi * (220 + 200 * t) * t) * np.minimum(1, 4 * t)  # not silence: it is sent
    wav = tmp_path / "tone.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(rate)
        w.writeframes((tone * 32767).astype("<i2").tobytes())
    # a language Whisper does not know fails at once, before any decoding: the server's recognizer
    # read the recording, and its sentence reaches the user as it would without a server
    code = main(["voice", "--wav", str(wav), "--tts", "none", "--json", "--language", "xx"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.strip().endswith(
        "Whisper does not know the language 'xx'; use a code such as en, fr or de, or --language auto."
    )
    assert speech._loaded == {}  # nothing was loaded here


def test_a_port_in_use_is_one_sentence_and_leaves_nothing_behind(settings_env, monkeypatch, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setenv("APPRENTICE_SERVE_PORT", str(taken.getsockname()[1]))
        code = main(["serve"])
    err = capsys.readouterr().err
    assert code == 1 and "Cannot listen on 127.0.0.1" in err and "--port" in err and "Traceback" not in err
    assert status() is None and not socket_path().exists() and not state_path().exists()


def test_a_port_out_of_range_is_one_sentence_before_anything_is_loaded(settings_env, monkeypatch, capsys):
    code = main(["serve", "--port", "99999"])
    err = capsys.readouterr().err
    assert code == 2 and "'--port': 99999 is not in the range" in err and "Traceback" not in err
    monkeypatch.setenv("APPRENTICE_SERVE_PORT", "70000")
    code = main(["serve"])
    err = capsys.readouterr().err
    assert code == 1 and "serve_port is 0 for any free port or a port up to 65535, not 70000" in err
    assert "Traceback" not in err and status() is None and not state_path().exists()
