"""What a cold start imports: a private question loads no module it never uses, and transformers'
table of its own exports comes from one file in cache/imports instead of its 3,400 source files."""

import json
import subprocess
import sys

NEVER_FOR_A_PRIVATE_QUESTION = ("textual", "google.genai", "torch", "sentence_transformers", "phonenumbers", "stdnum")

ASK = f"""
import sys
from assistant.cli import main
code = main(["ask", "Say hello.", "--no-log", "--mode", "private", "--max-tokens", "2", "--json"])
print("\\nLOADED", [name for name in {NEVER_FOR_A_PRIVATE_QUESTION!r} if name in sys.modules])
sys.exit(code)
"""


def test_a_private_question_imports_none_of_what_it_never_uses(tiny_student, gemini):
    gemini()  # a key is set: a private question still builds no client
    done = subprocess.run([sys.executable, "-c", ASK], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "LOADED []"
    assert json.loads(done.stdout.split("\nLOADED")[0])["tokens"] == 2  # and the student answered


TOKENIZE = """
import sys
from pathlib import Path
from assistant import coldstart
coldstart.install(Path(sys.argv[1]))
sys.modules["torch"] = None  # as the student imports transformers
from transformers import AutoTokenizer
ids = AutoTokenizer.from_pretrained(sys.argv[2])("What is the capital of France?")["input_ids"]
print(sys.modules["transformers.utils.import_utils"].define_import_structure.built, ids)
"""


def tokenize(folder, checkpoint) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-c", TOKENIZE, str(folder), str(checkpoint)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    built, ids = done.stdout.strip().splitlines()[-1].split(" ", 1)
    return int(built), ids


def test_transformers_export_table_is_read_from_its_file_with_the_same_tokens(tiny_checkpoint, tmp_path):
    folder = tmp_path / "imports"
    built, ids = tokenize(folder, tiny_checkpoint)
    (path,) = folder.glob("transformers-*.pickle")
    assert built >= 2  # transformers' own table and its models package's, the first time
    written = path.stat().st_mtime_ns
    again = tokenize(folder, tiny_checkpoint)
    assert again == (0, ids)  # every table from the file, and the tokenizer unchanged
    assert path.stat().st_mtime_ns == written
    path.write_bytes(b"torn")  # a damaged file: built from transformers' files again, and replaced
    assert tokenize(folder, tiny_checkpoint) == (built, ids)
    assert path.stat().st_size > 4


FAST_PATH_QUERIES = ("set a timer for 10 minutes", "convert 5 miles to km", "what is 17 * 23", "Say hello.")


def test_the_fast_paths_parsed_templates_are_kept_and_match_the_same(home):
    from assistant.tools import fastpath

    fastpath._intents.cache_clear()  # as a new process: nothing parsed yet
    parsed = [fastpath.match(q) for q in FAST_PATH_QUERIES]
    (path,) = (home / "cache" / "intents").glob("*.pickle")
    written = path.stat().st_mtime_ns
    fastpath._intents.cache_clear()
    assert [fastpath.match(q) for q in FAST_PATH_QUERIES] == parsed  # from the file
    assert path.stat().st_mtime_ns == written
    assert [c.name if c else None for c in parsed] == ["timer", "convert", "calculate", None]
    path.write_bytes(b"torn")  # a damaged file: parsed from the YAML again, and replaced
    fastpath._intents.cache_clear()
    assert [fastpath.match(q) for q in FAST_PATH_QUERIES] == parsed
    assert path.stat().st_size > 4
    fastpath._intents.cache_clear()
