"""What a cold start loads: the system prompt's cache kept on disk, and for a private question no
PyTorch, transformers, Hugging Face hub client or Gemini client."""

import json
import subprocess
import sys

from assistant.student import Student

PROMPT = "You are terse. Tools: clock(place); calculate(expression); convert(value, from_unit, to_unit)."
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


def answer(student: Student, conversation: str) -> tuple[str, int]:
    response = student.stream(QUESTION, conversation=conversation, max_tokens=12)
    return response.complete(), response.usage.cached_tokens


def started(checkpoint, cache_dir, prompt=PROMPT) -> Student:
    return Student(checkpoint, name="tiny", system_prompt=prompt, context_tokens=512, cache_dir=cache_dir)


def test_the_system_prompts_cache_is_kept_on_disk_and_read_back_with_the_same_answer(tiny_checkpoint, tmp_path):
    cache_dir = tmp_path / "prompts"
    alone = Student(tiny_checkpoint, name="tiny", system_prompt=PROMPT, context_tokens=512)
    alone._system_prefix = lambda: None  # every prompt read whole: the answer without any prefix
    first, again = started(tiny_checkpoint, cache_dir), None
    try:
        reference, _ = answer(alone, "r")
        text, cached = answer(first, "a")
        files = list((tmp_path / "prefix").glob("*.safetensors"))
        assert len(files) == 1 and cached > 20
        written = files[0].stat().st_mtime_ns
        again = started(tiny_checkpoint, cache_dir)  # as the next command would
        text_again, cached_again = answer(again, "b")
    finally:
        for s in (alone, first, again):
            if s is not None:
                s.close()
    assert text == text_again == reference and cached_again == cached
    assert files[0].stat().st_mtime_ns == written  # read, not computed and written again


def test_a_damaged_or_foreign_prefix_file_is_replaced_and_the_answer_is_unchanged(tiny_checkpoint, tmp_path):
    cache_dir = tmp_path / "prompts"
    first = started(tiny_checkpoint, cache_dir)
    try:
        reference, _ = answer(first, "a")
    finally:
        first.close()
    (path,) = (tmp_path / "prefix").glob("*.safetensors")
    for n, damage in enumerate((b"not a safetensors file", path.read_bytes()[: path.stat().st_size // 2])):
        path.write_bytes(damage)
        student = started(tiny_checkpoint, cache_dir)
        try:
            assert answer(student, f"new-{n}")[0] == reference  # a new conversation: it starts from the prefix
        finally:
            student.close()
        assert path.stat().st_size > len(damage)  # written again, whole


def test_another_system_prompt_gets_a_cache_of_its_own(tiny_checkpoint, tmp_path):
    cache_dir = tmp_path / "prompts"
    for prompt in (PROMPT, "You answer in one word."):
        student = started(tiny_checkpoint, cache_dir, prompt)
        try:
            answer(student, prompt)  # a new conversation for each
        finally:
            student.close()
    assert len(list((tmp_path / "prefix").glob("*.safetensors"))) == 2


PROBE = """
import sys
from assistant.cli import main
code = main(["ask", "Say hello.", "--no-log", "--mode", "private", "--max-tokens", "2", "--json"])
loaded = ("torch", "google.genai", "sentence_transformers", "transformers", "huggingface_hub")
print("\\nLOADED", *(name in sys.modules for name in loaded))
sys.exit(code)
"""


def test_a_private_question_loads_no_pytorch_transformers_hub_client_or_gemini_client(tiny_student, gemini):
    gemini()  # a key is set: private mode still builds no client
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "LOADED False False False False False"
    assert json.loads(done.stdout.split("\nLOADED")[0])["tokens"] == 2  # and the student answered


def test_pytorch_still_imports_after_the_student_loaded(tiny_checkpoint):
    """The student's loading keeps transformers away from torch; torch itself stays importable."""
    probe = (
        "import sys; from assistant.student import Student; "
        f"s = Student({str(tiny_checkpoint)!r}, name='tiny'); "
        "assert 'torch' not in sys.modules; import torch; print(torch.ones(2).sum().item())"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.split()[-1] == "2.0", done.stderr
