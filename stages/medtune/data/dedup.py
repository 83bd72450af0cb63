"""Deduplication: exact and near-duplicate questions and answers, and conflicting answers.

Rules (documented in the data card):
1. Questions are grouped when their normal forms are equal (exact) or, within one question type,
   their MinHash Jaccard similarity is at least `question_threshold` and their answers' at least
   `answer_threshold` (near-duplicate; similar questions with different answers are different questions).
2. In a group, answers that are near-duplicates of the kept one are dropped as duplicates.
   Answers that differ are conflicting: the kept answer is chosen by `source_priority` (sites written
   for patients first), then the longer answer (more complete after cleaning), then the smaller id.
   An optional LLM judge (any OpenAI-compatible endpoint) may pick instead; it is off by default.
3. An answer that is a near-duplicate of an answer already kept under another question is dropped
   ("same answer under several questions"), keeping the row that ranks first by the same order.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections import defaultdict

import xxhash
from datasketch import MinHash, MinHashLSH


def normal_form(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def shingles(text: str, n: int) -> set[bytes]:
    words = normal_form(text).split()
    if len(words) < n:
        return {" ".join(words).encode()}
    return {" ".join(words[i:i + n]).encode() for i in range(len(words) - n + 1)}


def minhashes(texts: list[str], n: int, num_perm: int, seed: int) -> list[MinHash]:
    return MinHash.bulk([list(shingles(t, n)) for t in texts], num_perm=num_perm, seed=seed,
                        hashfunc=xxhash.xxh32_intdigest)  # several times faster than the default sha1


def rank_key(row: dict, source_priority: list[str]) -> tuple:
    rank = source_priority.index(row["source"]) if row["source"] in source_priority else len(source_priority)
    return (rank, -len(row["answer"]), row["id"])


class LLMJudge:
    """Asks an OpenAI-compatible chat endpoint which of several answers to keep."""

    def __init__(self, endpoint: str, model: str, api_key: str | None = None, timeout: float = 60):
        self.endpoint, self.model, self.api_key, self.timeout = endpoint.rstrip("/"), model, api_key, timeout

    def choose(self, question: str, answers: list[str]) -> int:
        options = "\n\n".join(f"[{i + 1}] {a[:1500]}" for i, a in enumerate(answers))
        prompt = (f"Question: {question}\n\nCandidate answers:\n{options}\n\nWhich answer is the most accurate "
                  "and complete for a patient? Reply with the number only.")
        body = json.dumps({"model": self.model, "temperature": 0,
                           "messages": [{"role": "user", "content": prompt}]}).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(f"{self.endpoint}/v1/chat/completions", body, headers)
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:
            text = json.load(resp)["choices"][0]["message"]["content"]
        match = re.search(r"\d+", text)
        choice = int(match.group()) - 1 if match else 0
        return choice if 0 <= choice < len(answers) else 0


def deduplicate(rows: list[dict], question_threshold: float, answer_threshold: float,
                source_priority: list[str], num_perm: int = 64, seed: int = 1,
                judge: LLMJudge | None = None) -> tuple[list[dict], list[dict]]:
    """Return (kept rows in input order, dropped rows each with 'reason' and 'detail')."""
    ordered = sorted(range(len(rows)), key=lambda i: rank_key(rows[i], source_priority))
    q_hashes = minhashes([r["question"] for r in rows], 3, num_perm, seed)
    a_hashes = minhashes([r["answer"] for r in rows], 5, num_perm, seed)

    # 1. group questions: exact normal form, then near-duplicates within the same qtype
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)

    by_text: dict[str, int] = {}
    for i, r in enumerate(rows):
        key = normal_form(r["question"])
        if key in by_text:
            union(by_text[key], i)
        else:
            by_text[key] = i
    lsh = MinHashLSH(threshold=question_threshold, num_perm=num_perm)
    for i in range(len(rows)):
        for j in lsh.query(q_hashes[i]):
            # near-duplicate questions are one question only when their answers agree too:
            # "X type 1" and "X type 2" read alike but are different conditions
            if rows[j]["qtype"] == rows[i]["qtype"] and q_hashes[i].jaccard(q_hashes[j]) >= question_threshold \
                    and a_hashes[i].jaccard(a_hashes[j]) >= answer_threshold:
                union(i, j)
        lsh.insert(i, q_hashes[i])

    groups: dict[int, list[int]] = defaultdict(list)
    for i in ordered:
        groups[find(i)].append(i)

    dropped: dict[int, dict] = {}
    for members in groups.values():
        if len(members) == 1:
            continue
        keep = members[0]
        distinct = [m for m in members if a_hashes[m].jaccard(a_hashes[keep]) < answer_threshold]
        if distinct and judge is not None:
            candidates = [keep, *distinct]
            keep = candidates[judge.choose(rows[keep]["question"], [rows[c]["answer"] for c in candidates])]
        for m in members:
            if m == keep:
                continue
            same = a_hashes[m].jaccard(a_hashes[keep]) >= answer_threshold
            exact_q = normal_form(rows[m]["question"]) == normal_form(rows[keep]["question"])
            reason = ("duplicate_question" if exact_q else "near_duplicate_question") if same \
                else "conflicting_answer"
            dropped[m] = {"reason": reason, "detail": f"kept {rows[keep]['id']}"}

    # 3. the same answer under several questions
    lsh_a = MinHashLSH(threshold=answer_threshold, num_perm=num_perm)
    for i in ordered:
        if i in dropped:
            continue
        hits = [j for j in lsh_a.query(a_hashes[i]) if a_hashes[i].jaccard(a_hashes[j]) >= answer_threshold]
        if hits:
            dropped[i] = {"reason": "duplicate_answer", "detail": f"same answer as {rows[hits[0]]['id']}"}
            continue
        lsh_a.insert(i, a_hashes[i])

    kept = [r for i, r in enumerate(rows) if i not in dropped]
    gone = [{**rows[i], **d} for i, d in sorted(dropped.items())]
    return kept, gone
