"""Building the LLaVA model: transformers' ``LlavaForConditionalGeneration`` with a Mistral
LLM and a CLIP vision tower, from a preset, from hub ids / local paths, or from an existing
llava-hf checkpoint; the projector choice; which parameters each stage trains; LoRA.

Image tokens: the prompt's single ``<image>`` is expanded to as many image-token ids as the
vision tower emits features -- ``(image_size / patch_size) ** 2`` patches, plus the CLS
token when ``vision_feature_select_strategy`` is ``full`` (``default`` drops it, as LLaVA
does). :func:`image_seq_length` computes it from the config; the model checks at every
forward pass that the counts agree.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from transformers import LlavaConfig, LlavaForConditionalGeneration

from vlprune.errors import ConfigError, VlpruneError
from vlprune.hub import hub_models

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

    from vlprune.data.pool import Pool
    from vlprune.train.config import LoraSettings, TrainConfig

log = logging.getLogger("vlprune")

#: The seed of everything shared between runs (preset weights, base pretraining, stage 1):
#: like a downloaded checkpoint, the base a subset is trained from does not vary with the
#: run's seed, so it can be cached and shared.
SHARED_SEED = 0


@dataclass
class ModelBundle:
    """A model with what feeds it: tokenizer, image processor, image-token count, identity.

    ``identity`` names the base weights (preset + tokenizer, hub ids, or checkpoint path);
    cache keys for the base pretraining and stage 1 start from it.
    """

    model: LlavaForConditionalGeneration
    tokenizer: PreTrainedTokenizerBase
    image_processor: Any
    identity: str

    @property
    def image_seq_length(self) -> int:
        return image_seq_length(self.model.config)

    @property
    def image_token_id(self) -> int:
        return int(self.model.config.image_token_id)


def seed_everything(seed: int) -> None:
    """Seed torch's global generators (CPU and CUDA). The trainer's one use of global RNG
    state: weight initialisation, LoRA initialisation and dropout draw from it. Data order
    uses its own seeded ``torch.Generator``."""
    torch.manual_seed(seed)


def image_seq_length(config: LlavaConfig) -> int:
    """Image tokens per image for this LLaVA config.

    Example:
        >>> from transformers import CLIPVisionConfig, LlavaConfig, MistralConfig
        >>> cfg = LlavaConfig(vision_config=CLIPVisionConfig(image_size=336, patch_size=14),
        ...                   text_config=MistralConfig(), vision_feature_select_strategy="default")
        >>> image_seq_length(cfg)
        576
    """
    vision = config.vision_config
    patches = (vision.image_size // vision.patch_size) ** 2
    return patches + (1 if config.vision_feature_select_strategy == "full" else 0)


class LinearProjector(nn.Module):
    """LLaVA-1's projector: one linear map from vision features to LLM embeddings. Same call
    signature as transformers' ``LlavaMultiModalProjector`` (the ``mlp2x_gelu`` projector),
    and its weight named like that one's first layer (``linear_1``).

    Example:
        >>> from transformers import CLIPVisionConfig, MistralConfig
        >>> cfg = LlavaConfig(vision_config=CLIPVisionConfig(hidden_size=32, num_attention_heads=4),
        ...                   text_config=MistralConfig(hidden_size=64, num_attention_heads=4))
        >>> LinearProjector(cfg)(torch.zeros(1, 4, 32)).shape
        torch.Size([1, 4, 64])
    """

    def __init__(self, config: LlavaConfig) -> None:
        super().__init__()
        layers = 1 if isinstance(config.vision_feature_layer, int) else len(config.vision_feature_layer)
        self.linear_1 = nn.Linear(config.vision_config.hidden_size * layers, config.text_config.hidden_size,
                                  bias=config.multimodal_projector_bias)

    def forward(self, image_features: torch.Tensor) -> torch.Tensor:
        return self.linear_1(image_features)


def make_projector(config: LlavaConfig, kind: str):
    """A fresh projector module of ``kind`` (``linear`` or ``mlp2x_gelu``) for ``config``."""
    if kind == "linear":
        return LinearProjector(config)
    if kind == "mlp2x_gelu":
        from transformers.models.llava.modeling_llava import LlavaMultiModalProjector

        return LlavaMultiModalProjector(config)
    raise ConfigError(f"unknown projector {kind!r}; choose linear or mlp2x_gelu")


def projector_kind(model: LlavaForConditionalGeneration) -> str:
    return getattr(model.config, "vlprune_projector", "mlp2x_gelu")


def set_projector(model: LlavaForConditionalGeneration, kind: str) -> None:
    """Give ``model`` a freshly initialised projector of ``kind``; recorded in its config
    (``vlprune_projector``) so that a saved checkpoint loads back with the same module."""
    old = model.model.multi_modal_projector
    param = next(old.parameters())
    with torch.device(param.device if param.device.type != "meta" else "cpu"):
        new = make_projector(model.config, kind)
    model.model.multi_modal_projector = new.to(dtype=param.dtype)
    model.config.vlprune_projector = kind


# -- building --------------------------------------------------------------------------------
def build_model(cfg: TrainConfig, pool: Pool | None = None) -> ModelBundle:
    """The model ``cfg.model`` describes, with random (preset) or pretrained weights.

    A preset needs ``pool``: its tokenizer is trained on the pool's text. The projector is
    freshly initialised (stage 1 trains it), except for a llava-hf checkpoint, whose trained
    projector is kept.

    Example:
        >>> from vlprune.train.config import load_config
        >>> bundle = build_model(load_config(overrides={"model.preset": "tiny"}), pool)  # doctest: +SKIP
        >>> bundle.image_seq_length                                                     # doctest: +SKIP
        16
    """
    m = cfg.model
    if m.checkpoint:
        with hub_models((m.checkpoint, "llava checkpoint", "--model PATH")):
            return _from_checkpoint(cfg)
    if m.preset:
        if pool is None:
            raise ConfigError(f"preset {m.preset!r} trains its tokenizer on the pool's text: pass the pool")
        return _from_preset(cfg, pool)
    # Offline, a hub id fails here at once instead of after a minute of retries.
    with hub_models((m.llm, "LLM", "--llm PATH"), (m.vision, "vision tower", "--vision PATH")):
        return _from_hub(cfg)


def _dtype(cfg: TrainConfig) -> torch.dtype:
    return torch.bfloat16 if cfg.precision == "bf16" else torch.float32


def _from_preset(cfg: TrainConfig, pool: Pool) -> ModelBundle:
    from transformers import CLIPVisionConfig, MistralConfig

    from vlprune.train.presets import PRESETS
    from vlprune.train.tokenizer import preset_tokenizer

    preset = PRESETS[cfg.model.preset]
    tokenizer, tok_key = preset_tokenizer(pool, cfg.model.vocab_size, cfg.data.template)
    text = MistralConfig(vocab_size=len(tokenizer), bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                         **preset.text)
    vision = CLIPVisionConfig(**preset.vision)
    config = _llava_config(cfg, text, vision, tokenizer)
    seed_everything(SHARED_SEED)
    model = LlavaForConditionalGeneration(config)
    set_projector(model, cfg.model.projector)
    model.to(_dtype(cfg))
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    size = preset.vision["image_size"]
    processor = _clip_image_processor(size)
    identity = (f"preset={preset.name}|{preset.text}|{preset.vision}|tokenizer={tok_key}"
                f"|layer={cfg.model.vision_feature_layer}|strategy={cfg.model.vision_feature_select_strategy}"
                f"|dtype={_dtype(cfg)}")
    return ModelBundle(model, tokenizer, processor, identity)


def _llava_config(cfg: TrainConfig, text, vision, tokenizer) -> LlavaConfig:
    from vlprune.data.prompts import IMAGE_TOKEN

    config = LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_index=tokenizer.convert_tokens_to_ids(IMAGE_TOKEN),
        vision_feature_layer=cfg.model.vision_feature_layer,
        vision_feature_select_strategy=cfg.model.vision_feature_select_strategy,
        projector_hidden_act="gelu",
        tie_word_embeddings=bool(getattr(text, "tie_word_embeddings", False)),
    )
    config.image_seq_length = image_seq_length(config)
    config.vlprune_projector = cfg.model.projector
    config._attn_implementation = cfg.model.attn_implementation
    if config.vision_config.num_hidden_layers + 1 <= abs(cfg.model.vision_feature_layer):
        raise ConfigError(f"model.vision_feature_layer {cfg.model.vision_feature_layer} is out of range for a "
                          f"vision tower with {config.vision_config.num_hidden_layers} layers")
    return config


def _clip_image_processor(size: int):
    try:  # transformers >= 5.2x names the PIL implementation explicitly (no torchvision needed)
        from transformers import CLIPImageProcessorPil as Processor
    except ImportError:  # pragma: no cover - older transformers
        from transformers import CLIPImageProcessor as Processor
    return Processor(size={"shortest_edge": size}, crop_size={"height": size, "width": size})


def _load_error(what: str, path: str, exc: Exception) -> ConfigError:
    return ConfigError(f"cannot load the {what} from {path!r}: {str(exc).splitlines()[0] if str(exc) else exc!r} "
                       "(nothing is downloaded when offline: give a local path, or use --preset tiny)")


def _from_hub(cfg: TrainConfig) -> ModelBundle:
    from transformers import (
        AutoConfig,
        AutoImageProcessor,
        AutoModelForCausalLM,
        CLIPVisionConfig,
        CLIPVisionModel,
    )

    from vlprune.train.tokenizer import load_tokenizer

    m = cfg.model
    tokenizer = load_tokenizer(m.llm)
    try:
        text = AutoConfig.from_pretrained(m.llm)
    except (OSError, ValueError) as exc:
        raise _load_error("LLM config", m.llm, exc) from None
    try:
        vision = CLIPVisionConfig.from_pretrained(m.vision)
        processor = AutoImageProcessor.from_pretrained(m.vision)
    except (OSError, ValueError) as exc:
        raise _load_error("vision tower", m.vision, exc) from None
    config = _llava_config(cfg, text, vision, tokenizer)
    dtype = _dtype(cfg)
    # Build the LLaVA shell without allocating weights, then drop the pretrained parts in:
    # a 7B LLM is never initialised randomly only to be overwritten.
    with torch.device("meta"):
        model = LlavaForConditionalGeneration(config)
    try:
        llm = AutoModelForCausalLM.from_pretrained(m.llm, dtype=dtype, attn_implementation=m.attn_implementation)
        tower = CLIPVisionModel.from_pretrained(m.vision, dtype=dtype)
    except (OSError, ValueError) as exc:
        raise _load_error("weights", f"{m.llm} / {m.vision}", exc) from None
    model.model.language_model = llm.model
    model.lm_head = llm.lm_head
    model.model.vision_tower = tower
    seed_everything(SHARED_SEED)
    model.model.multi_modal_projector = make_projector(config, m.projector).to(dtype)
    if len(tokenizer) > model.config.text_config.vocab_size:
        model.resize_token_embeddings(len(tokenizer), pad_to_multiple_of=64)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    identity = (f"hub llm={m.llm}|vision={m.vision}|layer={m.vision_feature_layer}"
                f"|strategy={m.vision_feature_select_strategy}|dtype={dtype}")
    return ModelBundle(model, tokenizer, processor, identity)


def _from_checkpoint(cfg: TrainConfig) -> ModelBundle:
    from transformers import AutoImageProcessor
    from transformers.utils import logging as hf_logging

    from vlprune.train.tokenizer import load_tokenizer

    path = cfg.model.checkpoint
    tokenizer = load_tokenizer(path)
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # a linear projector's checkpoint lacks linear_2: expected
    try:
        model = LlavaForConditionalGeneration.from_pretrained(
            path, dtype=_dtype(cfg), attn_implementation=cfg.model.attn_implementation)
    except (OSError, ValueError) as exc:
        raise _load_error("llava checkpoint", path, exc) from None
    finally:
        hf_logging.set_verbosity(verbosity)
    kind = projector_kind(model)
    if kind == "linear":
        trained = model.model.multi_modal_projector.linear_1.state_dict()
        set_projector(model, "linear")
        model.model.multi_modal_projector.linear_1.load_state_dict(trained)
    if cfg.model.projector != kind:
        log.info("checkpoint %s has a %s projector; model.projector=%s is ignored", path, kind, cfg.model.projector)
    try:
        processor = AutoImageProcessor.from_pretrained(path)
    except (OSError, ValueError):
        processor = _clip_image_processor(model.config.vision_config.image_size)
    if tokenizer.convert_tokens_to_ids("<image>") != model.config.image_token_id:
        raise ConfigError(f"{path}: the tokenizer's <image> id differs from the config's image_token_id "
                          f"({model.config.image_token_id})")
    identity = f"checkpoint={path}|dtype={_dtype(cfg)}"
    return ModelBundle(model, tokenizer, processor, identity)


def set_activation_checkpointing(model: LlavaForConditionalGeneration, enabled: bool) -> None:
    """Turn gradient (activation) checkpointing on or off: each decoder layer's activations are
    recomputed in the backward pass instead of kept. (transformers >= 5.2x names it
    ``activation_checkpointing_*``; older versions ``gradient_checkpointing_*``.)"""
    if hasattr(model, "activation_checkpointing_enable"):
        if enabled:
            model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
        else:
            model.activation_checkpointing_disable()
    elif enabled:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    else:
        model.gradient_checkpointing_disable()


# -- what trains in each stage ---------------------------------------------------------------
def configure_stage(model: LlavaForConditionalGeneration, stage: str, lora: LoraSettings | None = None) -> int:
    """Set ``requires_grad`` for ``stage`` and return the number of trainable parameters.

    - ``base``: everything (the preset's stand-in for pretraining);
    - ``stage1``: the projector only (vision tower and LLM frozen);
    - ``stage2``: projector and LLM -- all LLM weights, or only LoRA adapters when
      ``lora.r > 0`` (call :func:`add_lora` first); the vision tower stays frozen.

    Example:
        >>> configure_stage(model, "stage1")   # doctest: +SKIP
        24704
    """
    inner = model.model
    for p in model.parameters():
        p.requires_grad_(stage == "base")
    if stage == "stage1":
        inner.multi_modal_projector.requires_grad_(True)
    elif stage == "stage2":
        inner.multi_modal_projector.requires_grad_(True)
        if lora is not None and lora.r > 0:
            for name, p in inner.language_model.named_parameters():
                p.requires_grad_("lora_" in name)
        else:
            inner.language_model.requires_grad_(True)
            model.lm_head.requires_grad_(True)
    elif stage != "base":
        raise ConfigError(f"unknown stage {stage!r}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def add_lora(model: LlavaForConditionalGeneration, lora: LoraSettings) -> None:
    """Inject LoRA adapters (peft) into the LLM's linear layers, in place: the model keeps
    its class and parameter names gain ``lora_A`` / ``lora_B`` entries."""
    from peft import LoraConfig, inject_adapter_in_model

    llm = model.model.language_model
    present = {name.rsplit(".", 1)[-1] for name, _ in llm.named_modules()}
    missing = [t for t in lora.target_modules if t not in present]
    if missing:
        raise ConfigError(f"lora.target_modules {missing} are not modules of the LLM "
                          f"({type(llm).__name__}); e.g. q_proj, v_proj")
    config = LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                        target_modules=list(lora.target_modules))
    inject_adapter_in_model(config, llm)


def trainable_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """The trainable parameters by name (detached, on CPU): what checkpoints store."""
    return {name: p.detach().to("cpu", copy=True).contiguous()
            for name, p in model.named_parameters() if p.requires_grad}


def load_state(model: nn.Module, state: dict[str, torch.Tensor], *, what: str) -> None:
    """Copy ``state`` into ``model``'s parameters; every name must exist with its shape."""
    params = dict(model.named_parameters())
    unknown = [k for k in state if k not in params]
    if unknown:
        raise VlpruneError(f"{what} does not fit this model: {len(unknown)} unknown parameters "
                           f"(e.g. {unknown[0]!r}); was it trained with another model or LoRA setting?")
    with torch.no_grad():
        for name, value in state.items():
            target = params[name]
            if target.shape != value.shape:
                raise VlpruneError(f"{what} does not fit this model: {name} has shape {tuple(value.shape)}, "
                                   f"the model's is {tuple(target.shape)}")
            target.copy_(value.to(target.device, target.dtype))


def projector_state(model: LlavaForConditionalGeneration) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True).contiguous()
            for k, v in model.model.multi_modal_projector.state_dict().items()}


def save_projector(model: LlavaForConditionalGeneration, path, *, key: str) -> None:
    """Write the projector's weights (safetensors, atomically) with its kind and cache key."""
    from safetensors.torch import save_file

    from vlprune.io import atomic_path

    with atomic_path(path) as tmp:
        save_file(projector_state(model), str(tmp), metadata={"projector": projector_kind(model), "key": key})


def load_projector(model: LlavaForConditionalGeneration, path) -> None:
    """Load a projector file written by :func:`save_projector` (stage 1's result)."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: projector file not found")
    try:
        with safe_open(str(path), "pt") as f:
            meta = f.metadata() or {}
        state = load_file(str(path))
    except Exception as exc:  # safetensors raises its own error types
        raise ConfigError(f"{path}: not a projector file written by vlprune ({exc})") from None
    kind = meta.get("projector", "mlp2x_gelu")
    if kind != projector_kind(model):
        set_projector(model, kind)
    proj = model.model.multi_modal_projector
    try:
        proj.load_state_dict({k: v.to(next(proj.parameters()).dtype) for k, v in state.items()})
    except RuntimeError as exc:
        raise ConfigError(f"{path}: the projector does not fit this model ({str(exc).splitlines()[0]})") from None
