"""Guards that stop a training run before it produces a broken model.

A run whose loss or gradients turn NaN/inf keeps going in the stock Trainer: it filters non-finite
losses out of the logged average (so the log reads "loss 0"), applies NaN updates to the weights, and
at the end merges and exports a model that only emits garbage. Here the first non-finite gradient
stops the run *before* the optimizer applies it, so every checkpoint on disk stays finite, and the
merge refuses non-finite weights whatever produced them.
"""

from __future__ import annotations

import math
from pathlib import Path

from transformers import TrainerCallback

# What usually makes a LoRA run diverge, in the order worth trying.
DIVERGENCE_KNOBS = (
    "lower training.learning_rate (e.g. halve it) or raise training.warmup_ratio",
    "train in bfloat16 or float32 rather than float16 (model.dtype)",
    "use another attention kernel (model.attn_implementation=varlen with training.padding_free=true, or eager)",
    "check the padding (training.padding_free=true avoids padded batches altogether)",
    "keep training.max_grad_norm at 1.0 or lower",
)


class NonFiniteTraining(RuntimeError):
    """Raised inside the trainer at the first non-finite loss or gradient."""

    def __init__(self, step: int, what: str, applied: bool = True):
        super().__init__(f"{what} at optimizer step {step}")
        self.step = step
        self.what = what
        self.applied = applied  # False: caught before the optimizer applied it


def _non_finite(value) -> bool:
    return isinstance(value, (int, float)) and not math.isfinite(value)


class NonFiniteGuard(TrainerCallback):
    """Checks the gradients before every optimizer step, and every logged loss and evaluation.

    One host sync per step (the stock Trainer's NaN filter, turned off in sft_config so the log shows
    the truth, did one too).
    """

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        import torch

        grads = [p.grad for p in model.parameters() if p.grad is not None]
        if grads:
            norms = torch._foreach_norm(grads)
            if not bool(torch.isfinite(torch.stack([n.float() for n in norms])).all()):
                raise NonFiniteTraining(state.global_step + 1, "non-finite gradient (NaN or inf)", applied=False)

    def on_log(self, args, state, control, logs=None, **kwargs):
        for key in ("loss", "grad_norm", "eval_loss"):
            if _non_finite((logs or {}).get(key)):
                raise NonFiniteTraining(state.global_step, f"non-finite {key} ({logs[key]})")

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if _non_finite((metrics or {}).get("eval_loss")):
            raise NonFiniteTraining(state.global_step, f"non-finite validation loss ({metrics['eval_loss']})")


def last_checkpoint_before(checkpoints: Path, step: int) -> Path | None:
    """The newest checkpoint saved before `step` (every such checkpoint holds finite weights)."""
    found = []
    for path in checkpoints.glob("checkpoint-*"):
        try:
            number = int(path.name.rsplit("-", 1)[1])
        except ValueError:
            continue
        if number < step:
            found.append((number, path))
    return max(found)[1] if found else None


def divergence_message(error: NonFiniteTraining, checkpoints: Path) -> str:
    good = last_checkpoint_before(checkpoints, error.step)
    where = (f"the last good checkpoint is {good} (continue from it with `make train RESUME=1` after changing "
             f"a setting)" if good else "no checkpoint was saved before it")
    when = "before the optimizer applied it" if not error.applied else "before saving this step"
    knobs = "\n  - ".join(DIVERGENCE_KNOBS)
    return (f"training diverged: {error}; the run was stopped {when}, nothing was merged or exported; "
            f"{where}. Likely fixes:\n  - {knobs}")


def non_finite_tensors(state_dict: dict) -> list[str]:
    """Names of the floating-point tensors that hold a NaN or inf."""
    import torch

    return [name for name, t in state_dict.items()
            if torch.is_tensor(t) and t.is_floating_point() and not bool(torch.isfinite(t).all())]
