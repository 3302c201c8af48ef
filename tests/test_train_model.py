"""Building the LLaVA model: image-token count, projectors, hub-style local paths, llava-hf
checkpoints, and which parameters each stage trains."""

from __future__ import annotations

import pytest
import torch

from train_utils import micro, micro_overrides, toy_data  # noqa: F401  (fixtures)
from vlprune import load_pool
from vlprune.errors import ConfigError
from vlprune.train.config import load_config
from vlprune.train.data import Encoder
from vlprune.train.model import (
    LinearProjector,
    add_lora,
    build_model,
    configure_stage,
    image_seq_length,
    load_projector,
    save_projector,
    set_projector,
)


def _pool(toy_data):  # noqa: F811
    return load_pool("scienceqa", str(toy_data / "data"), split="train")


def _vision_feature_count(model, pixel_values) -> int:
    """The number of image features the vision tower + projector emit per image."""
    out = model.model.get_image_features(pixel_values=pixel_values,
                                         vision_feature_layer=model.config.vision_feature_layer,
                                         vision_feature_select_strategy=model.config.vision_feature_select_strategy)
    features = getattr(out, "pooler_output", out)  # transformers >= 5.2x returns an output object
    return int(features[0].shape[0])


@pytest.mark.parametrize("strategy, expected", [("default", 4), ("full", 5)])
def test_prompt_image_tokens_match_the_vision_tower(micro, toy_data, strategy, expected):  # noqa: F811
    pool = _pool(toy_data)
    cfg = load_config(overrides=micro_overrides(**{"model.vision_feature_select_strategy": strategy}))
    bundle = build_model(cfg, pool)
    model = bundle.model
    # 16 px images in 8 px patches: 4 patches; the CLS token only with the "full" strategy.
    assert bundle.image_seq_length == image_seq_length(model.config) == expected
    pixels = torch.zeros(1, 3, 16, 16)
    assert _vision_feature_count(model, pixels) == expected
    enc = Encoder(bundle.tokenizer, image_token_id=bundle.image_token_id,
                  image_seq_length=bundle.image_seq_length, template=cfg.data.template)
    ids = enc.prompt_ids("<image>\nWhich colour is the square?")
    assert ids.count(bundle.image_token_id) == expected
    # The model itself checks that the counts agree: a forward pass must go through.
    out = model(input_ids=torch.tensor([ids]), pixel_values=pixels)
    assert out.logits.shape[:2] == (1, len(ids))


def test_text_model_is_mistral_with_gqa_and_sliding_window(micro, toy_data):  # noqa: F811
    bundle = build_model(load_config(overrides=micro_overrides()), _pool(toy_data))
    text = bundle.model.config.text_config
    assert text.model_type == "mistral"
    assert text.num_key_value_heads < text.num_attention_heads
    assert text.sliding_window == 128
    assert bundle.model.config.vision_config.model_type == "clip_vision_model"
    assert bundle.tokenizer.convert_tokens_to_ids("<image>") == bundle.image_token_id


def test_building_is_deterministic(micro, toy_data):  # noqa: F811
    cfg = load_config(overrides=micro_overrides())
    a = build_model(cfg, _pool(toy_data)).model.state_dict()
    b = build_model(cfg, _pool(toy_data)).model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_linear_projector_saves_and_loads_as_linear(micro, toy_data, tmp_path):  # noqa: F811
    cfg = load_config(overrides=micro_overrides(**{"model.projector": "linear"}))
    bundle = build_model(cfg, _pool(toy_data))
    proj = bundle.model.model.multi_modal_projector
    assert isinstance(proj, LinearProjector)
    assert [n for n, _ in proj.named_parameters()] == ["linear_1.weight", "linear_1.bias"]
    # A llava-hf checkpoint written from it loads back with a linear projector and equal outputs.
    bundle.model.save_pretrained(tmp_path / "ckpt")
    bundle.tokenizer.save_pretrained(tmp_path / "ckpt")
    bundle.image_processor.save_pretrained(tmp_path / "ckpt")
    again = build_model(load_config(overrides={"model.checkpoint": str(tmp_path / "ckpt")}))
    assert isinstance(again.model.model.multi_modal_projector, LinearProjector)
    x = torch.randn(1, 4, 32)
    assert torch.allclose(again.model.model.multi_modal_projector(x), proj(x))
    # ... and a projector file keeps its kind too.
    save_projector(bundle.model, tmp_path / "p.safetensors", key="k")
    fresh = build_model(load_config(overrides=micro_overrides()), _pool(toy_data))
    assert not isinstance(fresh.model.model.multi_modal_projector, LinearProjector)
    load_projector(fresh.model, tmp_path / "p.safetensors")
    assert torch.allclose(fresh.model.model.multi_modal_projector(x), proj(x))


def test_projector_file_errors(micro, toy_data, tmp_path):  # noqa: F811
    bundle = build_model(load_config(overrides=micro_overrides()), _pool(toy_data))
    with pytest.raises(ConfigError, match="projector file not found"):
        load_projector(bundle.model, tmp_path / "none.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not a file")
    with pytest.raises(ConfigError, match="not a projector file"):
        load_projector(bundle.model, tmp_path / "junk.safetensors")


def test_build_from_local_llm_and_vision_paths(micro, tmp_path):  # noqa: F811
    """The hub path (--llm / --vision) with local folders: pretrained weights are kept."""
    from transformers import CLIPVisionConfig, CLIPVisionModel, MistralConfig, MistralForCausalLM

    from vlprune.train.presets import PRESETS
    from vlprune.train.tokenizer import train_bpe_tokenizer

    tok = train_bpe_tokenizer(["The answer is A. Which colour is the square?"] * 10, vocab_size=300)
    torch.manual_seed(1)
    llm = MistralForCausalLM(MistralConfig(vocab_size=len(tok), **PRESETS["micro"].text))
    llm.save_pretrained(tmp_path / "llm")
    tok.save_pretrained(tmp_path / "llm")
    tower = CLIPVisionModel(CLIPVisionConfig(**PRESETS["micro"].vision))
    tower.save_pretrained(tmp_path / "vision")
    from vlprune.train.model import _clip_image_processor

    _clip_image_processor(16).save_pretrained(tmp_path / "vision")
    cfg = load_config(overrides={"model.llm": str(tmp_path / "llm"), "model.vision": str(tmp_path / "vision"),
                                 "model.vision_feature_layer": -1})
    bundle = build_model(cfg)
    model = bundle.model
    assert torch.equal(model.model.language_model.layers[0].self_attn.q_proj.weight,
                       llm.model.layers[0].self_attn.q_proj.weight)
    tower_weights = dict(tower.named_parameters())
    assert all(torch.equal(p, tower_weights[n]) for n, p in model.model.vision_tower.named_parameters())
    assert bundle.image_seq_length == 4
    assert not any(p.is_meta for p in model.parameters())
    ids = [tok.bos_token_id] + [bundle.image_token_id] * 4 + [7, 8]
    model(input_ids=torch.tensor([ids]), pixel_values=torch.zeros(1, 3, 16, 16))


def test_unreachable_hub_model_is_a_clear_error(micro, tmp_path):  # noqa: F811
    cfg = load_config(overrides={"model.llm": str(tmp_path / "no-such-llm")})
    with pytest.raises(ConfigError, match="cannot load LLM .*no-such-llm.*no such folder"):
        build_model(cfg)


def _trainable(model) -> set[str]:
    return {n.split(".")[1] if n.startswith("model.") else n.split(".")[0]
            for n, p in model.named_parameters() if p.requires_grad}


def test_stage1_trains_only_the_projector(micro, toy_data):  # noqa: F811
    model = build_model(load_config(overrides=micro_overrides()), _pool(toy_data)).model
    n = configure_stage(model, "stage1")
    assert _trainable(model) == {"multi_modal_projector"}
    assert n == sum(p.numel() for p in model.model.multi_modal_projector.parameters())


def test_stage2_full_trains_llm_and_projector_not_vision(micro, toy_data):  # noqa: F811
    model = build_model(load_config(overrides=micro_overrides()), _pool(toy_data)).model
    configure_stage(model, "stage2")
    assert _trainable(model) == {"multi_modal_projector", "language_model"}  # lm_head is tied to the embeddings
    assert not any(p.requires_grad for p in model.model.vision_tower.parameters())


def test_stage2_lora_trains_adapters_and_projector(micro, toy_data):  # noqa: F811
    cfg = load_config(overrides=micro_overrides(**{"lora.r": 4, "lora.alpha": 8}))
    model = build_model(cfg, _pool(toy_data)).model
    add_lora(model, cfg.lora)
    configure_stage(model, "stage2", cfg.lora)
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    assert names and all("lora_" in n or "multi_modal_projector" in n for n in names)
    assert any("q_proj.lora_A" in n for n in names) and any("down_proj.lora_B" in n for n in names)
    assert not any(p.requires_grad for p in model.model.vision_tower.parameters())
    assert not model.model.language_model.embed_tokens.weight.requires_grad


def test_lora_target_typo_is_a_config_error(micro, toy_data):  # noqa: F811
    cfg = load_config(overrides=micro_overrides(**{"lora.r": 4, "lora.target_modules": "q_prj"}))
    model = build_model(cfg, _pool(toy_data)).model
    with pytest.raises(ConfigError, match=r"lora.target_modules \['q_prj'\]"):
        add_lora(model, cfg.lora)


def test_set_projector_changes_kind(micro, toy_data):  # noqa: F811
    model = build_model(load_config(overrides=micro_overrides()), _pool(toy_data)).model
    set_projector(model, "linear")
    assert model.config.vlprune_projector == "linear"
    with pytest.raises(ConfigError, match="unknown projector"):
        set_projector(model, "conv")
