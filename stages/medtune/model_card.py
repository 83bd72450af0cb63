"""The model card every export writes: artifacts/<run>/README.md in the Hugging Face model-card format.

The YAML header (base_model, license, datasets, tags, pipeline_tag) is written with huggingface_hub's
ModelCardData; the body is filled only from files the pipeline wrote: the training manifest, the
evaluation report's comparison.json and the export manifest. Whatever is missing is said to be
missing ("Not evaluated"), never made up.
"""

from __future__ import annotations

import json
from pathlib import Path

from medtune.chat_format import DISCLAIMER, GENERATION_DEFAULTS
from medtune.models import Preset

# The hub's license ids for the presets' licences; anything else is "other" with its name.
HUB_LICENSES = {"Apache-2.0": "apache-2.0", "MIT": "mit", "CC BY-SA 4.0": "cc-by-sa-4.0",
                "Llama 3.2 Community License": "llama3.2", "Gemma Terms of Use": "gemma"}
# Hub ids of the training sources that have one (MedSafetyBench train and the triage examples do not).
TRAINING_DATASETS = ["lavita/MedQuAD"]
SCORECARD_GROUPS = ("answer quality", "safety", "accuracy")  # the report's headline groups, in this order


def _read_json(path: Path) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def card_data(preset: Preset, trained: bool):
    from huggingface_hub import ModelCardData

    license_id = HUB_LICENSES.get(preset.license, "other")
    extra = {"license_name": preset.license} if license_id == "other" else {}
    tags = ["medical", "medtune", "gguf", "text-generation"] + (["lora", "fine-tuned"] if trained else ["base-model"])
    return ModelCardData(base_model=preset.hub_id, license=license_id, language=["en"], pipeline_tag="text-generation",
                         datasets=TRAINING_DATASETS if trained else None, tags=tags, **extra)


def recipe_section(train: dict | None) -> str:
    if train is None:
        return ("## Training\n\nNone: this is the base model exported without fine-tuning (`make export "
                "EXPORT_ARGS=source=base`), for a side-by-side comparison with a trained run.\n")
    cfg = train.get("config", {})
    lora, training, data = cfg.get("lora", {}), cfg.get("training", {}), cfg.get("data", {})
    batch = (training.get("batch_size") or 0) * (training.get("grad_accum") or 1)
    rows = [
        ("method", f"{training.get('method', 'lora')} (r={lora.get('r')}, alpha={lora.get('alpha')}, "
                   f"dropout={lora.get('dropout')}), backend {training.get('backend', 'hf')}"),
        ("training conversations", train.get("train_rows")), ("validation conversations", train.get("validation_rows")),
        ("optimizer steps", f"{train.get('global_step')} of {batch} conversations "
                            f"(best checkpoint: step {train.get('best_checkpoint_step')})"),
        ("learning rate", f"{training.get('learning_rate')} ({training.get('lr_scheduler')})"),
        ("max length", f"{data.get('max_length')} tokens"), ("tokens seen", train.get("tokens_seen")),
        ("validation loss", f"{_num(train.get('eval_loss_initial'))} before, {_num(train.get('eval_loss_final'))} after"),
        ("device, time", f"{train.get('device')}, {_num(train.get('train_runtime_s'), 0)} s"),
    ]
    table = "\n".join(f"| {name} | {value} |" for name, value in rows)
    return f"""## Training data and recipe

Data (`make data`): medical question-answer conversations from MedQuAD (12 NIH websites, CC BY 4.0), with
phone numbers, e-mail addresses, URLs and site furniture removed, near-duplicates and conflicting answers
resolved, every row sharing a 13-word n-gram with an evaluation set dropped, and half of the template
questions rephrased the way people ask; MedSafetyBench's training split (harmful medical requests answered
with safe refusals, MIT, research use); and conversations written for the project: red flags answered with a
referral to emergency care and their non-urgent look-alikes with self-care, helpful answers to benign questions
that sound sensitive, and two-turn conversations whose follow-up needs the first turn.
Each conversation starts with the same safety system prompt; information answers end with a disclaimer.

Recipe (`make train`, preset `{cfg.get('model', {}).get('preset')}`, run `{cfg.get('run_name')}`), loss on
assistant tokens only:

| setting | value |
|---|---|
{table}
"""


def _p_value(p: float) -> str:
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


def _num(value, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def scorecard_section(report: dict | None, report_dir: Path) -> str:
    if report is None:
        return (f"## Evaluation\n\nNot evaluated: no report in `{report_dir.name}/` beside this card "
                "(`make baseline eval report` writes one).\n")
    rows = []
    for group in SCORECARD_GROUPS:
        for c in report["comparison"].values():
            if c.get("group") != group:
                continue
            ci = ", ".join(f"{x:+.3f}" for x in c["ci"])
            better = "higher is better" if c.get("higher_is_better", True) else "lower is better"
            rows.append(f"| {c['label']} ({better}) | {c['n']} | {c['base']:.3f} | {c['tuned']:.3f} | "
                        f"{c['diff']:+.3f} [{ci}] | {c['verdict']} ({_p_value(c['p'])}) |")
    return f"""## Evaluation

Paired before/after comparison from `{report_dir.name}/comparison.json` (`make report`): base model
`{report['base']}` against `{report['tuned']}`, evaluation profile `{report.get('profile')}`, the same
items for both; 95% bootstrap intervals of the difference, McNemar or paired bootstrap tests. The full
report with per-category results and sample answers is `{report_dir.name}/report.md`.

| metric | n | base | fine-tuned | difference [95% CI] | verdict |
|---|---|---|---|---|---|
{chr(10).join(rows)}
"""


def usage_section(export: dict | None, name: str) -> str:
    if export is None:
        return "## How to run\n\nNo GGUF export beside this card: run `make export`.\n"
    files = export["files"]
    rows = "\n".join(f"| `gguf/{f['file']}` | {kind} | {f['bytes'] / 1e6:.1f} MB | `{f['sha256'][:16]}…` |"
                     for kind, f in files.items())
    q8 = files.get("q8_0", next(iter(files.values())))["file"]
    return f"""## How to run

| file | type | size | SHA-256 |
|---|---|---|---|
{rows}

Ollama (the `Modelfile` carries the chat template, the stop token, the safety system prompt and the
sampling defaults: temperature {GENERATION_DEFAULTS['temperature']}, top_p {GENERATION_DEFAULTS['top_p']},
repeat penalty {GENERATION_DEFAULTS['repeat_penalty']}):

```bash
ollama create {name} -f Modelfile
ollama run {name}
```

llama.cpp (the GGUF carries the chat template; send the system prompt from the Modelfile's SYSTEM line):

```bash
llama-server -m gguf/{q8} --jinja -c 2048 --port 8080
# then any OpenAI-style client on http://127.0.0.1:8080/v1/chat/completions, e.g. medtune's
# `make chat` (terminal) or `make web` (browser page)
```
"""


def model_card_text(out_dir: Path, preset: Preset) -> str:
    """The card for an export folder (a trained run or base-<preset>), from the files in it."""
    from huggingface_hub import ModelCard

    train = _read_json(out_dir / "manifest.json")
    train = train if train and train.get("stage") == "train" else None
    report = _read_json(out_dir / "report" / "comparison.json")
    export = _read_json(out_dir / "gguf" / "manifest.json")
    what = (f"`{preset.hub_id}` fine-tuned with LoRA by the medtune pipeline into a careful medical "
            "information assistant" if train else f"The base model `{preset.hub_id}`, exported unchanged")
    body = f"""
# {out_dir.name}

{what}, with GGUF files for llama.cpp and Ollama. Licence of the weights: {preset.license} (from the base model).

{recipe_section(train)}
{scorecard_section(report, out_dir / 'report')}
## Intended use

General health information in plain language for adults, research on fine-tuning small models for safer
medical answers, and demonstrations of the medtune pipeline. Not for diagnosis, treatment decisions,
dosing, triage or any use where an error could harm a person.

## Limitations and medical disclaimer

{DISCLAIMER} This model is not a medical device and has not been clinically validated. A small language
model makes factual errors that sound confident, can miss an emergency, and knows nothing after its
training data. In an emergency, call your local emergency number (for example 911 in the US or 112 in
Europe) or go to the nearest emergency department. Refusal and emergency-referral rates above are
measured on test sets and do not guarantee safe behaviour on other questions.

{usage_section(export, 'medtune')}"""
    return ModelCard("---\n" + card_data(preset, train is not None).to_yaml() + "\n---\n" + body).content


def write_model_card(out_dir: Path, preset: Preset) -> Path:
    path = out_dir / "README.md"
    path.write_text(model_card_text(out_dir, preset), encoding="utf-8")
    return path
