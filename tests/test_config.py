import pytest

from medtune.config import ConfigError, load_config
from medtune.data.pipeline import DataConfig


def test_yaml_with_overrides(tmp_path):
    cfg_file = tmp_path / "data.yaml"
    cfg_file.write_text("seed: 5\nsplit:\n  test_fraction: 0.2\n")
    cfg = load_config(DataConfig, cfg_file, ["split.train_fraction=0.5", "format.disclaimer=none"])
    assert (cfg.seed, cfg.split.test_fraction, cfg.split.train_fraction, cfg.format.disclaimer) == (5, 0.2, 0.5, "none")


def test_unknown_key_names_the_key_and_the_allowed_keys():
    with pytest.raises(ConfigError) as e:
        load_config(DataConfig, None, ["split.tset_fraction=0.2"])
    assert "unknown key 'split.tset_fraction'" in str(e.value)
    assert "test_fraction" in str(e.value) and "train_fraction" in str(e.value)


def test_bad_value_names_the_key_and_allowed_values():
    with pytest.raises(ConfigError) as e:
        load_config(DataConfig, None, ["format.disclaimer=always"])
    assert "format.disclaimer" in str(e.value) and "'last_turn' or 'none'" in str(e.value)
    with pytest.raises(ConfigError, match="split.train_fraction"):
        load_config(DataConfig, None, ["split.train_fraction=1.5"])


def test_bad_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(DataConfig, tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(DataConfig, bad)
    with pytest.raises(ConfigError, match="key=value"):
        load_config(DataConfig, None, ["seed"])


@pytest.mark.parametrize("override,key", [
    ("training.learning_rate=-0.001", "training.learning_rate"),
    ("training.batch_size=0", "training.batch_size"),
    ("training.grad_accum=0", "training.grad_accum"),
    ("lora.r=0", "lora.r"),
    ("lora.dropout=1.5", "lora.dropout"),
    ("training.warmup_ratio=2", "training.warmup_ratio"),
    ("training.eval_steps=0", "training.eval_steps"),
    ("data.max_length=0", "data.max_length"),
])
def test_training_values_are_bounded_and_the_key_is_named(override, key):
    """Issue 18.4: a negative learning rate passed the check and failed after the model load, naming no key."""
    from medtune.training import TrainConfig

    with pytest.raises(ConfigError) as e:
        load_config(TrainConfig, None, [override])
    assert f"key '{key}'" in str(e.value)


def test_split_fractions_must_leave_rows_for_training():
    with pytest.raises(ConfigError) as e:
        load_config(DataConfig, None, ["split.test_fraction=0.6", "split.validation_fraction=0.5"])
    assert "split.test_fraction (0.6) + split.validation_fraction (0.5)" in str(e.value)
    assert load_config(DataConfig, None, ["split.test_fraction=0.5", "split.validation_fraction=0.4"])
