"""Trainer callbacks of a training run: live metrics, throughput, profiling, early stop, the initial evaluation.

Each is a plain `TrainerCallback` (medtune.guards holds the one that stops a diverging run).
"""

from __future__ import annotations

import gzip
import json
import shutil
import time
from pathlib import Path

import torch
from transformers import TrainerCallback

from ..stage import logger

log = logger("train")


def synced_clock() -> float:
    """time.perf_counter() once the GPU has finished the work queued so far (so timings include it)."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter()


class StopAfter(TrainerCallback):
    """Stop after N steps with a checkpoint, so a later run can resume."""

    def __init__(self, steps: int):
        self.steps = steps

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= self.steps:
            control.should_save = True
            control.should_training_stop = True


class TokensAtStart(TrainerCallback):
    """The tokens already seen when training (re)starts."""

    def __init__(self):
        self.at_start = 0

    def on_train_begin(self, args, state, control, **kwargs):
        self.at_start = int(state.num_input_tokens_seen or 0)


class Throughput(TrainerCallback):
    """Tokens/s of the optimizer steps alone (evaluation, checkpoints and warm-up excluded).

    Each step is timed between CUDA synchronisations, so the clock sees the GPU work of that step; the
    tokens are the real (non-padding) ones the trainer counts.
    """

    def __init__(self, skip_steps: int):
        self.skip_steps = skip_steps
        self.seconds, self.tokens, self.steps = 0.0, 0, 0
        self._t0 = self._tokens0 = None

    def on_step_begin(self, args, state, control, **kwargs):
        self._t0, self._tokens0 = synced_clock(), int(state.num_input_tokens_seen or 0)

    def on_step_end(self, args, state, control, **kwargs):
        if self._t0 is None:
            return
        elapsed = synced_clock() - self._t0
        if state.global_step > self.skip_steps:
            self.seconds += elapsed
            self.tokens += int(state.num_input_tokens_seen or 0) - self._tokens0
            self.steps += 1
        self._t0 = None

    def summary(self) -> dict:
        return {"measured_steps": self.steps, "measured_tokens": self.tokens,
                "measured_seconds": round(self.seconds, 3),
                "step_tokens_per_s": round(self.tokens / self.seconds, 1) if self.seconds else None}


class Profile(TrainerCallback):
    """torch.profiler over optimizer steps first..last (where the time of a step goes) -> <work>/profile.txt."""

    def __init__(self, first: int, last: int, work: Path):
        self.first, self.last, self.work = first, last, work
        self.activities = [torch.profiler.ProfilerActivity.CPU]
        if torch.cuda.is_available():
            self.activities.append(torch.profiler.ProfilerActivity.CUDA)
        self.profiler, self.started = None, 0.0

    def on_step_begin(self, args, state, control, **kwargs):
        if state.global_step + 1 == self.first:  # the step about to run is step `first`
            self.started = synced_clock()
            self.profiler = torch.profiler.profile(activities=self.activities)
            self.profiler.__enter__()

    def on_step_end(self, args, state, control, **kwargs):
        if self.profiler is None or state.global_step < self.last:
            return
        first, last, work = self.first, self.last, self.work
        wall = synced_clock() - self.started
        self.profiler.__exit__(None, None, None)
        table = self.profiler.key_averages()
        busy = sum(e.self_device_time_total for e in table if e.device_type != torch.autograd.DeviceType.CPU)
        steps = last - first + 1
        head = f"steps {first}-{last}: {wall / steps * 1e3:.1f} ms per step (profiled)"
        if torch.cuda.is_available():
            head += f", GPU kernels busy {busy / 1e3 / steps:.1f} ms per step"
        head += "\n\n"
        sort_gpu = "self_device_time_total" if torch.cuda.is_available() else "self_cpu_time_total"
        (work / "profile.txt").write_text(
            head + table.table(sort_by=sort_gpu, row_limit=30, max_name_column_width=60) + "\n"
            + table.table(sort_by="self_cpu_time_total", row_limit=30, max_name_column_width=60),
            encoding="utf-8")
        trace = work / "profile_trace.json"
        self.profiler.export_chrome_trace(str(trace))
        with open(trace, "rb") as src, gzip.open(f"{trace}.gz", "wb") as dst:
            shutil.copyfileobj(src, dst)
        trace.unlink()
        log(f"profile of steps {first}-{last}: {work / 'profile.txt'}")
        self.profiler = None


class EvaluateAtTrainBegin(TrainerCallback):
    """The initial evaluation of a run with several processes, once training has wrapped the model.

    trainer.evaluate() before trainer.train() prepares the model for inference only, and accelerate then
    takes it as prepared: training skips the DDP wrapper, so each process trains its own copy on its own
    batches (measured: different gradients per process), and FSDP2 refuses the evaluation outright
    (huggingface/transformers#39961). Evaluating here, after the wrap, avoids both; the entry the
    evaluation adds to the log history is removed, so the logs match those of a single process.
    """

    def __init__(self, evaluate):
        self.evaluate = evaluate

    def on_train_begin(self, args, state, control, **kwargs):
        entries = len(state.log_history)
        self.evaluate()
        del state.log_history[entries:]


class LiveMetrics(TrainerCallback):
    """Append every log line to metrics.live.jsonl, so a run can be watched."""

    def __init__(self, path: Path):
        self.path = path

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero:
            return
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"step": state.global_step, **(logs or {})}) + "\n")
