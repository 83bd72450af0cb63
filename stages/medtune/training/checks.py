"""Checks that run before anything heavy is loaded: the inputs exist, the device can run the asked method."""

from __future__ import annotations

import os
from pathlib import Path

from ..labels import TrainError
from ..models import get_preset
from ..paths import cache_dir, data_dir
from ..stage import logger
from .config import TrainConfig

log = logger("train")


def processed_dir(cfg: TrainConfig) -> Path:
    return Path(cfg.data.dir) if cfg.data.dir else data_dir() / "processed"


def check_inputs(cfg: TrainConfig) -> tuple[Path, Path]:
    get_preset(cfg.model.preset)  # raises with the list of presets
    folder = processed_dir(cfg)
    train, val = folder / "train.jsonl", folder / "validation.jsonl"
    for path in (train, val):
        if not path.is_file():
            raise TrainError(f"{path} not found: run `make data` first (or set data.dir=...)")
    return train, val


def check_device(cfg: TrainConfig) -> None:
    import torch

    if cfg.training.liger and not torch.cuda.is_available():
        log("training.liger=true needs a CUDA GPU (Triton kernels): training without it here")
        cfg.training.liger = False

    method, backend = cfg.training.method, cfg.training.backend
    if (method == "qlora" or backend == "unsloth") and not torch.cuda.is_available():
        raise TrainError(f"training.{'backend=unsloth' if backend == 'unsloth' else 'method=qlora'} needs an "
                         "NVIDIA GPU with CUDA (4-bit NF4 and unsloth kernels do not run on a CPU); on this "
                         "machine use training.backend=hf training.method=lora")
    if os.environ.get("ACCELERATE_USE_FSDP", "").lower() == "true" and (method == "qlora" or backend == "unsloth"):
        raise TrainError(f"training.{'backend=unsloth' if backend == 'unsloth' else 'method=qlora'} does not run "
                         "sharded: FSDP (ACCELERATE_CONFIG=fsdp_lora) is for training.method=lora with "
                         "training.backend=hf; a QLoRA preset fits one GPU, so use DDP (ACCELERATE_CONFIG=ddp)")


def check_unsloth() -> None:
    # unsloth writes generated code into the working directory unless told otherwise
    os.environ.setdefault("UNSLOTH_COMPILE_LOCATION", str(cache_dir() / "unsloth_compiled_cache"))
    try:
        import unsloth  # noqa: F401  (imported first so it can patch transformers and trl)
    except ImportError as e:
        raise TrainError(f"training.backend=unsloth: cannot import unsloth ({e}); install the GPU extras "
                         "(docker/trainer/requirements-gpu.txt) or use training.backend=hf") from None
