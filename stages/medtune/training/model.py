"""The model side of training: the base model with its LoRA config, and the merge (the tokenizer, its
end-of-turn and pad tokens come from medtune.model_spec, as in every other stage)."""

from __future__ import annotations

import shutil
from pathlib import Path

from .. import attention
from ..guards import non_finite_tensors
from ..labels import TrainError
from ..model_spec import ModelSpec, resolve_model
from ..models import fit_embeddings, get_preset, load_model, prepare, record_source
from ..paths import artifacts_dir
from .config import TrainConfig


def resolve_dtype(name: str):
    import torch

    if name == "auto":
        return torch.bfloat16 if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else torch.float32
    return getattr(torch, name)


def load_base(cfg: TrainConfig, dtype, path: str | None = None, **kwargs):
    """The preset's weights, or those of a model folder made from it (`path`: an SFT run's merged model)."""
    if path is None:
        return load_model(cfg.model.preset, dtype=dtype, **kwargs)
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(path, dtype=dtype, **kwargs)


def load_for_training(cfg: TrainConfig, tokenizer, path: str | None = None):
    """The base model (and for unsloth the LoRA-wrapped model) plus the peft config TRL should apply.

    `path`: start from this model folder instead of the preset (the preference stage starts from an SFT merge).
    """
    import torch

    preset = get_preset(cfg.model.preset)
    targets = cfg.lora.target_modules or list(preset.lora_targets)
    dtype = resolve_dtype(cfg.model.dtype)
    method, backend = cfg.training.method, cfg.training.backend
    new_tokens = list(getattr(tokenizer, "added_chat_tokens", ()))
    if new_tokens and backend == "unsloth":
        raise TrainError(f"preset {preset.name}: its tokenizer needed new tokens {new_tokens} for the chat "
                         "format, whose embeddings must be trained; use training.backend=hf")
    if backend == "unsloth":
        from unsloth import FastLanguageModel  # must be imported before trl/transformers patch points are used

        model, _ = FastLanguageModel.from_pretrained(
            model_name=path or prepare(cfg.model.preset), max_seq_length=cfg.data.max_length, dtype=dtype,
            load_in_4bit=method == "qlora")
        model = FastLanguageModel.get_peft_model(
            model, r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
            target_modules=targets, bias="none", random_state=cfg.training.seed,
            use_gradient_checkpointing="unsloth" if cfg.training.gradient_checkpointing else False)
        return model, None, dtype
    from peft import LoraConfig

    kwargs = {}
    if cfg.model.attn_implementation == attention.NAME:
        if not (cfg.training.padding_free or cfg.training.packing):
            raise TrainError(f"model.attn_implementation={attention.NAME} needs padding-free batches: "
                             "set training.padding_free=true (or use sdpa with padded batches)")
        attention.register()
    if cfg.model.attn_implementation:
        kwargs["attn_implementation"] = cfg.model.attn_implementation
    if method == "qlora":
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=dtype if dtype != torch.float32 else torch.bfloat16)
    model = load_base(cfg, dtype, path, **kwargs)
    fit_embeddings(model, tokenizer)
    peft_config = LoraConfig(r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
                             target_modules=targets, bias="none", task_type="CAUSAL_LM",
                             **new_token_rows(model, tokenizer.convert_tokens_to_ids(new_tokens)))
    return model, peft_config, dtype


def new_token_rows(model, ids: list[int]) -> dict:
    """LoraConfig arguments that train the embedding rows of new tokens (LoRA alone never touches them).

    The output rows matter as much as the input ones: without them the model cannot learn to emit the
    end-of-turn token. TRL's fused loss multiplies by `lm_head.weight` itself, which sees neither peft's
    token rows nor a LoRA on the head, so the head is trained whole (modules_to_save); a tied head shares
    the whole embedding matrix, which is then trained whole too.
    """
    if not ids:
        return {}
    names = {id(m): n for n, m in model.named_modules()}
    embed, head = model.get_input_embeddings(), model.get_output_embeddings()
    if head.weight is embed.weight:
        return {"modules_to_save": [names[id(embed)]], "ensure_weight_tying": True}
    return {"trainable_token_indices": {names[id(embed)]: ids}, "modules_to_save": [names[id(head)]]}


def merge_adapter(cfg: TrainConfig, adapter: Path, out: Path, spec: ModelSpec, base: str | None = None) -> None:
    """Merge the adapter into a freshly loaded 16-bit base (never into 4-bit weights) and save it.

    `base`: the model folder the adapter was trained on when it was not the preset (see load_for_training).
    """
    from peft import PeftModel

    tokenizer = spec.tokenizer
    dtype = resolve_dtype(cfg.merge.dtype)
    base_model = load_base(cfg, dtype, base)
    fit_embeddings(base_model, tokenizer)  # the adapter was trained on a base resized to this tokenizer
    peft_model = PeftModel.from_pretrained(base_model, str(adapter))
    bad = non_finite_tensors({n: p for n, p in peft_model.named_parameters() if "lora_" in n})
    merged = peft_model.merge_and_unload()
    bad += non_finite_tensors(merged.state_dict())
    if bad:
        raise TrainError(f"{adapter}: refusing to merge: {len(bad)} tensors hold NaN or inf "
                         f"(first: {bad[0]}); the run diverged, see the training log")
    eos_ids = tokenizer.convert_tokens_to_ids(list(spec.stop_strings))  # end-of-turn first
    merged.config.pad_token_id = tokenizer.pad_token_id
    merged.config.eos_token_id = eos_ids[0]
    merged.generation_config.eos_token_id = eos_ids
    merged.generation_config.pad_token_id = tokenizer.pad_token_id
    merged.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    record_source(out, cfg.model.preset, run=cfg.run_name, hub_id=get_preset(cfg.model.preset).hub_id)


def merge_only(cfg: TrainConfig) -> Path:
    """Rebuild artifacts/<run>/merged from artifacts/<run>/adapter (e.g. only the adapter came back from a GPU)."""
    final = artifacts_dir() / cfg.run_name
    adapter = final / "adapter"
    if not (adapter / "adapter_config.json").is_file():
        raise TrainError(f"{adapter} has no adapter_config.json: train first (merge.only=true only re-merges)")
    tmp = final / "merged.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    merge_adapter(cfg, adapter, tmp, resolve_model(cfg.model.preset))
    shutil.rmtree(final / "merged", ignore_errors=True)
    tmp.rename(final / "merged")
    print(f"[train] merged {adapter} into {final / 'merged'}", flush=True)
    return final
