"""Presets whose tokenizer has no ChatML tokens (phi-2, stablelm-3b): the tokens are added and trained.

Runs offline on tiny random models: a byte-level BPE tokenizer without ChatML tokens, and a 2-layer
Llama (bias-less untied head, like StableLM) or Phi (head with a bias) saved to a tmp folder and served
as a `hub` preset whose hub id is that folder.
"""

from __future__ import annotations

import copy
import json

import pytest
import torch
from test_train import QA, tiny_config, write_data

from medtune import models
from medtune.chat_format import conversation, end_of_turn_token
from medtune.training import IGNORE_INDEX, TrainError, load_for_training, run, tokenize_conversation

EOT = "<|im_end|>"


def build_checkpoint(folder, arch: str, tied: bool = False) -> None:
    from tokenizers import Tokenizer, decoders, models as tok_models, pre_tokenizers, trainers
    from transformers import (LlamaConfig, LlamaForCausalLM, PhiConfig, PhiForCausalLM,
                              PreTrainedTokenizerFast)

    tok = Tokenizer(tok_models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    corpus = [text for pair in QA for text in pair] + ["You are a careful medical assistant.", "system user"]
    tok.train_from_iterator(corpus, trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>")
    assert not tokenizer.chat_template and EOT not in tokenizer.get_vocab()
    size = dict(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=256,
                tie_word_embeddings=tied, eos_token_id=tokenizer.eos_token_id, bos_token_id=None)
    torch.manual_seed(0)
    model = (LlamaForCausalLM(LlamaConfig(**size)) if arch == "llama" else PhiForCausalLM(PhiConfig(**size)))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


@pytest.fixture(params=["llama", "llama-tied", "phi"])
def preset(request, tmp_path, monkeypatch):
    arch = request.param.split("-")[0]
    build_checkpoint(tmp_path / "base", arch, tied=request.param.endswith("tied"))
    name = f"tiny-{request.param}"
    targets = models.PHI2_TARGETS if arch == "phi" else models.LLAMA_TARGETS
    monkeypatch.setitem(models.PRESETS, name, models.Preset(
        name, str(tmp_path / "base"), "hub", "test", lora_targets=targets, end_of_turn=EOT))
    monkeypatch.setenv("MEDTUNE_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    return name


def config(tmp_path, preset, run_name="tiny", **training):
    cfg = tiny_config(write_data(tmp_path / "data"), run_name, **training)
    cfg.model.preset = preset
    return cfg


def test_chatml_tokens_become_single_tokens_and_are_trained_labels(preset):
    tokenizer = models.load_tokenizer(preset)
    assert tokenizer.added_chat_tokens == list(models.CHATML_TOKENS)
    for token in models.CHATML_TOKENS:
        assert len(tokenizer(token, add_special_tokens=False)["input_ids"]) == 1
    assert end_of_turn_token(tokenizer, EOT) == EOT
    messages = conversation([QA[0], QA[1]])
    item = tokenize_conversation(tokenizer, messages, EOT)
    eot_id = tokenizer.convert_tokens_to_ids(EOT)
    assert item["labels"].count(eot_id) == 2 and item["input_ids"].count(eot_id) == len(messages)
    labelled = tokenizer.decode([t for t, lab in zip(item["input_ids"], item["labels"]) if lab != IGNORE_INDEX])
    assert labelled == QA[0][1] + EOT + QA[1][1] + EOT


def test_tokenizers_with_chatml_are_unchanged():
    from transformers import AutoTokenizer

    tokenizer = models.load_tokenizer("smollm2-135m")
    assert tokenizer.added_chat_tokens == []
    assert len(tokenizer) == len(AutoTokenizer.from_pretrained(models.prepare("smollm2-135m")))


def test_one_step_moves_the_new_rows_and_not_the_old(preset, tmp_path):
    from peft import get_peft_model
    from trl.trainer.utils import add_fused_lm_head

    cfg = config(tmp_path, preset)
    tokenizer = models.load_tokenizer(preset)
    model, peft_config, _ = load_for_training(cfg, tokenizer)
    assert model.get_input_embeddings().num_embeddings == len(tokenizer)  # resized for the new tokens
    add_fused_lm_head(model)  # as SFTTrainer does: the loss reads lm_head.weight directly
    model = get_peft_model(model, peft_config)
    new = tokenizer.convert_tokens_to_ids(list(models.CHATML_TOKENS))
    old = [i for i in range(len(tokenizer)) if i not in new]

    def rows():  # the input and output rows the model uses (as merged), per token id
        with torch.no_grad():
            merged = copy.deepcopy(model).merge_and_unload()
            return merged.get_input_embeddings().weight.clone(), merged.get_output_embeddings().weight.clone()

    eot = tokenizer.convert_tokens_to_ids(EOT)
    head_seen = model.get_output_embeddings().weight[eot].detach().clone()  # what the fused loss multiplies by
    before = rows()
    item = tokenize_conversation(tokenizer, conversation([QA[2]]), EOT)
    batch = {k: torch.tensor([v]) for k, v in item.items()}
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1.0)
    model(**batch, fused_lm_head=True).loss.backward()
    optimizer.step()
    after = rows()
    assert not torch.equal(head_seen, model.get_output_embeddings().weight[eot])
    for b, a in zip(before, after):  # the end-of-turn row is trained on both sides
        assert not torch.equal(b[eot], a[eot])
    if "tied" not in preset:  # untied: only the new input rows train (the head is trained whole)
        assert torch.equal(before[0][old], after[0][old])


def test_unsloth_is_refused_for_new_tokens(preset, tmp_path):
    cfg = config(tmp_path, preset, backend="unsloth")
    with pytest.raises(TrainError, match="backend=hf"):
        load_for_training(cfg, models.load_tokenizer(preset))


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["llama", "llama-tied", "phi"], indirect=True)
def test_run_merges_with_the_new_vocabulary(preset, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = run(config(tmp_path, preset, max_steps=4, eval_steps=2))
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["end_of_turn"] == EOT and summary["eval_loss_final"] < summary["eval_loss_initial"]
    tokenizer = AutoTokenizer.from_pretrained(out / "merged")
    merged = AutoModelForCausalLM.from_pretrained(out / "merged", dtype=torch.float32).eval()
    assert merged.config.vocab_size == merged.get_input_embeddings().num_embeddings == len(tokenizer)
    assert tokenizer.convert_tokens_to_ids(EOT) in json.loads((out / "merged/generation_config.json")
                                                               .read_text())["eos_token_id"]
    # the merged weights (new rows included) give the same logits as base + adapter
    base_tokenizer = models.load_tokenizer(preset)
    base = models.load_model(preset)
    models.fit_embeddings(base, base_tokenizer)
    eot = tokenizer.convert_tokens_to_ids(EOT)
    for side in ("get_input_embeddings", "get_output_embeddings"):  # the end-of-turn rows were trained
        trained = getattr(merged, side)().weight[eot] - getattr(base, side)().weight[eot]
        assert trained.abs().max() > 1e-3
    peft = PeftModel.from_pretrained(base, str(out / "adapter")).eval()
    ids = tokenizer(tokenizer.apply_chat_template(conversation([QA[9]]), tokenize=False),
                    return_tensors="pt").input_ids
    assert eot in ids[0].tolist()
    with torch.no_grad():
        assert torch.allclose(merged(ids).logits, peft(ids).logits, atol=1e-4)
