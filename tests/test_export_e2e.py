"""End to end, for real: the embedded model trained a few steps -> GGUF (f16 + q8_0) -> llama-server -> chat client.

Needs the pinned llama.cpp build (`make llama-cpp`; CI builds it before the tests). Without it these
tests fail and say so: a silently skipped export test would hide a broken export.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from medtune import llamacpp
from medtune.chat_format import SYSTEM_PROMPT, conversation, prompt_messages, render
from medtune.files import write_jsonl
from medtune.modelfile import parse_modelfile, render_go_template

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "stages"))

import chat  # noqa: E402

RUN = "e2e-export"
QA = [
    ("What is anemia?", "Anemia is a condition in which the blood has too few healthy red blood cells."),
    ("What causes iron deficiency?", "Common causes are blood loss, a diet low in iron and poor absorption."),
    ("What is hypertension?", "Hypertension is blood pressure that stays higher than normal over time."),
    ("What are the symptoms of asthma?", "Wheezing, shortness of breath, chest tightness and coughing."),
    ("What is type 2 diabetes?", "A long-term condition in which the body does not use insulin well."),
    ("How is the flu spread?", "Mainly by droplets when people with flu cough, sneeze or talk."),
    ("What is a migraine?", "A headache disorder with attacks of throbbing pain, often with nausea."),
    ("What does the thyroid do?", "The thyroid makes hormones that control how the body uses energy."),
    ("What is osteoporosis?", "A disease that makes bones thin and weak, so they break more easily."),
    ("What is an allergy?", "An allergy is the immune system reacting to something that is usually harmless."),
]
CHAT = [("What is anemia?", QA[0][1]),
        ("What are its common symptoms?", "Tiredness, weakness, pale skin and shortness of breath."),
        ("When should I see a doctor about it?", "See a doctor if you feel tired for weeks or get short of breath.")]
CHAT_TURNS = [q for q, _ in CHAT]
GREEDY_PROMPTS = ["What is hypertension?", "What does the thyroid do?", "How is the flu spread?"]
GREEDY_TOKENS = 8


def _rows(chains):
    return [{"id": f"fx-{i}", "messages": conversation(chain, disclaimer=True), "source": "medquad",
             "category": "information", "qtype": "information", "focus": None, "num_turns": len(chain)}
            for i, chain in enumerate(chains)]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Train the embedded model for 12 steps on fixture data, merge, export to f16 + q8_0 GGUF."""
    if not llamacpp.is_built():
        pytest.fail(f"llama.cpp {llamacpp.SDIST_VERSION} is not built in {llamacpp.home()}: {llamacpp.BUILD_HINT}",
                    pytrace=False)
    root = tmp_path_factory.mktemp("export")
    processed = root / "data" / "processed"
    processed.mkdir(parents=True)
    singles = [[qa] for qa in QA]
    # The scripted chat is trained too, so the exported model answers it as trained, each turn ending in the
    # end-of-turn token (the untrained base runs on at greedy decoding on some CPUs).
    write_jsonl(processed / "train.jsonl", _rows((singles + [CHAT]) * 2))
    write_jsonl(processed / "validation.jsonl", _rows(singles[:4]))
    write_jsonl(processed / "test.jsonl", _rows(singles))
    env = dict(os.environ, MEDTUNE_DATA_DIR=str(root / "data"), MEDTUNE_ARTIFACTS_DIR=str(root / "artifacts"),
               HF_HUB_OFFLINE="1")
    train = subprocess.run(
        [sys.executable, str(REPO / "stages" / "train.py"), f"run_name={RUN}", f"data.dir={processed}",
         "data.max_length=384", "training.max_steps=12", "training.learning_rate=1e-3", "training.batch_size=2",
         "training.eval_steps=12",
         "training.logging_steps=1", "report_to=[]"],
        env=env, capture_output=True, text=True)
    assert train.returncode == 0, train.stdout[-2000:] + train.stderr[-3000:]
    export = subprocess.run(
        [sys.executable, str(REPO / "stages" / "export.py"), f"run={RUN}", "quantizations=[q8_0]",
         "check.max_tokens=1024"], env=env, capture_output=True, text=True)
    assert export.returncode == 0, export.stdout[-2000:] + export.stderr[-3000:]
    run_dir = root / "artifacts" / RUN
    return run_dir, json.loads((run_dir / "gguf" / "manifest.json").read_text())


@pytest.fixture(scope="module")
def server(exported):
    run_dir, manifest = exported
    gguf = run_dir / "gguf" / manifest["files"]["q8_0"]["file"]
    with llamacpp.LlamaServer(gguf, port=llamacpp.free_port(), ctx=2048, log=run_dir / "server.log") as srv:
        yield srv


@pytest.fixture(scope="module")
def tokenizer(exported):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(exported[0] / "merged")


def test_export_writes_gguf_files_modelfile_and_manifest(exported, tokenizer):
    run_dir, manifest = exported
    files = manifest["files"]
    assert set(files) == {"f16", "q8_0"}
    assert {kind: info["file"] for kind, info in files.items()} == {k: f"{RUN}-{k}.gguf" for k in files}
    for info in files.values():
        path = run_dir / "gguf" / info["file"]
        assert path.stat().st_size == info["bytes"] and len(info["sha256"]) == 64
    assert files["q8_0"]["bytes"] < 0.6 * files["f16"]["bytes"]
    # The GGUF carries the training chat template and stops on the end-of-turn token.
    meta = manifest["metadata"]
    assert meta["chat_template_matches_tokenizer"] is True
    assert meta["end_of_turn_id"] == tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert meta["end_of_turn_id"] in (meta["eos_token_id"], meta["eot_token_id"])
    # The quantization check scored every file on the held-out answers.
    check = manifest["quant_check"]
    assert set(check["results"]) == {"f16", "q8_0"} and check["answers"] == len(QA)
    assert all(r["ppl"] > 1 for r in check["results"].values())
    modelfile = parse_modelfile((run_dir / "Modelfile").read_text())
    assert modelfile["from"] == f"gguf/{files['q8_0']['file']}"
    assert (run_dir / modelfile["from"]).is_file()
    prompt = prompt_messages(CHAT_TURNS[0])
    assert render_go_template(modelfile["template"], prompt) == render(tokenizer, prompt, add_generation_prompt=True)


def test_export_writes_the_model_card(exported):
    from huggingface_hub import ModelCard

    run_dir, manifest = exported
    card = ModelCard.load(run_dir / "README.md")
    assert card.data.base_model == "HuggingFaceTB/SmolLM2-135M-Instruct" and card.data.license == "apache-2.0"
    assert "Not evaluated" in card.text  # no report in this run folder
    assert f"| training conversations | {(len(QA) + 1) * 2} |" in card.text
    assert f"`gguf/{manifest['files']['q8_0']['file']}`" in card.text
    dry_run = subprocess.run([sys.executable, str(REPO / "stages" / "push_hub.py"), "--run", RUN, "--repo",
                              "someone/medtune-e2e", "--dry-run"], env=_env(run_dir), capture_output=True, text=True)
    assert dry_run.returncode == 0, dry_run.stderr
    assert [line.split()[0] for line in dry_run.stdout.splitlines()[1:]] == [
        "README.md", "Modelfile", "gguf/" + manifest["files"]["f16"]["file"], "gguf/" + manifest["files"]["q8_0"]["file"],
        "gguf/manifest.json", "gguf/quant_check.json"]


def test_base_export_gets_its_own_folder(exported):
    run_dir, manifest = exported
    before = {p: p.read_bytes() for p in [run_dir / "Modelfile", run_dir / "README.md", run_dir / "gguf" / "manifest.json"]}
    result = subprocess.run(
        [sys.executable, str(REPO / "stages" / "export.py"), f"run={RUN}", "source=base", "quantizations=[]",
         "modelfile_quantization=f16", "check.enabled=false"], env=_env(run_dir), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    base = run_dir.parent / "base-smollm2-135m"
    assert (base / "gguf" / "base-smollm2-135m-f16.gguf").is_file()
    assert parse_modelfile((base / "Modelfile").read_text())["from"] == "gguf/base-smollm2-135m-f16.gguf"
    assert "None: this is the base model" in (base / "README.md").read_text()
    assert all(p.read_bytes() == content for p, content in before.items()), "the base export touched the run"
    assert sorted(p.name for p in (run_dir / "gguf").glob("*.gguf")) == sorted(
        info["file"] for info in manifest["files"].values())


def test_three_turn_chat_stops_and_leaks_no_special_tokens(server, tokenizer):
    session = chat.ChatSession(server.url, temperature=0.0, seed=0, timeout=600)
    special = {t for t in tokenizer.all_special_tokens} | {
        t.content for t in tokenizer.added_tokens_decoder.values() if t.special}
    replies = [session.ask(q, stream=(i != 1)) for i, q in enumerate(CHAT_TURNS)]
    for question, reply in zip(CHAT_TURNS, replies):
        assert reply.finish_reason == "stop", f"{question!r}: finish_reason {reply.finish_reason}: {reply.content!r}"
        assert reply.content.strip(), question
        leaked = [t for t in special if t in reply.content]
        assert not leaked, f"{question!r}: special tokens {leaked} in {reply.content!r}"
    # The history kept every turn, led by the shared system prompt.
    assert [m["content"] for m in session.history[::2]] == CHAT_TURNS
    assert session._fit("next")[0][0] == {"role": "system", "content": SYSTEM_PROMPT}


def test_chat_cli_scripted_turns(server, tmp_path):
    transcript = tmp_path / "t.json"
    result = subprocess.run(
        [sys.executable, str(REPO / "stages" / "chat.py"), "--url", server.url, "--temperature", "0",
         "--max-tokens", "24", "--once", CHAT_TURNS[0], "--once", CHAT_TURNS[1], "--transcript", str(transcript)],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    turns = json.loads(transcript.read_text())["turns"]
    assert [t["question"] for t in turns] == CHAT_TURNS[:2]
    assert all(t["answer"] and t["answer"] in result.stdout for t in turns)
    assert all(t["finish_reason"] in ("stop", "length") for t in turns)


def test_gguf_greedy_continuation_matches_the_16bit_model(exported, tokenizer):
    import torch
    from transformers import AutoModelForCausalLM

    run_dir, manifest = exported
    model = AutoModelForCausalLM.from_pretrained(run_dir / "merged", dtype=torch.float32)
    # The f16 file: q8_0 may flip a near-tie between two tokens, which is quantization, not a broken conversion.
    gguf = run_dir / "gguf" / manifest["files"]["f16"]["file"]
    with llamacpp.LlamaServer(gguf, port=llamacpp.free_port(), ctx=2048, log=run_dir / "server-f16.log") as server:
        _assert_same_greedy_tokens(model, server, tokenizer)


def _assert_same_greedy_tokens(model, server, tokenizer):
    import torch

    for question in GREEDY_PROMPTS:
        text = render(tokenizer, prompt_messages(question), add_generation_prompt=True)
        ids = tokenizer(text, return_tensors="pt", add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            out = model.generate(ids, max_new_tokens=GREEDY_TOKENS, do_sample=False)
        expected = out[0, ids.shape[1]:].tolist()
        response = requests.post(server.url + "/completion", json={
            "prompt": text, "n_predict": GREEDY_TOKENS, "temperature": 0, "top_k": 1, "cache_prompt": False,
            "return_tokens": True}, timeout=120).json()
        got = response["tokens"]
        assert got[:len(expected)] == expected, (
            f"{question!r}: GGUF {tokenizer.decode(got)!r} vs 16-bit {tokenizer.decode(expected)!r}")


def _env(run_dir: Path) -> dict:
    root = run_dir.parents[1]
    return dict(os.environ, MEDTUNE_DATA_DIR=str(root / "data"), MEDTUNE_ARTIFACTS_DIR=str(root / "artifacts"),
                HF_HUB_OFFLINE="1")


def test_serving_benchmark_decodes_the_token_budget_and_reports_the_bound(exported, tmp_path):
    run_dir, manifest = exported
    result = subprocess.run(
        [sys.executable, str(REPO / "stages" / "bench_serve.py"), "--run", RUN, "--quants", "q8_0",
         "--requests", "2", "--max-tokens", "12", "--out", str(tmp_path)],
        env=_env(run_dir), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    report = json.loads((tmp_path / "serving.json").read_text())
    row = report["results"][0]
    assert row["bytes"] == manifest["files"]["q8_0"]["bytes"]
    assert [r["predicted_n"] for r in row["requests"]] == [12, 12]   # ignore_eos: the whole budget is decoded
    assert row["generation_tokens_per_s"] > 0 and report["bandwidth_gb_s"] > 0.5
    assert row["bound_tokens_per_s"] == pytest.approx(report["bandwidth_gb_s"] * 1e9 / row["bytes"])
    assert "| " + row["gguf"] in (tmp_path / "serving.md").read_text()


def test_merge_only_rebuilds_the_same_merged_model(exported):
    from safetensors.torch import load_file

    run_dir, _ = exported
    before = load_file(run_dir / "merged" / "model.safetensors")
    result = subprocess.run(
        [sys.executable, str(REPO / "stages" / "train.py"), f"run_name={RUN}", "merge.only=true"],
        env=_env(run_dir), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    after = load_file(run_dir / "merged" / "model.safetensors")
    assert before.keys() == after.keys()
    assert all(before[k].equal(after[k]) for k in before)
    assert not (run_dir / "merged.tmp").exists()
