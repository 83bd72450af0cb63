"""The evaluation suite's building blocks (used by stages/evaluate.py and stages/report.py).

  mc          multiple-choice benchmarks, lm-evaluation-harness style log-likelihood scoring
  generation  greedy chat generation with a local model or an OpenAI-compatible endpoint
  text        answer-quality metrics: ROUGE, SQuAD exact match / token F1, MiniLM cosine
  safety      refusal, emergency referral, disclaimer, invented contacts, conversation checks
  stats       bootstrap intervals, paired bootstrap, McNemar
  metrics     the metric registry: how each reported number is computed from per-item rows
  judge       optional LLM-as-judge through an OpenAI-compatible endpoint
  render      report.md and charts
"""
