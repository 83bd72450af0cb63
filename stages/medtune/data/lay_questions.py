"""Consumer-style phrasings for MedQuAD's template questions ("What are the treatments for X?").

Real patients rarely ask in MedQuAD's templates, and a model trained only on them answers real
questions worse than its base. A seeded share of the *training* questions is rewritten into a lay
phrasing of the same question type ("how do people usually get treated for X"), keeping the answer.
Only questions in one of MedQuAD's own templates are rewritten; validation and test keep theirs, so
the held-out comparison stays comparable between runs.

The phrasings avoid a gender or an age (no "my son"): the same template serves every focus, and "what
signs of prostate cancer should I watch for in my daughter" would teach nonsense.
"""

from __future__ import annotations

import random

from .phrasing import casual

# MedQuAD's templates after clean.clean_question, with X for the focus.
TEMPLATES = {
    "information": ["What is X?", "Do you have information about X"],
    "symptoms": ["What are the symptoms of X?"],
    "exams and tests": ["How to diagnose X?"],
    "treatment": ["What are the treatments for X?"],
    "outlook": ["What is the outlook for X?"],
    "susceptibility": ["Who is at risk for X??"],
    "stages": ["What are the stages of X?"],
    "research": ["what research (or clinical trials) is being done for X?"],
    "genetic changes": ["What are the genetic changes related to X?"],
    "prevention": ["How to prevent X?"],
    "causes": ["What causes X?"],
    "inheritance": ["Is X inherited?"],
    "frequency": ["How many people are affected by X?"],
    "considerations": ["What to do for X?"],
    "complications": ["What are the complications of X?"],
}

LAY = {
    "information": ["My doctor mentioned {x}. What is that exactly?", "can someone explain {x} in plain words?",
                    "I keep hearing about {x}, what is it?", "What should I know about {x}?",
                    "what does {x} mean", "I was just told about {x} and I'm confused, what is it?"],
    "symptoms": ["What signs of {x} should I watch for?", "how do I know if I have {x}? what are the symptoms",
                 "what does {x} feel like", "what are the first signs of {x}",
                 "Someone in my family might have {x}, what symptoms would they have?"],
    "exams and tests": ["How do doctors find out if someone has {x}?", "what tests would I need to check for {x}?",
                        "how is {x} diagnosed", "My doctor thinks it might be {x}, how will they confirm it?"],
    "treatment": ["how do people usually get treated for {x}", "My doctor says I have {x}. What are my options?",
                  "is there a treatment for {x}?", "what can be done for {x}?",
                  "Someone I love was just diagnosed with {x}, how is it treated?"],
    "outlook": ["will someone with {x} get better?", "what's the long-term outlook with {x}?",
                "can you live a normal life with {x}?", "What happens to people with {x} over time?"],
    "susceptibility": ["Am I likely to get {x}?", "who tends to get {x}?",
                       "what makes someone more likely to get {x}?", "is my family at risk of {x}?"],
    "stages": ["how is {x} staged?", "what do the stages of {x} mean?",
               "I was told about stages of {x}, what are they?"],
    "research": ["are there any new treatments or trials for {x}?", "what are scientists doing about {x}?",
                 "is there any research going on into {x}?"],
    "genetic changes": ["what gene problem causes {x}?", "is {x} caused by a faulty gene?",
                        "which genetic changes lead to {x}?"],
    "prevention": ["can {x} be prevented?", "how can I lower my chances of getting {x}?",
                   "what can I do to avoid {x}?"],
    "causes": ["why do people get {x}?", "what's the cause of {x}?", "how do you get {x}?",
               "what causes {x}, is it something I did?"],
    "inheritance": ["can {x} be passed down in families?", "I have {x}, will my kids get it?",
                    "does {x} run in families?", "is {x} genetic?"],
    "frequency": ["how common is {x}?", "how many people get {x}?", "is {x} rare?"],
    "considerations": ["what should I do about {x}?", "any tips for living with {x}?",
                       "how can I look after myself with {x}?"],
    "complications": ["what problems can {x} lead to?", "can {x} cause other health issues?",
                      "what complications should I know about with {x}?"],
}
CASUAL_SHARE = 0.25


def lay_question(question: str, qtype: str, focus: str, rng: random.Random) -> str | None:
    """A lay phrasing of a MedQuAD template question, or None if the question is not in a template."""
    if not focus or focus not in question or question.replace(focus, "X") not in TEMPLATES.get(qtype, []):
        return None
    text = rng.choice(LAY[qtype]).format(x=focus)
    text = text[0].upper() + text[1:]
    return casual(text) if rng.random() < CASUAL_SHARE else text


def maybe_rewrite(row: dict, fraction: float, seed: int) -> str:
    """The row's question, rewritten with probability `fraction` (decided per row id, so reproducible)."""
    rng = random.Random(f"{seed}/lay/{row['id']}")
    if rng.random() >= fraction:
        return row["question"]
    return lay_question(row["question"], row["qtype"], row["focus"], rng) or row["question"]
