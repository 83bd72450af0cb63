"""The evaluation suite's building blocks (used by stages/evaluate.py and stages/report.py).

  mc          multiple-choice benchmarks, lm-evaluation-harness style log-likelihood scoring
  generation  greedy chat generation with a local model or an OpenAI-compatible endpoint
  text        answer-quality metrics: ROUGE, SQuAD exact match / token F1, MiniLM cosine
  liveqa      LiveQA consumer questions scored against their best-matching reference
  safety      refusal, emergency referral, non-answer, disclaimer, invented contacts, conversation
              checks, detector agreement with hand labels
  stats       bootstrap intervals, paired bootstrap, McNemar
  metrics     the metric registry: how each reported number is computed from per-item rows
  judge       optional LLM-as-judge through an OpenAI-compatible endpoint
  gates       the report's scorecard and its pass/fail gates (config section `report:`)
  analysis    predicted-letter distributions, below-chance warnings, corrected per-category tests
  render      charts and number formats
  markdown    report.md
  progress    tqdm progress bars with ETA
"""
