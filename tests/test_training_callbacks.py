"""The training callbacks as plain TrainerCallback classes (issue 15), driven with the Trainer's own state objects."""

from __future__ import annotations

import json
from pathlib import Path

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from medtune.training.callbacks import (EvaluateAtTrainBegin, LiveMetrics, StopAfter, Throughput,
                                        TokensAtStart)

STAGES = Path(__file__).resolve().parents[1] / "stages"


def test_stop_after_saves_and_stops_at_its_step(tmp_path):
    args, state, control = TrainingArguments(output_dir=str(tmp_path), report_to=[]), TrainerState(), TrainerControl()
    stop = StopAfter(3)
    assert isinstance(stop, TrainerCallback)
    state.global_step = 2
    stop.on_step_end(args, state, control)
    assert not control.should_training_stop and not control.should_save
    state.global_step = 3
    stop.on_step_end(args, state, control)
    assert control.should_training_stop and control.should_save


def test_throughput_leaves_out_the_warm_up_steps_and_each_instance_counts_alone(tmp_path):
    args, state, control = TrainingArguments(output_dir=str(tmp_path), report_to=[]), TrainerState(), TrainerControl()
    meter, other = Throughput(skip_steps=1), Throughput(skip_steps=0)
    state.num_input_tokens_seen = 0
    for step in (1, 2, 3):
        meter.on_step_begin(args, state, control)
        state.global_step, state.num_input_tokens_seen = step, state.num_input_tokens_seen + 100
        meter.on_step_end(args, state, control)
    summary = meter.summary()
    assert summary["measured_steps"] == 2 and summary["measured_tokens"] == 200
    assert summary["measured_seconds"] >= 0
    assert other.summary()["measured_steps"] == 0  # no state shared between instances


def test_tokens_at_start_live_metrics_and_the_initial_evaluation(tmp_path):
    args, state, control = TrainingArguments(output_dir=str(tmp_path), report_to=[]), TrainerState(), TrainerControl()
    state.num_input_tokens_seen, state.global_step = 1234, 5
    tokens = TokensAtStart()
    tokens.on_train_begin(args, state, control)
    assert tokens.at_start == 1234

    live = tmp_path / "metrics.live.jsonl"
    LiveMetrics(live).on_log(args, state, control, logs={"loss": 1.5})
    assert [json.loads(line) for line in live.read_text().splitlines()] == [{"step": 5, "loss": 1.5}]

    calls = []
    state.log_history = [{"loss": 2.0}]
    EvaluateAtTrainBegin(lambda: (calls.append(1), state.log_history.append({"eval_loss": 1.0})))\
        .on_train_begin(args, state, control)
    assert calls == [1] and state.log_history == [{"loss": 2.0}]  # evaluated, its log entry removed


def test_training_modules_stay_small():
    """Issue 15: the training stage is split along its seams, no module over about 300 lines."""
    modules = [*sorted((STAGES / "medtune" / "training").glob("*.py")), STAGES / "medtune" / "labels.py"]
    assert len(modules) > 2
    sizes = {p.name: len(p.read_text().splitlines()) for p in modules}
    assert max(sizes.values()) <= 300, sizes
