"""The data stage's building blocks: sources, cleaning, deduplication, quality filter,
decontamination, splitting, chat formatting and the data card.

Contract of `make data` (what the later stages read), in data/processed/:
  train.jsonl, validation.jsonl, test.jsonl   one conversation per line:
      {"id": str, "messages": [{"role": "system"|"user"|"assistant", "content": str}, ...],
       "source": "medquad" | "medquad_multiturn" | "medsafetybench" | "triage" | "sensitive" | "context",
       "category": str,           # MedQuAD question type, "multi_turn", "refusal", "emergency",
                                  # "non_urgent", "sensitive" or "context"
       "qtype": str | null, "focus": str | null, "num_turns": int}
      The first message is always chat_format.SYSTEM_PROMPT; the reference answer of a row is its
      last assistant message. test.jsonl is a fixed per-category holdout: it does not change when
      the training share (split.train_fraction) changes.
  hf/                 the same three splits as a datasets.DatasetDict (save_to_disk)
  data_card.md/.json  counts after every step, per category, dropped rows per reason, length charts
  dropped.jsonl       every dropped row with the step and reason
  manifest.json       inputs' hashes, config, versions, timings
"""
