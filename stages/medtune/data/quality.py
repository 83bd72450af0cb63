"""Quality filter: every rejected row gets one named reason."""

from __future__ import annotations

import re

import py3langid

NON_ANSWER = re.compile(
    r"^(?:these resources address the diagnosis or management of"
    r"|(?:no|there is no) (?:information|answer) (?:is )?(?:available|found)"
    r"|(?:we|i) (?:do not|don't) (?:know|have)"
    r"|not available"
    r"|see (?:the|a list of) )",
    re.IGNORECASE,
)
DANGLING_WORDS = {"and", "or", "the", "of", "to", "with", "a", "an", "in", "for"}
TERMINAL = tuple('.!?)"\'”’:;')


def english_probability(text: str) -> tuple[str, float]:
    lang, prob = py3langid.classify(text[:300])
    return lang, float(prob)


def quality_reason(question: str, answer: str, min_answer_words: int = 12,
                   min_question_words: int = 3, check_language: bool = True) -> str | None:
    """The reason a (question, answer) pair is unfit for training, or None if it is fine."""
    if not answer.strip():
        return "empty_answer"
    if not question.strip():
        return "empty_question"
    if len(question.split()) < min_question_words:
        return "question_too_short"
    if len(answer.split()) < min_answer_words:
        return "answer_too_short"
    if NON_ANSWER.search(answer.strip()):
        return "non_answer"
    if answer.strip().lower().rstrip("?.") == question.strip().lower().rstrip("?."):
        return "non_answer"
    last_line = answer.rstrip().split("\n")[-1]
    last_word = answer.rstrip().rsplit(None, 1)[-1].lower()
    if not answer.rstrip().endswith(TERMINAL) and not last_line.lstrip().startswith("-") \
            and last_word in DANGLING_WORDS:
        return "truncated"
    if check_language and english_probability(answer)[0] != "en":
        return "non_english"
    return None
