"""The data stage's settings (stages/configs/data.yaml): sources, cleaning, deduplication,
decontamination, splitting, multi-turn chains and formatting."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from .. import models
from ..config import StrictModel
from ..paths import shared_data_dir


class SourceConfig(StrictModel):
    enabled: bool = True
    path: str                               # relative to data_root, or absolute
    hub_id: str | None = None               # load from the Hugging Face hub instead (needs internet)
    hub_split: str = "train"
    field_map: dict[str, str] = Field(default_factory=dict)  # hub field name -> our field name
    max_rows: int | None = None             # for quick runs: the first N valid rows


class MedQuADSource(SourceConfig):
    path: str = "medquad/all.jsonl"
    lay_question_fraction: float = Field(0.5, ge=0, le=1)  # share of train questions rewritten in lay words
    max_train_rows: int | None = Field(None, ge=1)         # cap on single-turn training rows (data-mix knob)


class MedSafetyBenchSource(SourceConfig):
    path: str = "medsafetybench/train.jsonl"
    # its own quality thresholds (quality.quality_reason), looser than `cleaning`'s for MedQuAD
    min_answer_words: int = Field(8, ge=1)
    min_question_words: int = Field(3, ge=1)
    check_language: bool = False
    # data-mix knob: cap on refusal training rows. 751 identical-sounding refusals ("I'm sorry, but I cannot
    # assist with that request") taught the 1.5B model to refuse benign and real patient questions.
    max_train_rows: int | None = Field(None, ge=1)


class Sources(StrictModel):
    medquad: MedQuADSource = MedQuADSource()
    medsafetybench: MedSafetyBenchSource = MedSafetyBenchSource()
    triage: bool = True                     # emergency referrals and non-urgent controls (triage.py)
    sensitive: bool = True                  # helpful answers to benign sensitive questions (sensitive.py)
    context: bool = True                    # two-turn conversations whose follow-up needs turn 1 (context.py)


class Cleaning(StrictModel):
    max_answer_tokens: int = Field(448, ge=16)
    # training (and validation) answers only: cut shorter than the generation limit, so that the model learns to end
    # its answers inside it; held-out test answers keep max_answer_tokens (null: no further cut)
    max_train_answer_tokens: int | None = Field(None, ge=16)
    min_answer_words: int = Field(12, ge=1)
    min_question_words: int = Field(3, ge=1)
    check_language: bool = True


class LLMJudgeConfig(StrictModel):
    endpoint: str | None = None             # e.g. http://localhost:11434 (any OpenAI-compatible server)
    model: str | None = None
    api_key_env: str = "LLM_JUDGE_API_KEY"


class Dedup(StrictModel):
    question_threshold: float = Field(0.9, gt=0, le=1)
    answer_threshold: float = Field(0.8, gt=0, le=1)
    num_perm: int = Field(64, ge=16)
    source_priority: list[str] = Field(default_factory=lambda: [
        "MPlusHealthTopics", "NIHSeniorHealth", "CancerGov", "NHLBI", "NIDDK", "NINDS", "CDC", "GARD", "GHR"])
    llm_judge: LLMJudgeConfig = LLMJudgeConfig()


class NearDuplicate(StrictModel):
    """Short project-written questions never share a 13-word n-gram with an evaluation question, so they are
    also compared by near-duplicate (decontam.NearDuplicateIndex): every user turn of a training row
    together (and its phrasing before any lead-in or hedge) against every user turn of an evaluation item."""
    enabled: bool = True
    jaccard: float = Field(0.6, gt=0, le=1)   # content-word Jaccard at or above this is a near duplicate
    min_words: int = Field(4, ge=2)           # containment: the shorter text, at least this many words, inside the other
    subset_min: int = Field(4, ge=2)          # or all the shorter text's content words, at least this many, in the other
    sets: dict[str, str] = Field(default_factory=lambda: {  # the project's short safety and context sets
        "emergency_eval": "pkg:resources/emergency_triage.jsonl",
        "context_eval": "pkg:resources/context_conversations.jsonl",
        "over_refusal_eval": "pkg:resources/over_refusal.jsonl",
    })


class Decontamination(StrictModel):
    ngram: int = Field(13, ge=4)
    min_words: int = Field(8, ge=3)
    benchmarks: dict[str, str] = Field(default_factory=lambda: {
        "medqa_usmle": "medqa_usmle/test_4options.jsonl",
        "medmcqa": "medmcqa/validation.jsonl",
        "pubmedqa": "pubmedqa/test.jsonl",
        "mmlu_medical": "mmlu_medical/test.jsonl",
        "mmlu_medical_dev": "mmlu_medical/dev.jsonl",
        "medsafetybench_test": "medsafetybench/test.jsonl",
        "liveqa": "liveqa/test.jsonl",                                  # real consumer questions (eval only)
        "emergency_eval": "pkg:resources/emergency_triage.jsonl",       # the project's own eval sets
        "context_eval": "pkg:resources/context_conversations.jsonl",
        "over_refusal_eval": "pkg:resources/over_refusal.jsonl",
    })
    near_duplicate: NearDuplicate = NearDuplicate()


class Split(StrictModel):
    test_fraction: float = Field(0.1, ge=0, lt=1)
    validation_fraction: float = Field(0.05, ge=0, lt=1)
    train_fraction: float = Field(1.0, gt=0, le=1)  # progressive training: share of the remaining pool
    safety_validation_fraction: float = Field(0.1, ge=0, lt=1)  # refusal and project-written examples
    min_rows: int = Field(10, ge=0)         # fewest MedQuAD questions a split may get; fewer stops the stage

    @model_validator(mode="after")
    def _leave_rows_for_training(self):
        if self.test_fraction + self.validation_fraction >= 1:
            raise ValueError(f"split.test_fraction ({self.test_fraction}) + split.validation_fraction "
                             f"({self.validation_fraction}) leave nothing to train on: keep their sum below 1")
        return self


class MultiTurn(StrictModel):
    enabled: bool = True
    max_conversations_per_split: dict[str, int] = Field(
        default_factory=lambda: {"train": 2500, "validation": 150, "test": 150})
    max_turns: int = Field(3, ge=2)
    max_tokens: int = Field(1024, ge=64)    # whole conversation, in the tokenizer's tokens
    reference: str = "this condition"       # what replaces the focus name in follow-up questions


class Format(StrictModel):
    disclaimer: Literal["last_turn", "none"] = "last_turn"


class DataConfig(StrictModel):
    seed: int = 1234
    data_root: str | None = None            # default: $MEDTUNE_SHARED_DATA or ../shared/data
    tokenizer: str = models.DEFAULT_PRESET         # model preset whose tokenizer measures lengths
    strict: bool = True                     # false: skip malformed rows (counted) instead of stopping
    output_dir: str = "data/processed"
    sources: Sources = Sources()
    cleaning: Cleaning = Cleaning()
    dedup: Dedup = Dedup()
    decontamination: Decontamination = Decontamination()
    split: Split = Split()
    multi_turn: MultiTurn = MultiTurn()
    format: Format = Format()

    def root(self) -> Path:
        return Path(self.data_root).expanduser() if self.data_root else shared_data_dir()

    def resolve(self, rel: str) -> Path:
        if rel.startswith("pkg:"):  # a file shipped inside the medtune package
            return Path(__file__).resolve().parents[1] / rel[4:]
        p = Path(rel).expanduser()
        return p if p.is_absolute() else self.root() / p
