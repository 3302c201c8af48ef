"""Training configuration: nested dataclasses that a preset, a YAML file and flags override.

Precedence, lowest first: the dataclass defaults (the reference recipe for Mistral-7B +
CLIP ViT-L/14-336), the preset's own defaults (``model.preset: tiny``), the YAML file, then
command-line flags / ``--set key=value``. :func:`load_config` applies them in that order and
validates the result, so a typo in a key or a value out of range is one clear error before
any model is built.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vlprune.data.prompts import ANSWER_FORMATS, TARGET_FORMATS
from vlprune.errors import ConfigError
from vlprune.params import check_value, parse_value

PROJECTORS = ("linear", "mlp2x_gelu")
PRECISIONS = ("auto", "fp32", "bf16-mixed", "bf16")
EVAL_MODES = ("likelihood", "generate")
#: What the presets' base pretraining may read (``data.base_text``): never answers or solutions.
BASE_SOURCES = ("lectures", "captions", "problems")
SCHEDULERS = ("cosine", "linear", "constant", "constant_with_warmup")
FEATURE_STRATEGIES = ("default", "full")


@dataclass
class ModelConfig:
    """Which LLaVA model to build.

    Exactly one source is used: ``checkpoint`` (an existing llava-hf model directory), else
    ``preset`` (a random-weight configuration built offline: ``tiny``, ``mid``), else ``llm``
    + ``vision`` (hub ids or local paths of a Mistral LLM and a CLIP vision tower).

    Example:
        >>> ModelConfig(preset="tiny").source()
        'preset tiny'
    """

    preset: str | None = None
    llm: str | None = "mistralai/Mistral-7B-v0.1"
    vision: str | None = "openai/clip-vit-large-patch14-336"
    checkpoint: str | None = None
    projector: str = "mlp2x_gelu"
    vision_feature_layer: int = -2
    vision_feature_select_strategy: str = "default"
    attn_implementation: str = "sdpa"
    #: Presets only: the BPE vocabulary trained on the pool's text.
    vocab_size: int = 4096

    def source(self) -> str:
        if self.checkpoint:
            return f"checkpoint {self.checkpoint}"
        if self.preset:
            return f"preset {self.preset}"
        return f"llm {self.llm} + vision {self.vision}"


@dataclass
class StageConfig:
    """Optimisation settings of one training stage.

    ``batch_size`` is the global batch per optimizer step; it is reached by gradient
    accumulation over micro-batches of ``micro_batch_size`` on each process (a micro-batch
    larger than the batch is cut to it).
    ``max_examples`` caps the stage's data (a seeded random sample); None uses all of it.

    Example:
        >>> StageConfig(epochs=2, lr=1e-3, batch_size=64).accumulation(micro_batch_size=8, processes=2)
        4
    """

    epochs: float = 1.0
    lr: float = 1e-3
    batch_size: int = 64
    micro_batch_size: int = 8
    warmup_ratio: float = 0.03
    scheduler: str = "cosine"
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    max_examples: int | None = None

    def accumulation(self, micro_batch_size: int | None = None, processes: int = 1) -> int:
        """Micro-batches per process per optimizer step (at least 1)."""
        mbs = min(micro_batch_size or self.micro_batch_size, self.batch_size)
        return max(1, -(-self.batch_size // (mbs * processes)))


@dataclass
class LoraSettings:
    """LoRA through peft on the LLM's linear layers; ``r = 0`` means full fine-tuning."""

    r: int = 0
    alpha: int = 256
    dropout: float = 0.05
    target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])


@dataclass
class DataConfig:
    """How problems become token sequences.

    ``template`` wraps the ScienceQA prompt (``{prompt}``); the target follows it and is the
    only part with a loss: ``target`` "A" is ``The answer is X.``, "EA" puts the solution
    before it and "LEA" the lecture and the solution (LLaVA's QCM-LEA). An example longer
    than ``max_length`` tokens is never truncated (that could cut image tokens or the
    answer): ``on_overlong`` skips it with a count, or errors.
    """

    template: str = "USER: {prompt}\nASSISTANT:"
    target: str = "A"
    #: How the response names the option: ``letter`` (``The answer is B.``, LLaVA's), ``text``
    #: (``The answer is trout.``: the model copies the option's words) or ``letter-text``
    #: (``The answer is (B) trout.``). Likelihood evaluation scores each option's answer in
    #: the same format.
    answer: str = "letter"
    #: Augmentation: present every problem's options in a new seeded order each epoch, so
    #: the answer's letter cannot be memorised per question (off in the reference recipe).
    shuffle_choices: bool = False
    max_length: int = 2048
    on_overlong: str = "skip"
    caption_for_missing_images: bool = False
    #: What the presets' base pretraining reads, as language-model text: any of ``lectures``,
    #: ``captions`` (with the image-caption pairs) and ``problems`` (question, context and
    #: options; never answers or solutions). See :mod:`vlprune.train.base`.
    base_text: list[str] = field(default_factory=lambda: ["lectures", "captions"])
    #: Whose text the base pretraining and stage 1 read: ``pool`` (every record of the pool
    #: the subset was selected from, whatever the subset: cached and shared by all subsets)
    #: or ``subset`` (the selected records only: trained again for every subset).
    base_records: str = "pool"
    #: Stage 1 data: a LLaVA-Pretrain JSON file (image + caption conversations). None uses
    #: the image-caption pairs of the subset's pool (``base_records``).
    stage1_data: str | None = None
    stage1_image_folder: str | None = None


@dataclass
class EvalConfig:
    """Evaluation after training and for ``vlprune eval``."""

    mode: str = "likelihood"
    split: str = "test"
    batch_size: int = 16
    max_new_tokens: int = 32
    limit: int | None = None


@dataclass
class TrainConfig:
    """Everything a training run needs besides the subset; saved as the run's ``config.yaml``.

    ``base`` is the cached base pretraining that stands in for pretrained checkpoints when a
    preset starts from random weights (``base.epochs = 0`` turns it off; hub models skip it).

    Example:
        >>> cfg = load_config(overrides={"model.preset": "tiny", "stage2.lr": 5e-4})
        >>> cfg.stage2.lr, cfg.model.preset
        (0.0005, 'tiny')
    """

    model: ModelConfig = field(default_factory=ModelConfig)
    base: StageConfig = field(default_factory=lambda: StageConfig(epochs=0.0))
    stage1: StageConfig = field(default_factory=StageConfig)
    stage2: StageConfig = field(
        default_factory=lambda: StageConfig(epochs=15.0, lr=2e-5, batch_size=32, micro_batch_size=4))
    lora: LoraSettings = field(default_factory=LoraSettings)
    data: DataConfig = field(default_factory=DataConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    seed: int = 0
    precision: str = "auto"
    gradient_checkpointing: bool = False
    #: Checkpoint every N optimizer steps as well as at each epoch end (0: epochs only).
    save_every: int = 0
    skip_stage1: bool = False
    #: A stage-1 projector file to use instead of running (or looking up) stage 1.
    projector_path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def validate(self) -> TrainConfig:
        """Raise :class:`ConfigError` naming the key of the first invalid value."""
        from vlprune.train.presets import PRESETS

        m = self.model
        if m.preset is not None and m.preset not in PRESETS:
            raise ConfigError(f"model.preset: unknown preset {m.preset!r}; presets: {', '.join(PRESETS)}")
        if not (m.checkpoint or m.preset or (m.llm and m.vision)):
            raise ConfigError("give a model: --model PATH, --preset NAME, or both --llm and --vision")
        _choice("model.projector", m.projector, PROJECTORS)
        _choice("model.vision_feature_select_strategy", m.vision_feature_select_strategy, FEATURE_STRATEGIES)
        _choice("precision", self.precision, PRECISIONS)
        _choice("eval.mode", self.eval.mode, EVAL_MODES)
        _choice("data.on_overlong", self.data.on_overlong, ("skip", "error"))
        _choice("data.target", self.data.target, TARGET_FORMATS)
        _choice("data.answer", self.data.answer, ANSWER_FORMATS)
        _choice("data.base_records", self.data.base_records, ("pool", "subset"))
        for source in self.data.base_text:
            _choice("data.base_text", source, BASE_SOURCES)
        if not self.data.base_text:
            raise ConfigError("data.base_text is empty; name what the base pretraining reads "
                              f"({', '.join(BASE_SOURCES)}), or turn it off with base.epochs=0")
        if "{prompt}" not in self.data.template:
            raise ConfigError("data.template must contain '{prompt}'")
        if m.vocab_size < 300:
            raise ConfigError(f"model.vocab_size must be at least 300 (the byte alphabet and specials), "
                              f"got {m.vocab_size}")
        for name in ("base", "stage1", "stage2"):
            stage: StageConfig = getattr(self, name)
            _choice(f"{name}.scheduler", stage.scheduler, SCHEDULERS)
            if stage.epochs < 0:
                raise ConfigError(f"{name}.epochs must be >= 0, got {stage.epochs}")
            if stage.lr <= 0:
                raise ConfigError(f"{name}.lr must be positive, got {stage.lr}")
            if stage.batch_size < 1 or stage.micro_batch_size < 1:
                raise ConfigError(f"{name}.batch_size and {name}.micro_batch_size must be >= 1")
            if not 0 <= stage.warmup_ratio < 1:
                raise ConfigError(f"{name}.warmup_ratio must lie in [0, 1), got {stage.warmup_ratio}")
            if stage.max_examples is not None and stage.max_examples < 1:
                raise ConfigError(f"{name}.max_examples must be >= 1 or null, got {stage.max_examples}")
        if self.lora.r < 0 or self.lora.alpha <= 0:
            raise ConfigError(f"lora.r must be >= 0 and lora.alpha > 0, got r={self.lora.r}, "
                              f"alpha={self.lora.alpha}")
        if self.data.max_length < 16:
            raise ConfigError(f"data.max_length must be at least 16, got {self.data.max_length}")
        if self.save_every < 0:
            raise ConfigError(f"save_every must be >= 0, got {self.save_every}")
        for key, value in (("projector_path", self.projector_path), ("data.stage1_data", self.data.stage1_data)):
            if value and not Path(value).is_file():
                raise ConfigError(f"{value}: {'projector' if key == 'projector_path' else 'stage-1 data'} "
                                  f"file not found ({key})")
        if self.eval.batch_size < 1 or (self.eval.limit is not None and self.eval.limit < 1):
            raise ConfigError("eval.batch_size must be >= 1 and eval.limit >= 1 or null")
        return self


def _choice(key: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{key}: {value!r} is not one of {', '.join(allowed)}")


# -- building a config from layers ------------------------------------------------------------
def load_config(
    path: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> TrainConfig:
    """Defaults, then the preset's defaults, then the YAML file at ``path``, then ``overrides``
    (dotted keys such as ``"stage2.lr"``); validated.

    Example:
        >>> load_config(overrides={"model.preset": "tiny"}).stage2.lr   # the tiny preset's default
        0.0006
    """
    from vlprune.train.presets import PRESETS

    overrides = dict(overrides or {})
    layer = read_yaml(path) if path is not None else {}
    preset = overrides.get("model.preset", (layer.get("model") or {}).get("preset"))
    cfg = TrainConfig()
    if preset is not None:
        if preset not in PRESETS:
            raise ConfigError(f"model.preset: unknown preset {preset!r}; presets: {', '.join(PRESETS)}")
        update(cfg, PRESETS[preset].defaults, where=f"preset {preset}")
        cfg.model.preset = preset
    update(cfg, layer, where=str(path))
    for key, value in overrides.items():
        set_key(cfg, key, value)
    return cfg.validate()


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML mapping from ``path``; a :class:`ConfigError` naming the file otherwise."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of config sections, got {type(data).__name__}")
    return data


def update(obj: Any, values: dict[str, Any], *, where: str, prefix: str = "") -> None:
    """Set nested dataclass fields from a nested dict; unknown keys are an error."""
    names = {f.name for f in dataclasses.fields(obj)}
    for key, value in values.items():
        dotted = f"{prefix}{key}"
        if key not in names:
            raise ConfigError(f"{where}: unknown config key {dotted!r}; known keys here: {', '.join(sorted(names))}")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: {dotted!r} is a section; expected a mapping, got {value!r}")
            update(current, value, where=where, prefix=f"{dotted}.")
        else:
            setattr(obj, key, _coerce(obj, key, value, dotted=dotted, where=where))


def set_key(cfg: TrainConfig, key: str, value: Any) -> None:
    """Set one dotted key (``"stage2.lr"``); string values are converted to the field's type.

    Example:
        >>> cfg = TrainConfig()
        >>> set_key(cfg, "lora.r", "16"); cfg.lora.r
        16
    """
    *sections, name = key.split(".")
    obj: Any = cfg
    for i, section in enumerate(sections):
        if not dataclasses.is_dataclass(obj) or section not in {f.name for f in dataclasses.fields(obj)}:
            raise ConfigError(f"unknown config key {key!r} (no section {'.'.join(sections[: i + 1])!r}); "
                              f"sections: {', '.join(f.name for f in dataclasses.fields(TrainConfig))}")
        obj = getattr(obj, section)
    if not dataclasses.is_dataclass(obj) or name not in {f.name for f in dataclasses.fields(obj)}:
        known = ", ".join(f.name for f in dataclasses.fields(obj)) if dataclasses.is_dataclass(obj) else ""
        raise ConfigError(f"unknown config key {key!r}; known keys here: {known}")
    if dataclasses.is_dataclass(getattr(obj, name)):
        raise ConfigError(f"{key!r} is a section; set one of its keys, e.g. {key}.lr")
    setattr(obj, name, _coerce(obj, name, value, dotted=key, where="option"))


def _coerce(obj: Any, name: str, value: Any, *, dotted: str, where: str) -> Any:
    """``value`` (command-line text, or a YAML value) as the type annotated on the field:
    text through :func:`vlprune.params.parse_value`, other values checked against the
    annotation (an integer is accepted where a number is expected)."""
    kind = typing.get_type_hints(type(obj))[name]
    if isinstance(value, str):
        if value.lower() == "null":
            value = "none"
        try:
            value = parse_value(value, kind, name=dotted)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    elif value is None:
        if check_value(None, kind) is not None:
            raise ConfigError(f"{where}: {dotted} may not be empty")
    elif isinstance(value, int | float) and not isinstance(value, bool) and check_value(value, kind) is not None \
            and check_value(str(value), kind) is None:
        value = str(value)  # a YAML number where text is expected (a model name like 7)
    problem = check_value(value, kind)
    if problem:
        raise ConfigError(f"{where}: {dotted} {problem}, not {value!r}")
    members = typing.get_args(kind) or (kind,)
    if isinstance(value, int) and not isinstance(value, bool) and float in members and int not in members:
        return float(value)
    return list(value) if isinstance(value, tuple) else value


def to_yaml(cfg: TrainConfig) -> str:
    """The config as YAML text (what a run directory's ``config.yaml`` holds)."""
    import yaml

    return yaml.safe_dump(cfg.to_dict(), sort_keys=False)
