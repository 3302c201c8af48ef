"""The trainer's configuration: recipe defaults, preset < YAML < flags, validation."""

from __future__ import annotations

import pytest

from vlprune.errors import ConfigError
from vlprune.train.config import StageConfig, TrainConfig, load_config, set_key, to_yaml


def test_defaults_are_the_reference_recipe():
    cfg = load_config()
    assert cfg.model.llm == "mistralai/Mistral-7B-v0.1"
    assert cfg.model.vision == "openai/clip-vit-large-patch14-336"
    assert cfg.model.projector == "mlp2x_gelu"
    assert (cfg.stage1.epochs, cfg.stage1.lr, cfg.stage1.batch_size) == (1.0, 1e-3, 64)
    assert (cfg.stage2.epochs, cfg.stage2.lr, cfg.stage2.batch_size) == (15.0, 2e-5, 32)
    assert cfg.stage2.weight_decay == 0.0  # Adam without weight decay
    assert cfg.base.epochs == 0  # no base pretraining for pretrained checkpoints
    assert cfg.eval.mode == "likelihood"


def test_preset_then_yaml_then_flags(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text("model:\n  preset: tiny\nstage2:\n  lr: 5e-4\n  epochs: 3\nlora:\n  r: 8\n")
    cfg = load_config(path, {"stage2.epochs": "4", "stage1.batch_size": 16})
    assert cfg.model.preset == "tiny"
    assert cfg.stage2.lr == 5e-4          # YAML over the preset's 2e-4 (and '5e-4' read as a float)
    assert cfg.stage2.epochs == 4.0       # flag over YAML
    assert cfg.stage1.batch_size == 16
    assert cfg.lora.r == 8
    assert cfg.data.max_length == 512     # the preset's own default, untouched


def test_tiny_preset_carries_its_own_learning_rate():
    cfg = load_config(overrides={"model.preset": "tiny"})
    assert (cfg.stage2.lr, cfg.stage2.epochs, cfg.data.answer) == (6e-4, 20.0, "text")
    assert load_config(overrides={"model.preset": "tiny", "stage2.lr": 2e-5}).stage2.lr == 2e-5


@pytest.mark.parametrize("key, value, message", [
    ("stage2.lrr", "1", "unknown config key 'stage2.lrr'"),
    ("stage3.lr", "1", "no section 'stage3'"),
    ("stage2", "1", "is a section"),
    ("stage2.batch_size", "1.5", "stage2.batch_size must be an integer"),
    ("gradient_checkpointing", "maybe", "gradient_checkpointing must be true or false"),
    ("stage2.lr", "-1", "stage2.lr must be positive"),
    ("model.projector", "conv", "model.projector: 'conv' is not one of linear, mlp2x_gelu"),
    ("data.target", "QA", "data.target: 'QA' is not one of A, EA, LEA"),
    ("data.answer", "word", "data.answer: 'word' is not one of letter, text, letter-text"),
    ("model.preset", "huge", "unknown preset 'huge'"),
    ("precision", "fp8", "precision: 'fp8'"),
    ("data.template", "no placeholder", "must contain '{prompt}'"),
])
def test_bad_values_name_the_key(key, value, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("{", r"\{")):
        load_config(overrides={key: value})


def test_micro_batch_larger_than_batch_is_cut_to_it():
    cfg = load_config(overrides={"stage2.micro_batch_size": 64, "stage2.batch_size": 32})
    assert cfg.stage2.accumulation() == 1


def test_yaml_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("stage2: [1, 2]\n")
    with pytest.raises(ConfigError, match="bad.yaml.*'stage2' is a section"):
        load_config(bad)
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("trainer:\n  lr: 1\n")
    with pytest.raises(ConfigError, match="unknown.yaml: unknown config key 'trainer'"):
        load_config(unknown)
    with pytest.raises(ConfigError, match="missing.yaml: config file not found"):
        load_config(tmp_path / "missing.yaml")


def test_set_key_converts_text():
    cfg = TrainConfig()
    set_key(cfg, "lora.target_modules", "q_proj, v_proj")
    set_key(cfg, "eval.limit", "none")
    set_key(cfg, "data.target", "EA")
    assert cfg.lora.target_modules == ["q_proj", "v_proj"]
    assert cfg.eval.limit is None
    assert cfg.data.target == "EA"


def test_accumulation_reaches_the_batch_size():
    stage = StageConfig(batch_size=32, micro_batch_size=4)
    assert stage.accumulation() == 8
    assert stage.accumulation(processes=4) == 2
    assert stage.accumulation(micro_batch_size=5) == 7  # rounded up: never below the batch size


def test_yaml_round_trip(tmp_path):
    cfg = load_config(overrides={"model.preset": "tiny", "lora.r": 4})
    path = tmp_path / "config.yaml"
    path.write_text(to_yaml(cfg))
    assert load_config(path).to_dict() == cfg.to_dict()
