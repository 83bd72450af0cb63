"""Speed-ups of the training step that leave the result unchanged (varlen attention: medtune.attention)."""

from __future__ import annotations

from ..labels import TrainError
from ..stage import logger

log = logger("train")


def train_if_needed(module, mode: bool = True):
    """module.train(mode), skipped when the module is already in that mode (eval() and train() both recurse)."""
    return module if module.training == mode else type(module).train(module, mode)


def lean_trainer(base):
    """`base` (a Trainer class) without two walks over the whole model on every micro-batch.

    On a small model the GPU waits for the CPU (reports/bench-train.md), so these matter: the stock
    `floating_point_ops` calls `num_parameters()` (a pass over every module) for the logged FLOPs, and
    `training_step` calls `model.train()` (setattr on every module) though the mode has not changed.
    """
    import types

    class LeanTrainer(base):
        _parameters = None

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.model.train = types.MethodType(train_if_needed, self.model)

        def floating_point_ops(self, inputs) -> int:
            main = getattr(self.model, "main_input_name", "input_ids")
            if main not in inputs or not hasattr(self.model, "num_parameters"):
                return 0
            if self._parameters is None:  # counted once: the parameters do not change during training
                self._parameters = self.model.num_parameters(exclude_embeddings=True)
            return 6 * inputs[main].numel() * self._parameters

    return LeanTrainer


def keep_adapter_inputs_in_compute_dtype(model) -> None:
    """Stop peft from copying each adapter's input to fp32 (see LoraSection.upcast_inputs)."""
    for layer in model.modules():
        if hasattr(layer, "cast_input_dtype_enabled"):
            layer.cast_input_dtype_enabled = False


def compile_decoder_layers(model) -> int:
    """torch.compile every decoder layer in place (module names and checkpoints unchanged).

    The layers share one structure, so the graph is compiled once and reused; the LM head and the
    loss stay eager (TRL's fused LM-head kernel does not compile). Returns the number of layers.
    """
    names = set(getattr(getattr(model, "get_base_model", lambda: model)(), "_no_split_modules", None) or ())
    layers = [m for m in model.modules() if type(m).__name__ in names]
    if not layers:
        raise TrainError("training.torch_compile: no decoder layers found (the model names none in _no_split_modules)")
    for layer in layers:
        layer.compile(dynamic=True)  # conversation lengths change every batch
    log(f"torch.compile: {len(layers)} {type(layers[0]).__name__} layers")
    return len(layers)
