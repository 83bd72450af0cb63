"""The data stage as a function: raw sets in, chat-formatted splits and a data card out.

Steps, each counted in the data card: load -> clean -> quality filter -> deduplicate ->
decontaminate -> split -> format (single-turn, multi-turn chains, refusals).
"""

from __future__ import annotations

import random
import time
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from .. import chat_format, envfile, models
from ..config import StrictModel
from ..files import InputError
from ..paths import shared_data_dir
from . import clean, context, decontam, dedup, lay_questions, quality, sensitive, sources, triage
from .split import grouped_stratified_split, stratified_split, subsample_groups


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


class Sources(StrictModel):
    medquad: MedQuADSource = MedQuADSource()
    medsafetybench: MedSafetyBenchSource = MedSafetyBenchSource()
    triage: bool = True                     # emergency referrals and non-urgent controls (triage.py)
    sensitive: bool = True                  # helpful answers to benign sensitive questions (sensitive.py)
    context: bool = True                    # two-turn conversations whose follow-up needs turn 1 (context.py)


class Cleaning(StrictModel):
    max_answer_tokens: int = Field(448, ge=16)
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


class Ledger:
    """Counts after every step and every dropped row with its reason."""

    def __init__(self):
        self.started = time.time()
        self.steps: list[dict] = []
        self.dropped: list[dict] = []

    def step(self, name: str, source: str, count: int, **extra) -> None:
        self.steps.append({"step": name, "source": source, "rows": count, **extra})
        print(f"[data] {time.time() - self.started:6.1f}s {source:15} {name:22} {count:6d} rows", flush=True)

    def drop(self, row: dict, step: str, reason: str, detail: str = "") -> None:
        self.dropped.append({"id": row.get("id"), "source": row.get("source_set", row.get("source")),
                             "step": step, "reason": reason, "detail": detail,
                             "question": (row.get("question") or "")[:200]})

    def reasons(self) -> dict[str, int]:
        return dict(sorted(Counter(f"{d['step']}:{d['reason']}" for d in self.dropped).items()))


class TokenCounter:
    """Token counts in the model's own tokenizer, batched through the fast Rust backend."""

    def __init__(self, tokenizer):
        self.backend = tokenizer.backend_tokenizer

    def encode(self, texts: list[str]):
        return self.backend.encode_batch(texts, add_special_tokens=False)

    def count(self, texts: list[str]) -> list[int]:
        return [len(e.ids) for e in self.encode(texts)]


def _clean_and_filter(rows: list[dict], cfg: DataConfig, ledger: Ledger, source: str,
                      counter: TokenCounter) -> list[dict]:
    rows = [{**r, "question": clean.clean_question(r["question"]), "answer": clean.clean_answer(r["answer"])}
            for r in rows]
    limit = cfg.cleaning.max_answer_tokens
    capped = 0
    for row, enc, q_tokens in zip(rows, counter.encode([r["answer"] for r in rows]),
                                  counter.count([r["question"] for r in rows])):
        if len(enc.ids) > limit:  # cut after the last whole sentence that fits in `limit` tokens
            row["answer"] = clean.cap_at_char(row["answer"], enc.offsets[limit - 1][1])
            capped += 1
        row["tokens"] = q_tokens + min(len(enc.ids), limit)  # for the multi-turn length budget
    kept = []
    for row in rows:
        reason = quality.quality_reason(row["question"], row["answer"], cfg.cleaning.min_answer_words,
                                        cfg.cleaning.min_question_words, cfg.cleaning.check_language)
        if reason:
            ledger.drop(row, "quality", reason)
            continue
        kept.append(row)
    ledger.step("cleaned+filtered", source, len(kept), answers_capped=capped)
    return kept


def _decontaminate(rows: list[dict], index: decontam.ContaminationIndex, ledger: Ledger, source: str) -> list[dict]:
    kept = []
    for row in rows:
        hit = index.match(row["question"] + "\n" + row["answer"])
        if hit:
            ledger.drop(row, "decontamination", f"overlaps_{hit[0]}", f"{hit[0]}:{hit[1]}")
        else:
            kept.append(row)
    ledger.step("decontaminated", source, len(kept))
    return kept


def _follow_up(question: str, focus: str, reference: str) -> str | None:
    """Rewrite a question so it refers back to the earlier turn ("... of this condition?")."""
    pattern = re.compile(re.escape(focus), re.IGNORECASE)
    if not focus or not pattern.search(question):
        return None
    return pattern.sub(reference, question, count=1)


QTYPE_ORDER = ["information", "causes", "symptoms", "exams and tests", "treatment", "prevention",
               "outlook", "inheritance", "genetic changes", "frequency", "susceptibility", "complications",
               "stages", "research", "considerations", "support groups"]


def build_multi_turn(rows: list[dict], cfg: MultiTurn, split: str, seed: int, disclaimer: bool) -> list[dict]:
    """Chains of questions about one focus where every follow-up says "this condition" instead of its name."""
    by_focus: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_focus[r["focus"]].append(r)
    focuses = sorted(f for f, rs in by_focus.items() if len(rs) >= 2)
    random.Random(f"{seed}-{split}").shuffle(focuses)
    out = []
    limit = cfg.max_conversations_per_split.get(split, 0)
    for focus in focuses:
        if len(out) >= limit:
            break
        members = sorted(by_focus[focus], key=lambda r: (QTYPE_ORDER.index(r["qtype"])
                                                         if r["qtype"] in QTYPE_ORDER else 99, r["id"]))
        turns = [(members[0]["question"], members[0]["answer"])]
        used = [members[0]]
        tokens = members[0]["tokens"]
        for r in members[1:]:
            if len(turns) >= cfg.max_turns:
                break
            follow = _follow_up(r["question"], focus, cfg.reference)
            cost = r["tokens"]
            if follow and tokens + cost <= cfg.max_tokens:
                turns.append((follow, r["answer"]))
                used.append(r)
                tokens += cost
        if len(turns) < 2:
            continue
        out.append({
            "id": f"multiturn/{used[0]['id']}",
            "messages": chat_format.conversation(turns, disclaimer=disclaimer),
            "source": "medquad_multiturn", "category": "multi_turn",
            "qtype": used[-1]["qtype"], "focus": focus, "num_turns": len(turns),
        })
    return out


def _add_written(source: str, rows: list[dict], category, cfg: DataConfig, index: decontam.ContaminationIndex,
                 ledger: Ledger, splits: dict[str, list[dict]], disclaimer: bool) -> None:
    """Project-written conversations: decontaminate, split train/validation stratified by topic, format.

    A row is single-turn (question, answer) or multi-turn (turns); emergency answers (urgent) carry their
    own wording and get no disclaimer."""
    rows = [{**r, "turns": r.get("turns") or [(r["question"], r["answer"])]} for r in rows]
    rows = [{**r, "source": source, "question": "\n".join(u for u, _ in r["turns"]),
             "answer": "\n".join(a for _, a in r["turns"])} for r in rows]  # every turn is checked for contamination
    ledger.step("loaded", source, len(rows))
    rows = _decontaminate(rows, index, ledger, source)
    assignment = stratified_split([r["topic"] for r in rows],
                                  {"train": 1.0, "validation": cfg.split.safety_validation_fraction}, cfg.seed)
    for r, name in zip(rows, assignment):
        splits[name].append({
            "id": r["id"],
            "messages": chat_format.conversation(r["turns"], disclaimer=disclaimer and not r.get("urgent")),
            "source": source, "category": category(r), "qtype": None, "focus": None, "num_turns": len(r["turns"]),
        })


def check_split_sizes(chosen: dict[str, list[int]], split: Split, available: int) -> None:
    """Stop when a split gets fewer MedQuAD questions than split.min_rows (a split asked for with fraction 0 may be empty)."""
    fractions = {"train": 1.0, "validation": split.validation_fraction, "test": split.test_fraction}
    for name, idx in chosen.items():
        if fractions[name] > 0 and len(idx) < split.min_rows:
            raise InputError(f"the {name} split got {len(idx)} MedQuAD questions ({available} were left after "
                             f"cleaning, deduplication and decontamination), fewer than split.min_rows="
                             f"{split.min_rows}: use more data, change the split fractions, or lower split.min_rows")


def run(cfg: DataConfig) -> dict:
    """Run every step; return the splits, the ledger and the card facts (nothing written here)."""
    from ..models import get_preset, load_tokenizer

    get_preset(cfg.tokenizer)  # an unknown preset stops here, with the list, before any work
    tokenizer = load_tokenizer(cfg.tokenizer)
    counter = TokenCounter(tokenizer)

    ledger = Ledger()
    skipped: list[dict] = []
    disclaimer = cfg.format.disclaimer == "last_turn"

    # --- evaluation sets, for decontamination
    eval_items = []
    for name, rel in sorted(cfg.decontamination.benchmarks.items()):
        for row in sources.read_jsonl(cfg.resolve(rel), strict=True):
            eval_items += [decontam.EvalItem(name, str(row.get("id")), t) for t in sources.benchmark_texts(name, row)]
    index = decontam.ContaminationIndex(eval_items, cfg.decontamination.ngram, cfg.decontamination.min_words)

    splits: dict[str, list[dict]] = {"train": [], "validation": [], "test": []}

    # --- MedQuAD: the main source of single-turn QA and the material for multi-turn chains
    mq = cfg.sources.medquad
    if mq.enabled:
        rows = []
        for row in sources.load_rows(cfg.resolve(mq.path), sources.MEDQUAD_FIELDS, cfg.strict, skipped,
                                     mq.hub_id, mq.hub_split, mq.field_map):
            rows.append({k: row[k] for k in sources.MEDQUAD_FIELDS})
            if mq.max_rows and len(rows) >= mq.max_rows:
                break
        ledger.step("loaded", "medquad", len(rows))
        if not rows:
            where = mq.hub_id or cfg.resolve(mq.path)
            bad = sum(s["file"] == str(where) for s in skipped)
            raise InputError(f"{where}: MedQuAD, the main source, gave no rows" +
                             (f" ({bad} malformed rows skipped, strict=false)" if bad else " (only blank lines?)") +
                             "; check the file, or sources.medquad.path / data_root")
        rows = _clean_and_filter(rows, cfg, ledger, "medquad", counter)
        judge = None
        if cfg.dedup.llm_judge.endpoint:
            judge = dedup.LLMJudge(cfg.dedup.llm_judge.endpoint, cfg.dedup.llm_judge.model or "default",
                                   envfile.secret(cfg.dedup.llm_judge.api_key_env))
        rows, gone = dedup.deduplicate(rows, cfg.dedup.question_threshold, cfg.dedup.answer_threshold,
                                       cfg.dedup.source_priority, cfg.dedup.num_perm, cfg.seed, judge)
        for g in gone:
            ledger.drop(g, "dedup", g["reason"], g["detail"])
        ledger.step("deduplicated", "medquad", len(rows))
        rows = _decontaminate(rows, index, ledger, "medquad")

        assignment = grouped_stratified_split([r["qtype"] for r in rows], [r["focus"].lower() for r in rows],
                                              cfg.split.test_fraction, cfg.split.validation_fraction, cfg.seed)
        by_split: dict[str, list[int]] = defaultdict(list)
        for i, name in enumerate(assignment):
            by_split[name].append(i)
        train_idx = subsample_groups(by_split["train"], [r["focus"].lower() for r in rows],
                                     cfg.split.train_fraction, cfg.seed)
        for i in sorted(set(by_split["train"]) - set(train_idx)):
            ledger.drop(rows[i], "split", "outside_train_fraction", f"train_fraction={cfg.split.train_fraction}")
        if mq.max_train_rows and len(train_idx) > mq.max_train_rows:  # data-mix knob: fewer MedQuAD rows
            kept = set(random.Random(f"{cfg.seed}-max-train").sample(train_idx, mq.max_train_rows))
            for i in train_idx:
                if i not in kept:
                    ledger.drop(rows[i], "split", "over_max_train_rows", f"max_train_rows={mq.max_train_rows}")
            train_idx = [i for i in train_idx if i in kept]
        chosen = {"train": train_idx, "validation": by_split["validation"], "test": by_split["test"]}
        check_split_sizes(chosen, cfg.split, len(rows))
        for name, idx in chosen.items():
            split_rows = [rows[i] for i in idx]
            rewritten = 0
            for r in split_rows:
                # lay phrasings for a share of train questions only: held-out questions stay comparable
                question = lay_questions.maybe_rewrite(r, mq.lay_question_fraction, cfg.seed) \
                    if name == "train" else r["question"]
                rewritten += question != r["question"]
                splits[name].append({
                    "id": r["id"],
                    "messages": chat_format.conversation([(question, r["answer"])], disclaimer=disclaimer),
                    "source": "medquad", "category": r["qtype"], "qtype": r["qtype"], "focus": r["focus"],
                    "num_turns": 1,
                })
            if name == "train":
                ledger.step("lay_questions_train", "medquad", rewritten)
            if cfg.multi_turn.enabled:
                chains = build_multi_turn(split_rows, cfg.multi_turn, name, cfg.seed, disclaimer)
                splits[name] += chains
                ledger.step(f"multi_turn_{name}", "medquad", len(chains))

    # --- MedSafetyBench train: harmful requests with safe refusals (its test set is for evaluation)
    ms = cfg.sources.medsafetybench
    if ms.enabled:
        rows = []
        for row in sources.load_rows(cfg.resolve(ms.path), sources.SAFETY_FIELDS, cfg.strict, skipped,
                                     ms.hub_id, ms.hub_split, ms.field_map):
            rows.append({"id": row["id"], "question": clean.normalize_whitespace(clean.normalize_unicode(row["question"])),
                         "answer": clean.normalize_whitespace(clean.normalize_unicode(row["answer"])),
                         "category": str(row["category"]), "source": "medsafetybench"})
            if ms.max_rows and len(rows) >= ms.max_rows:
                break
        ledger.step("loaded", "medsafetybench", len(rows))
        kept = []
        seen = set()
        for r in rows:
            key = dedup.normal_form(r["question"])
            reason = "duplicate_question" if key in seen else \
                quality.quality_reason(r["question"], r["answer"], ms.min_answer_words,
                                       ms.min_question_words, ms.check_language)
            if reason:
                ledger.drop(r, "quality" if reason != "duplicate_question" else "dedup", reason)
                continue
            if clean.has_contact_details(r["answer"]):
                ledger.drop(r, "quality", "contact_details_in_refusal")
                continue
            seen.add(key)
            kept.append(r)
        ledger.step("cleaned+filtered", "medsafetybench", len(kept))
        kept = _decontaminate(kept, index, ledger, "medsafetybench")
        assignment = stratified_split([r["category"] for r in kept],
                                      {"train": 1.0, "validation": cfg.split.safety_validation_fraction}, cfg.seed)
        for r, name in zip(kept, assignment):
            splits[name].append({
                "id": r["id"], "messages": chat_format.conversation([(r["question"], r["answer"])]),
                "source": "medsafetybench", "category": "refusal", "qtype": None, "focus": None, "num_turns": 1,
            })

    # --- conversations written for this project: emergency triage, sensitive questions, context follow-ups
    if cfg.sources.triage:
        _add_written("triage", triage.triage_examples(cfg.seed), lambda r: "emergency" if r["urgent"] else "non_urgent",
                     cfg, index, ledger, splits, disclaimer)
    if cfg.sources.sensitive:
        _add_written("sensitive", sensitive.sensitive_examples(cfg.seed), lambda r: "sensitive",
                     cfg, index, ledger, splits, disclaimer)
    if cfg.sources.context:
        _add_written("context", context.context_examples(cfg.seed), lambda r: "context",
                     cfg, index, ledger, splits, disclaimer)

    for s in skipped:
        ledger.dropped.append({"id": None, "source": s["file"], "step": "load", "reason": "malformed_row",
                               "detail": s["reason"], "question": ""})
    for name in splits:
        splits[name].sort(key=lambda r: r["id"])
        ledger.step(f"final_{name}", "all", len(splits[name]))
    return {"splits": splits, "ledger": ledger, "tokenizer": tokenizer}
