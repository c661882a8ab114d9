"""Settings, and where Apprentice keeps things on disk.

One visible order: defaults < APPRENTICE_HOME/config.toml < APPRENTICE_* environment
variables < command-line flags. Every setting is a field of `Settings`; the
environment variable for `max_tokens` is `APPRENTICE_MAX_TOKENS`. Loading never prints:
a setting that cannot be used raises ApprenticeError, one that is only ignored (an unknown
name in config.toml) is passed to the caller's `warn`, and the surface shows it.

    python -m assistant.config      # print the settings in force and where they came from
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

import platformdirs

from assistant.errors import ApprenticeError

MODES = ("private", "ask", "auto")
CALIBRATIONS = ("risk", "precision")  # how a distilled version's cascade lines are drawn (model/distill/calibration.py)


@dataclass(frozen=True)
class Settings:
    mode: str = ""  # private | ask | auto; empty: private until a Gemini key is set, then ask
    temperature: float = 0.0  # 0 decodes greedily, so answers repeat
    top_p: float = 1.0
    # a distilled student's words are the base student's: its adapter only decides whether and how to call a
    # tool (assistant/student.py); false: the adapter writes the words too, as trained
    student_words_from_base: bool = True
    max_tokens: int = 512  # longest answer, in tokens; a tool call begun within it is read to its end
    context_tokens: int = 4096  # prompt + answer budget; capped by the model's own limit
    system_prompt: str = ""  # empty: assets/system_prompt.md
    prompt_cache_conversations: int = 8  # follow-ups kept cheap for this many conversations
    # the commonest phrasings run their tool from sentence templates, and a question about the user's
    # own things is read from their notes (tools.note.recall), before any model
    fast_path: bool = True
    student_tools: bool = True  # the tool list in the student's system prompt; off: a student that only talks
    # the teacher
    gemini_model: str = "gemini-2.5-flash"
    teacher_timeout_s: float = 60.0
    teacher_retries: int = 3  # on 408/429/5xx and broken connections, before any text arrived
    teacher_max_retry_delay_s: float = 10.0  # a 429 asking to wait longer fails at once
    teacher_daily_cap: int = 200  # teacher queries a day in auto mode; past it, answers stay local
    redact_terms: tuple = ()  # your own words to redact (names, projects); env: comma-separated
    # the router (see assistant/router.py); scores are P(the student would be wrong)
    router_cloud_threshold: float = 0.6
    router_local_threshold: float = 0.3
    router_prior: float = 0.45  # with no similar past query: the cascade decides
    router_prior_weight: float = 3.0  # the prior counts as this many similar past queries (assistant/router.py)
    # the cascade keeps the student's answer when its mean token log-probability reaches this; a
    # distilled version carries its own line, calibrated on held-out queries (see model/distill.py).
    # This one is the base default student's, drawn the way a version's was (risk, 5%) on its answers
    # to the 345 shipped train queries that reach the cascade: -0.45 kept 88, 68 of them wrong; this
    # keeps 31, 16 wrong, and 18, 3 wrong, once the 74 that cannot stand are sent on. Counting those
    # as no risk, `apprentice bench line` now draws -0.427; that line kept more wrong answers on both
    # test sets before any distillation (routed 91% and 85% against 95% and 98%), so this one stays
    # (README, The router)
    cascade_min_logprob: float = -0.345
    # a sentence below the line stands when this share of 3 answers the student gives asked again at a
    # temperature name what it named (assistant/said_again.py; README, The router); above 1: never asked again
    cascade_said_again: float = 1.0
    cascade_precision: float = 0.9  # calibration: answers kept must be right this often on held-out queries
    cascade_calibration: str = "risk"  # how a distilled version's line is drawn: risk | precision
    cascade_risk: float = 0.05  # calibration "risk": bound on the share of held-out and local answers kept and wrong
    judge_agree_similarity: float = 0.75
    # a query asked again right after a local answer, as weak evidence that answer was wrong (assistant/rephrase.py);
    # off: one detection in six or seven was a follow-up, not a rephrase, on the labelled set
    rephrase_signal: bool = False
    rephrase_similarity: float = 0.85  # cosine similarity of the two queries (and the same numbers)
    rephrase_window_s: float = 120.0  # asked again within this many seconds of the answer
    # distillation (model/distill.py; `apprentice distill --help` says what each does)
    distill_min_examples: int = 20
    distill_heldout_fraction: float = 0.2
    distill_dedup_similarity: float = 0.85
    distill_fine_tune_type: str = "lora"
    distill_num_layers: int = 16
    distill_lora_modules: str = "all"  # all | attention: which linear layers of an adapted block learn
    distill_lora_rank: int = 8
    distill_lora_scale: float = 20.0
    # Learning rate, epochs and replay: the recipe measured best on the action lines (README, Actions)
    distill_learning_rate: float = 2e-4
    distill_lr_schedule: str = "constant"  # constant | cosine: the rate held, or eased to 0 by the last step
    distill_batch_size: int = 4
    distill_epochs: int = 3
    distill_iters: int = 0
    distill_max_seq_length: int = 1024
    distill_save_every: int = 10
    distill_margin: float = 0.05
    distill_eval_limit: int = 60
    distill_eval_max_tokens: int = 128
    distill_rejudge_seconds: float = 120.0
    distill_rejudge_trained: bool = False
    distill_retention_max_drop: float = 0.05  # retention a candidate may lose and still be promoted
    distill_strengths: str = "1,0.75,0.5,0.35,0.25"  # shares of the learned change the gate tries, strongest first
    distill_replay: float = 0.3  # share of training rows that replay the student's own right answers
    distill_kl_weight: float = 0.0  # KL to the current student on every trained answer token, beside the loss
    distill_correction_weight: int = 3  # times a correction (/bad, then the teacher) is repeated in the training rows
    distill_rationales: bool = False
    distill_tool_targets: bool = True  # a teacher's "44 ÷ 4 = 11." is taught as the call (tool_targets.py)
    distill_balance_calls: bool = True  # a tool's rarer call shapes repeated in training (call_shapes.py)
    distill_seed: int = 0
    distill_seeds: int = 2  # adapters trained from successive seeds, their learned changes averaged
    # `apprentice serve` (assistant/server/): the resident assistant and its OpenAI-compatible API
    serve_host: str = "127.0.0.1"  # loopback; any other address needs serve_allow_remote and serve_token
    serve_port: int = 8741  # 0: any free port (APPRENTICE_HOME/serve.json says which)
    serve_allow_remote: bool = False  # listen where other machines can reach (needs serve_token)
    serve_token: str = ""  # when set, every HTTP request needs `Authorization: Bearer <token>`
    serve_api_auto: bool = False  # auto mode applies to API queries too (else they stay local)
    serve_queue: int = 4  # HTTP queries that may wait for the student; one more gets 503
    use_server: bool = True  # ask and voice use a running server (APPRENTICE_USE_SERVER=0: never)


def home() -> Path:
    """The folder that holds all user state: database, models, config."""
    env = os.environ.get("APPRENTICE_HOME")
    return Path(env).expanduser() if env else Path(platformdirs.user_data_dir("apprentice"))


def cache_dir() -> Path:
    """Read-only downloads (pulled wheels), shared by every home on this machine."""
    env = os.environ.get("APPRENTICE_CACHE")
    return Path(env).expanduser() if env else Path(platformdirs.user_cache_dir("apprentice"))


def assets_dir() -> Path:
    """assets/ of a source checkout, or its copy inside an installed wheel (assistant/assets)."""
    here = Path(__file__).resolve().parent
    installed = here / "assets"
    return installed if installed.is_dir() else here.parent / "assets"


def _coerce(name: str, value, kind: type, origin: str):
    if kind is tuple:
        if isinstance(value, str):
            value = [v for v in value.split(",")]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ApprenticeError(f"{origin}: {name} must be a list of words, not {value!r}.")
        return tuple(v.strip() for v in value if v.strip())
    try:
        if kind is bool and isinstance(value, str):
            if value.lower() in ("1", "true", "yes", "on"):
                return True
            if value.lower() in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(value)
        return kind(value)
    except (TypeError, ValueError):
        raise ApprenticeError(f"{origin}: {name} must be a {kind.__name__}, not {value!r}.") from None


def load(overrides: dict | None = None, warn: Callable[[str], None] | None = None) -> Settings:
    """Settings from defaults, config.toml, environment and `overrides` (flags), in that order.

    `warn(sentence)` hears about what is ignored (an unknown setting in config.toml): the CLI
    prints it as a note, the chat app shows a notification; without `warn` it is dropped.
    """
    types = {f.name: type(f.default) for f in fields(Settings)}
    values: dict = {}
    path = home() / "config.toml"
    if path.exists():
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ApprenticeError(f"{path} is not valid TOML ({exc}); fix or remove it.") from None
        for name, value in table.items():
            if name not in types:
                if warn is not None:
                    warn(
                        f"{path} has no setting {name!r}, so it is ignored; check its spelling "
                        "(`python -m assistant.config` lists every setting)."
                    )
                continue
            values[name] = _coerce(name, value, types[name], str(path))
    for name, kind in types.items():
        env = os.environ.get(f"APPRENTICE_{name.upper()}")
        if env is not None:
            values[name] = _coerce(name, env, kind, f"APPRENTICE_{name.upper()}")
    for name, value in (overrides or {}).items():
        if value is not None:
            values[name] = _coerce(name, value, types[name], f"--{name.replace('_', '-')}")
    settings = Settings(**values)
    if settings.mode and settings.mode not in MODES:
        raise ApprenticeError(f"mode must be one of {', '.join(MODES)}, not {settings.mode!r}.")
    if settings.cascade_calibration not in CALIBRATIONS:
        raise ApprenticeError(
            f"cascade_calibration must be one of {', '.join(CALIBRATIONS)}, not {settings.cascade_calibration!r}."
        )
    if not 0 < settings.cascade_risk < 1:
        raise ApprenticeError(f"cascade_risk is a share between 0 and 1, not {settings.cascade_risk}.")
    if not 0 <= settings.serve_port <= 65535:
        raise ApprenticeError(f"serve_port is 0 for any free port or a port up to 65535, not {settings.serve_port}.")
    if settings.router_prior_weight < 0:
        raise ApprenticeError(
            f"router_prior_weight counts past queries, so it is 0 or more, not {settings.router_prior_weight}."
        )
    return settings


def system_prompt(settings: Settings) -> str:
    if settings.system_prompt:
        return settings.system_prompt
    return (assets_dir() / "system_prompt.md").read_text(encoding="utf-8").strip()


if __name__ == "__main__":
    try:
        loaded = load(warn=lambda warning: print(f"warning: {warning}", file=sys.stderr))
    except ApprenticeError as exc:
        sys.exit(f"Error: {exc}")
    for key, value in dataclasses.asdict(loaded).items():
        print(f"{key} = {value!r}")
    print(f"# home: {home()}\n# cache: {cache_dir()}")
