"""Documents for the lm-evaluation-harness cross-check tasks in this folder (see stages/crosscheck_lmeval.py).

Each task reads the same shared benchmark file as medtune's scorer and gives lm-eval the same zero-shot
prompt (medtune.evaluation.mc.build_prompt) and the same continuations (" A", " B", ...), so the two
scorers can only differ in how they tokenise, batch and sum log-probabilities. `pubmedqa_yesno` is the
harness's own PubMedQA style instead: no option list, continuations " yes" / " no" / " maybe".
"""

from __future__ import annotations

import datasets

from medtune.evaluation import mc
from medtune.paths import shared_data_dir


def _docs(name: str, yes_no: bool = False) -> dict:
    test, _ = mc.load_benchmark(name, shared_data_dir())
    rows = []
    for row in test:
        letters = list(row["options"])
        prompt = mc.build_prompt(row, [])
        if yes_no:   # the abstract and question only; the answer is the option text itself
            prompt = prompt.split("\nA. ")[0] + "\nAnswer:"
        rows.append({"id": row["id"], "prompt": prompt, "letters": letters,
                     "texts": [str(row["options"][k]).strip() for k in letters],
                     "gold": letters.index(row["answer"])})
    return {"test": datasets.Dataset.from_list(rows)}


def medqa(**_):
    return _docs("medqa")


def medmcqa(**_):
    return _docs("medmcqa")


def pubmedqa(**_):
    return _docs("pubmedqa")


def pubmedqa_yesno(**_):
    return _docs("pubmedqa", yes_no=True)


def mmlu(**_):
    return _docs("mmlu")
