"""Supervised fine-tuning with LoRA / QLoRA: `run(TrainConfig)` trains and writes artifacts/<run>/.

`stages/train.py` is the command line. The modules, in the order a run uses them:
  config       TrainConfig and its sections; sft_config (TRL's SFTConfig from them)
  checks       inputs and device, before anything heavy is loaded
  checkpoints  start_or_resume: resume, refuse to delete an earlier run's checkpoints, or start fresh
  model        the base model with its LoRA config, the merge
  speedups     the lean trainer, adapter inputs in the compute dtype, compiled decoder layers
  callbacks    live metrics, throughput, profiling, early stop, the initial evaluation
  pipeline     run: the steps above in order, then the outputs
The tokenizer with its end-of-turn and pad tokens comes from medtune.model_spec (shared with evaluation
and export). The labels (assistant answers and their end-of-turn token; the pad rule) are in medtune.labels,
which this package re-exports, so `from medtune.training import tokenize_conversation` keeps working.
"""

from ..labels import (IGNORE_INDEX, PAD_CANDIDATES, TrainError, assistant_spans, load_split, set_pad_token,
                      tokenize_conversation)
from .checkpoints import start_or_resume
from .checks import check_device, check_inputs, processed_dir
from .config import (DataSection, LoraSection, MergeSection, ModelSection, TrainConfig, TrainingSection,
                     sft_config)
from .model import load_for_training, merge_adapter, merge_only, new_token_rows, resolve_dtype
from .pipeline import describe_batch, run
from .speedups import compile_decoder_layers, keep_adapter_inputs_in_compute_dtype, lean_trainer, train_if_needed

__all__ = [
    "IGNORE_INDEX", "PAD_CANDIDATES", "TrainError", "assistant_spans", "load_split", "set_pad_token",
    "tokenize_conversation", "start_or_resume", "check_device", "check_inputs", "processed_dir",
    "DataSection", "LoraSection", "MergeSection", "ModelSection", "TrainConfig", "TrainingSection", "sft_config",
    "load_for_training", "merge_adapter", "merge_only", "new_token_rows", "resolve_dtype",
    "describe_batch", "run", "compile_decoder_layers", "keep_adapter_inputs_in_compute_dtype", "lean_trainer",
    "train_if_needed",
]
