"""Text cleaning for answers and questions.

Contact details are removed a whole sentence at a time: deleting only the number leaves fragments
like "call  for more information", which a model would learn as well. A model trained on raw
MedQuAD invents phone numbers, so this step is a safety feature, not cosmetics.
"""

from __future__ import annotations

import re
import unicodedata

import ftfy

PHONE = re.compile(
    r"(?<![\w.])(?:\+?1[-.\s]?)?(?:\(\d{3}\)\s*|\d{3}[-.\s])\d{3}[-.\s]\d{4}(?!\d)"  # (301) 496-5751, 301-496-5751
    r"|(?<!\w)1[-.\s]8\d\d[-.\s][\dA-Z][\dA-Z-]{5,}"                               # 1-800-4-CANCER, 1-888-INFO-FDA
    r"|(?<![\w-])\d{3}-\d{4}(?![\w-])"                                             # 496-5751
    r"|\bTTY\b|\btoll[- ]free\b",
    re.IGNORECASE,
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
URL = re.compile(
    r"(?:https?://|ftp://|www\.)\S+"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:gov|org|com|edu|net|int|info)(?:/\S*)?\b",
    re.IGNORECASE,
)

# Whole lines that are site furniture, not answer content.
BOILERPLATE_LINE = re.compile(
    r"^\s*(?:key points|espa(?:n|ñ)?ol|more on:.*|nih: .*|see a list of .*|see the pdq .*|"
    r"for more information,? (?:see|go to|visit|about) .*|related (?:topics|resources):?.*|"
    r"source: .*|medlineplus .*|on this page.*|what to ask your doctor.*)\s*$",
    re.IGNORECASE,
)
# MedlinePlus's source credit ("NIH: National Cancer Institute"), wherever it ends a line, often right after the
# last sentence or list item: the model appended such credits to its own answers, an invented source.
SOURCE_CREDIT = re.compile(r"[ \t]*\bNIH:[ \t][^\n]*$", re.MULTILINE)
# A sentence that points to a link, button, page or section that a chat answer does not have.
FURNITURE_SENTENCE = re.compile(
    r"\bclick\b|\b(?:the following|this|these)\s+links?\b|\blinks?\s+(?:below|above)\b|\bfor links?\b|"
    r"\b(?:visit|see|use|follow)\s+the\s+links?\b|\bweb\s?(?:site|page)s?\b|\bsection that follows\b|"
    r"\bretrieved from\b|\btop of page\b|\bon this page\b",
    re.IGNORECASE,
)
# A leading sentence that restates a question ("How might X be treated?"), as GARD answers do; also when it is
# all that is left (a GARD symptoms answer whose phenotype table was cut: the model learned to echo the question).
LEADING_QUESTION = re.compile(r"^\s*[^.!?\n]{3,200}\?(?:\s+(?=[A-Z])|\s*$)")
# A leading section label ("Summary : Beckwith-Wiedemann syndrome is ..."): the model copied it into answers.
SECTION_LABEL = re.compile(r"^\s*(?:summary|overview)\s*:\s*", re.IGNORECASE)
SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+")  # also before lower case: repeated lists follow ". word"


def normalize_unicode(text: str) -> str:
    """Repair mojibake, then NFKC (folds ligatures, full-width forms, non-breaking spaces)."""
    if not text.isascii():  # ftfy is slow and ASCII text has nothing for it to repair
        text = ftfy.fix_text(text)
        text = unicodedata.normalize("NFKC", text)
    return text.replace("\u00ad", "").replace("\u200b", "")


URL_HINTS = ("://", "www.", ".gov", ".org", ".com", ".edu", ".net", ".int", ".info")
DIGITS = re.compile(r"[0-9][0-9][0-9]")


def has_contact_details(text: str) -> bool:
    # Cheap exact pre-checks first: the full patterns cost a millisecond per answer.
    lower = text.lower()
    return bool(("@" in text and EMAIL.search(text))
                or (any(h in lower for h in URL_HINTS) and URL.search(text))
                or ((DIGITS.search(text) or "tty" in lower or "toll" in lower) and PHONE.search(text)))


def split_sentences(text: str) -> list[str]:
    return [s for s in SENTENCE_SPLIT.split(text) if s.strip()]


def _normal_form(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


# GARD answers end with a Human Phenotype Ontology frequency table ("Abnormality of the liver 90% ...")
# flattened into text: not patient-facing prose, and a model trained on it recites endless lists.
PHENOTYPE_TABLE = re.compile(r"\s*The Human Phenotype Ontology provides the following list\b.*\Z", re.DOTALL)


def strip_phenotype_table(text: str) -> str:
    """Drop the flattened HPO symptom table and everything after it; the prose before it stays."""
    return PHENOTYPE_TABLE.sub("", text, count=1)


def strip_key_points_block(text: str) -> str:
    """CancerGov answers open with a 'Key Points' summary that the sections below repeat word for word."""
    return re.sub(r"^\s*Key Points\s*\n.*?(?:\n\s*\n|$)", "", text, count=1, flags=re.DOTALL | re.IGNORECASE)


def clean_answer(text: str) -> str:
    """Clean one answer: Unicode, boilerplate lines, contact details and web-page furniture (whole sentences),
    repeated sentences, whitespace."""
    text = normalize_unicode(text)
    text = strip_key_points_block(text)
    text = strip_phenotype_table(text)
    text = LEADING_QUESTION.sub("", text, count=1)
    text = SECTION_LABEL.sub("", text, count=1)
    text = SOURCE_CREDIT.sub("", text)
    contacts = has_contact_details(text)  # one search per answer; per sentence only when needed
    kept_lines: list[str] = []
    seen_text = ""  # normal form of everything kept so far, to spot repeated sections
    for line in text.split("\n"):
        if not line.strip():
            kept_lines.append("")  # keep paragraph breaks
            continue
        if BOILERPLATE_LINE.match(line):
            continue
        sentences = []
        for sentence in split_sentences(line):
            if (contacts and has_contact_details(sentence)) or FURNITURE_SENTENCE.search(sentence):
                continue
            norm = _normal_form(sentence)
            if len(norm) > 40 and norm in seen_text:
                continue  # a section or list repeated later in the same answer
            sentences.append(sentence.strip())
            seen_text += " " + norm
        if sentences:
            kept_lines.append(" ".join(sentences))
    text = "\n".join(kept_lines)
    return normalize_whitespace(text)


def clean_question(text: str) -> str:
    text = normalize_unicode(text)
    text = re.sub(r"\s+\?", "?", text)  # MedQuAD writes "What is (are) X ?"
    text = text.replace("What is (are)", "What is").replace("what is (are)", "what is")
    return normalize_whitespace(text)


def normalize_whitespace(text: str) -> str:
    text = re.sub(r"[ \t\f\v]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def cap_at_char(text: str, limit: int) -> str:
    """The longest prefix of `text` that ends a sentence and is at most `limit` characters long."""
    ends = [m.end() for m in re.finditer(r"[.!?](?=\s|$)", text[:limit + 1]) if m.end() <= limit]
    return text[: ends[-1]].strip() if ends else ""
