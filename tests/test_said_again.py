"""A sentence below the cascade line stands when the student says it again, asked again; else it is sent on."""

from pathlib import Path

import pytest

from assistant import said_again
from assistant.core import Assistant, CascadeStep
from assistant.engine import Token
from assistant.student import _DONE, Student, StudentResponse
from tests.conftest import sent_requests


def test_the_key_words_are_the_answers_names_and_numbers_not_the_questions():
    assert said_again.key_words("The capital of Ghana is Accra. It is on the coast.", "Capital of Ghana?") == {"accra"}
    assert said_again.key_words("A spider has 8 legs.", "How many legs does a spider have?") == {"8"}
    assert said_again.key_words("It is a process that plants use.", "What is photosynthesis?") == set()


def test_agreement_is_the_share_of_answers_that_say_a_key_word_again():
    query, said = "Who wrote Hamlet?", "Hamlet was written by William Shakespeare."
    assert said_again.agreement(said, ["Shakespeare wrote it.", "William Shakespeare.", "It was Will."], query) == (
        pytest.approx(2 / 3)
    )
    assert said_again.agreement(said, ["Christopher Marlowe.", "Marlowe.", "Ben Jonson."], query) == 0.0
    assert said_again.agreement("It was basil.", ["Basil."], "Which herb is in pesto?") is None  # no name, not asked


def test_the_same_query_is_asked_again_from_the_same_seeds():
    assert said_again.seeds("Who wrote Hamlet?") == said_again.seeds("who  wrote hamlet?")
    assert len(set(said_again.seeds("Who wrote Hamlet?"))) == said_again.SAMPLES
    assert said_again.seeds("Who wrote Hamlet?") != said_again.seeds("Who wrote Macbeth?")


def test_a_sampled_answer_from_a_seed_is_the_same_each_time(tiny_checkpoint: Path):
    student = Student(tiny_checkpoint, name="tiny")
    try:
        ask = [{"role": "user", "content": "Who wrote Hamlet?"}]

        def sample(seed):
            return student.stream(ask, max_tokens=12, temperature=1.0, seed=seed).complete()

        first, again, other = sample(7), sample(7), sample(8)
        assert first == again and first != other  # a random model's samples: the seed alone decides
    finally:
        student.close()


def _step(sentence: str, again: float | None, line: float = 0.5) -> CascadeStep:
    class Answered:  # what the student said, unshown, as the cascade reads it
        tool_call = tool_call_text = None
        text = said = sentence
        confidence = -0.6

    return CascadeStep(Answered(), line=-0.3, query="Who wrote Hamlet?", said_again=again, again_line=line)


def test_an_unsure_sentence_said_again_stands_and_one_said_otherwise_does_not():
    kept = _step("William Shakespeare wrote Hamlet.", 1.0)
    assert kept.worth_asking_again and kept.sure
    assert "said it again when asked again (100% of its answers" in kept.why_sure
    sent = _step("William Shakespeare wrote Hamlet.", 0.2)
    assert not sent.sure and "did not say it again when asked again (20% of its answers" in sent.doubt
    assert not _step("William Shakespeare wrote Hamlet.", None).sure  # not asked: the line alone decides


class SaysAgain:
    """A student that answers in one sentence, unsure (-0.6 a token), and says `again` when asked again."""

    def __init__(self, name: str, sentence: str, again: list[str]):
        self.name, self.sentence, self.again, self.asked = name, sentence, again, []

    def stream(self, messages, conversation=None, max_tokens=512, temperature=None, words=False, seed=None):
        self.asked.append(seed)
        response = StudentResponse(self.name, messages, conversation, max_tokens, temperature, words, seed)
        said = self.sentence if seed is None else self.again[(len(self.asked) - 2) % len(self.again)]
        response._queue.put(Token(said, -0.6))
        response.usage.tokens = 1
        response._queue.put(_DONE)
        return response

    def close(self):
        pass


@pytest.mark.parametrize(
    "again, line, kept, asked",
    [
        (["Shakespeare wrote it.", "William Shakespeare.", "It was Shakespeare, William."], 0.5, True, 3),
        # two of three named nothing: half is out of reach, the third is not asked
        (["Christopher Marlowe.", "Ben Jonson wrote it.", "William Shakespeare."], 0.5, False, 2),
        (["Shakespeare wrote it.", "William Shakespeare.", "Christopher Marlowe."], 1.0, False, 3),  # all, by default
        (["Christopher Marlowe.", "William Shakespeare.", "Shakespeare wrote it."], 1.0, False, 1),  # settled at once
        (["Shakespeare wrote it.", "William Shakespeare.", "It was Shakespeare, William."], 1.0, True, 3),
        (["Shakespeare wrote it.", "William Shakespeare.", "It was Shakespeare, William."], 2.0, False, 0),  # off
    ],
)
def test_the_cascade_keeps_an_unsure_sentence_the_student_says_again(
    tiny_student, gemini, monkeypatch, again, line, kept, asked
):
    fake = gemini(answers={"Who wrote Hamlet?": "William Shakespeare wrote Hamlet."})
    monkeypatch.setenv("APPRENTICE_CASCADE_SAID_AGAIN", str(line))
    assistant = Assistant()
    student = SaysAgain(assistant.student().name, "William Shakespeare wrote Hamlet.", again)
    assistant.student = lambda version=None: student
    answer = assistant.answer("Who wrote Hamlet?", mode="auto")
    assert "".join(answer) == "William Shakespeare wrote Hamlet."
    assert (answer.decision.route == "local") == kept and (sent_requests(fake) == []) == kept
    # asked again from the query's own seeds, until what is needed is reached or out of reach
    assert student.asked == [None, *said_again.seeds("Who wrote Hamlet?")[:asked]]
    if line <= 1:
        assert ("the student said it again" if kept else "did not say it again") in answer.decision.reason


def test_a_sentence_with_no_name_or_number_is_not_asked_again(tiny_student, gemini, monkeypatch):
    """Nothing in it could be said again, so no answer asked again could keep it: none is asked."""
    gemini(answers={"Who wrote Hamlet?": "William Shakespeare wrote Hamlet."})
    monkeypatch.setenv("APPRENTICE_CASCADE_SAID_AGAIN", "1.0")
    assistant = Assistant()
    student = SaysAgain(assistant.student().name, "It was written a long time ago.", ["Shakespeare."] * 3)
    assistant.student = lambda version=None: student
    answer = assistant.answer("Who wrote Hamlet?", mode="auto")
    assert "".join(answer) == "William Shakespeare wrote Hamlet."  # the teacher's, for the student was unsure
    assert student.asked == [None] and answer.decision.route == "cloud"
