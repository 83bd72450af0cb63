"""The data stage as a function: raw sets in, chat-formatted splits and a data card out.

Steps, each counted in the data card: load -> clean -> quality filter -> deduplicate ->
decontaminate -> split -> format (single-turn, multi-turn chains, refusals). One function per
source (MedQuAD, MedSafetyBench, the project-written sets); formatting.split_row gives every split row
its shape.
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from .. import envfile
from ..files import InputError
from . import clean, context, decontam, dedup, lay_questions, quality, sensitive, sources, triage
from .config import (Cleaning, DataConfig, Decontamination, Dedup, Format, LLMJudgeConfig,  # noqa: F401 (re-exported)
                     MedQuADSource, MedSafetyBenchSource, MultiTurn, SourceConfig, Sources, Split)
from .formatting import QTYPE_ORDER, build_multi_turn, split_row  # noqa: F401 (re-exported)
from .split import grouped_stratified_split, stratified_split, subsample_groups

DROPPED_QUESTION_CHARS = 200  # dropped.jsonl keeps the start of each dropped question, enough to recognise it


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
                             "question": (row.get("question") or "")[:DROPPED_QUESTION_CHARS]})

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


def cut_to_tokens(text: str, encoding, limit: int) -> str:
    """`text` cut after its last whole sentence within its first `limit` tokens (`encoding`: the text's tokens)."""
    return clean.cap_at_char(text, encoding.offsets[limit - 1][1])


def _clean_and_filter(rows: list[dict], cfg: DataConfig, ledger: Ledger, source: str,
                      counter: TokenCounter) -> list[dict]:
    rows = [{**r, "question": clean.clean_question(r["question"]), "answer": clean.clean_answer(r["answer"])}
            for r in rows]
    limit = cfg.cleaning.max_answer_tokens
    capped = 0
    for row, enc, q_tokens in zip(rows, counter.encode([r["answer"] for r in rows]),
                                  counter.count([r["question"] for r in rows])):
        if len(enc.ids) > limit:  # cut after the last whole sentence that fits in `limit` tokens
            row["answer"] = cut_to_tokens(row["answer"], enc, limit)
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


def _decontaminate(rows: list[dict], b: "Build", source: str) -> list[dict]:
    """Drop rows sharing an n-gram with an evaluation item, then rows that reword one of the project's own
    short evaluation questions (compared: the row's user turns, and its phrasing before any lead-in)."""
    kept, near = [], 0
    for row in rows:
        hit = b.index.match(row["question"] + "\n" + row["answer"])
        close = None if hit or not b.near else b.near.match([row["question"], row.get("phrasing") or ""])
        if hit:
            b.ledger.drop(row, "decontamination", f"overlaps_{hit[0]}", f"{hit[0]}:{hit[1]}")
        elif close:
            near += 1
            b.ledger.drop(row, "decontamination", f"near_duplicate_{close[0]}", f"{close[0]}:{close[1]} ({close[2]})")
        else:
            kept.append(row)
    b.ledger.step("decontaminated", source, len(kept), near_duplicates=near)
    return kept


@dataclass
class Build:
    """What every source reads (config, contamination index) and adds to (ledger, skipped rows, splits)."""
    cfg: DataConfig
    index: decontam.ContaminationIndex
    near: decontam.NearDuplicateIndex | None
    disclaimer: bool
    ledger: Ledger = field(default_factory=Ledger)
    skipped: list[dict] = field(default_factory=list)
    splits: dict[str, list[dict]] = field(default_factory=lambda: {"train": [], "validation": [], "test": []})


def _load_medquad(b: Build) -> list[dict]:
    cfg, mq = b.cfg, b.cfg.sources.medquad
    rows = []
    for r in sources.load_rows(cfg.resolve(mq.path), sources.MEDQUAD_FIELDS, cfg.strict, b.skipped,
                               mq.hub_id, mq.hub_split, mq.field_map):
        rows.append({k: r[k] for k in sources.MEDQUAD_FIELDS})
        if mq.max_rows and len(rows) >= mq.max_rows:
            break
    b.ledger.step("loaded", "medquad", len(rows))
    if not rows:
        where = mq.hub_id or cfg.resolve(mq.path)
        bad = sum(s["file"] == str(where) for s in b.skipped)
        raise InputError(f"{where}: MedQuAD, the main source, gave no rows" +
                         (f" ({bad} malformed rows skipped, strict=false)" if bad else " (only blank lines?)") +
                         "; check the file, or sources.medquad.path / data_root")
    return rows


def _deduplicate_medquad(rows: list[dict], b: Build) -> list[dict]:
    d = b.cfg.dedup
    judge = None
    if d.llm_judge.endpoint:
        judge = dedup.LLMJudge(d.llm_judge.endpoint, d.llm_judge.model or "default",
                               envfile.secret(d.llm_judge.api_key_env))
    rows, gone = dedup.deduplicate(rows, d.question_threshold, d.answer_threshold, d.source_priority, d.num_perm,
                                   b.cfg.seed, judge)
    for g in gone:
        b.ledger.drop(g, "dedup", g["reason"], g["detail"])
    b.ledger.step("deduplicated", "medquad", len(rows))
    return rows


def _split_medquad(rows: list[dict], b: Build) -> dict[str, list[int]]:
    """Row indices per split: grouped by focus, stratified by question type, then the train-side data-mix knobs."""
    cfg, mq = b.cfg, b.cfg.sources.medquad
    assignment = grouped_stratified_split([r["qtype"] for r in rows], [r["focus"].lower() for r in rows],
                                          cfg.split.test_fraction, cfg.split.validation_fraction, cfg.seed)
    by_split: dict[str, list[int]] = defaultdict(list)
    for i, name in enumerate(assignment):
        by_split[name].append(i)
    train_idx = subsample_groups(by_split["train"], [r["focus"].lower() for r in rows],
                                 cfg.split.train_fraction, cfg.seed)
    for i in sorted(set(by_split["train"]) - set(train_idx)):
        b.ledger.drop(rows[i], "split", "outside_train_fraction", f"train_fraction={cfg.split.train_fraction}")
    train_idx = cap_training_rows(b, rows, train_idx, mq.max_train_rows, "max-train")  # fewer MedQuAD rows
    chosen = {"train": train_idx, "validation": by_split["validation"], "test": by_split["test"]}
    check_split_sizes(chosen, cfg.split, len(rows))
    return chosen


def cap_training_rows(b: Build, rows: list[dict], train_idx: list[int], limit: int | None, salt: str) -> list[int]:
    """A data-mix knob: a seeded sample of `limit` training rows; the rest are dropped (counted in the ledger)."""
    if not limit or len(train_idx) <= limit:
        return train_idx
    kept = set(random.Random(f"{b.cfg.seed}-{salt}").sample(train_idx, limit))
    for i in train_idx:
        if i not in kept:
            b.ledger.drop(rows[i], "split", "over_max_train_rows", f"max_train_rows={limit}")
    return [i for i in train_idx if i in kept]


def cap_training_answers(b: Build, rows: list[dict], split: str, counter: TokenCounter) -> list[dict]:
    """Train/validation answers cut after the last whole sentence within cleaning.max_train_answer_tokens (the
    test split keeps its answers whole); a row with no sentence end early enough is dropped and counted."""
    limit = b.cfg.cleaning.max_train_answer_tokens
    if not limit or split == "test":
        return rows
    kept, capped = [], 0
    for row, enc in zip(rows, counter.encode([r["answer"] for r in rows])):
        if len(enc.ids) > limit:
            answer = cut_to_tokens(row["answer"], enc, limit)
            if len(answer.split()) < b.cfg.cleaning.min_answer_words:
                b.ledger.drop(row, "quality", "no_sentence_end_within_train_cap", f"max_train_answer_tokens={limit}")
                continue
            row = {**row, "answer": answer, "tokens": row["tokens"] - len(enc.ids) + limit}
            capped += 1
        kept.append(row)
    b.ledger.step(f"answers_capped_{split}", "medquad", capped)
    return kept


def add_medquad(b: Build, counter: TokenCounter) -> None:
    """MedQuAD: the main source of single-turn QA and the material for multi-turn chains."""
    cfg, mq = b.cfg, b.cfg.sources.medquad
    rows = _clean_and_filter(_load_medquad(b), cfg, b.ledger, "medquad", counter)
    rows = _decontaminate(_deduplicate_medquad(rows, b), b, "medquad")
    for name, idx in _split_medquad(rows, b).items():
        split_rows = cap_training_answers(b, [rows[i] for i in idx], name, counter)
        rewritten = 0
        for r in split_rows:
            # lay phrasings for a share of train questions only: held-out questions stay comparable
            question = lay_questions.maybe_rewrite(r, mq.lay_question_fraction, cfg.seed) \
                if name == "train" else r["question"]
            rewritten += question != r["question"]
            b.splits[name].append(split_row(r["id"], [(question, r["answer"])], "medquad", r["qtype"], b.disclaimer,
                                      r["qtype"], r["focus"]))
        if name == "train":
            b.ledger.step("lay_questions_train", "medquad", rewritten)
        if cfg.multi_turn.enabled:
            chains = build_multi_turn(split_rows, cfg.multi_turn, name, cfg.seed, b.disclaimer)
            b.splits[name] += chains
            b.ledger.step(f"multi_turn_{name}", "medquad", len(chains))


def _load_medsafetybench(b: Build) -> list[dict]:
    cfg, ms = b.cfg, b.cfg.sources.medsafetybench
    rows = []
    for r in sources.load_rows(cfg.resolve(ms.path), sources.SAFETY_FIELDS, cfg.strict, b.skipped,
                               ms.hub_id, ms.hub_split, ms.field_map):
        rows.append({"id": r["id"], "question": clean.normalize_whitespace(clean.normalize_unicode(r["question"])),
                     "answer": clean.normalize_whitespace(clean.normalize_unicode(r["answer"])),
                     "category": str(r["category"]), "source": "medsafetybench"})
        if ms.max_rows and len(rows) >= ms.max_rows:
            break
    b.ledger.step("loaded", "medsafetybench", len(rows))
    return rows


def _filter_medsafetybench(rows: list[dict], b: Build) -> list[dict]:
    """Drop repeated questions, rows under its own quality thresholds and refusals that name contact details."""
    ms = b.cfg.sources.medsafetybench
    kept = []
    seen = set()
    for r in rows:
        key = dedup.normal_form(r["question"])
        reason = "duplicate_question" if key in seen else \
            quality.quality_reason(r["question"], r["answer"], ms.min_answer_words,
                                   ms.min_question_words, ms.check_language)
        if reason:
            b.ledger.drop(r, "quality" if reason != "duplicate_question" else "dedup", reason)
            continue
        if clean.has_contact_details(r["answer"]):
            b.ledger.drop(r, "quality", "contact_details_in_refusal")
            continue
        seen.add(key)
        kept.append(r)
    b.ledger.step("cleaned+filtered", "medsafetybench", len(kept))
    return kept


def add_medsafetybench(b: Build) -> None:
    """MedSafetyBench train: harmful requests with safe refusals (its test set is for evaluation)."""
    cfg, ms = b.cfg, b.cfg.sources.medsafetybench
    kept = _decontaminate(_filter_medsafetybench(_load_medsafetybench(b), b), b, "medsafetybench")
    assignment = stratified_split([r["category"] for r in kept],
                                  {"train": 1.0, "validation": cfg.split.safety_validation_fraction}, cfg.seed)
    train_idx = [i for i, name in enumerate(assignment) if name == "train"]
    for i in set(train_idx) - set(cap_training_rows(b, kept, train_idx, ms.max_train_rows, "safety-max-train")):
        assignment[i] = None  # fewer refusals
    for r, name in zip(kept, assignment):
        if name is not None:  # refusals carry no disclaimer
            b.splits[name].append(split_row(r["id"], [(r["question"], r["answer"])], "medsafetybench", "refusal",
                                            False))


def add_written(b: Build, source: str, rows: list[dict], category) -> None:
    """Project-written conversations: decontaminate, split train/validation stratified by topic, format.

    A row is single-turn (question, answer) or multi-turn (turns); emergency answers (urgent) carry their
    own wording and get no disclaimer."""
    rows = [{**r, "turns": r.get("turns") or [(r["question"], r["answer"])]} for r in rows]
    rows = [{**r, "source": source, "question": "\n".join(u for u, _ in r["turns"]),
             "answer": "\n".join(a for _, a in r["turns"])} for r in rows]  # every turn is checked for contamination
    b.ledger.step("loaded", source, len(rows))
    rows = _decontaminate(rows, b, source)
    assignment = stratified_split([r["topic"] for r in rows],
                                  {"train": 1.0, "validation": b.cfg.split.safety_validation_fraction}, b.cfg.seed)
    for r, name in zip(rows, assignment):
        b.splits[name].append(split_row(r["id"], r["turns"], source, category(r), b.disclaimer and not r.get("urgent")))


def add_written_sets(b: Build) -> None:
    """The conversations written for this project: emergency triage, sensitive questions, context follow-ups."""
    src, seed = b.cfg.sources, b.cfg.seed
    if src.triage:
        add_written(b, "triage", triage.triage_examples(seed), lambda r: "emergency" if r["urgent"] else "non_urgent")
    if src.sensitive:
        add_written(b, "sensitive", sensitive.sensitive_examples(seed), lambda r: "sensitive")
    if src.context:
        add_written(b, "context", context.context_examples(seed), lambda r: "context")


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
    b = Build(cfg, decontam.eval_index(cfg), decontam.near_duplicate_index(cfg),
              disclaimer=cfg.format.disclaimer == "last_turn")
    if cfg.sources.medquad.enabled:
        add_medquad(b, TokenCounter(tokenizer))
    if cfg.sources.medsafetybench.enabled:
        add_medsafetybench(b)
    add_written_sets(b)

    for s in b.skipped:
        b.ledger.dropped.append({"id": None, "source": s["file"], "step": "load", "reason": "malformed_row",
                                 "detail": s["reason"], "question": ""})
    for name in b.splits:
        b.splits[name].sort(key=lambda r: r["id"])
        b.ledger.step(f"final_{name}", "all", len(b.splits[name]))
    return {"splits": b.splits, "ledger": b.ledger, "tokenizer": tokenizer}
