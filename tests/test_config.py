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
