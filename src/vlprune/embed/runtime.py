"""What the model embedders (minilm, clip, llava) share: their base class
(:class:`ModelEmbedder`: the runtime parameters and their checks, the fingerprint of the
weights), device and precision, batches with a progress bar, the text each record
contributes, and a signature of local model weights.

torch is imported inside the functions that need it, so importing this module is cheap.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import numpy as np

from vlprune.embed.base import Embedder
from vlprune.errors import ConfigError
from vlprune.params import Range

if TYPE_CHECKING:
    from vlprune.data.pool import Pool

DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("auto", "float32", "float16", "bfloat16")
#: When a record's caption is added to its text: ``missing`` -- only when the record has an
#: image whose pixels were not found (the caption stands in for them, as in the loaders),
#: ``always`` -- whenever it has a caption, ``never``.
CAPTION_MODES = ("missing", "always", "never")
#: The runtime parameters every model embedder takes; they never change the vectors beyond
#: float rounding, so they are left out of the fingerprint (the precision is put in instead).
MODEL_RUNTIME_PARAMS = ("batch_size", "device", "dtype", "progress")

#: Annotations of the parameters every model embedder takes (they drive validation and the
#: command line's conversions, see :mod:`vlprune.params`).
CaptionMode = Literal["missing", "always", "never"]
DType = Literal["auto", "float32", "float16", "bfloat16"]
BatchSize = Annotated[int, Range(1)]


def resolve_device(device: str = "auto") -> str:
    """``auto`` -> ``cuda`` when torch sees a GPU, else ``cpu``; ``cuda``/``cuda:N`` checked.

    Example:
        >>> resolve_device("cpu")
        'cpu'
    """
    if not isinstance(device, str) or not (device in DEVICES or device.startswith("cuda:")):
        raise ConfigError(f"device must be one of {', '.join(DEVICES)} (or cuda:N), not {device!r}")
    if device == "cpu":
        return device
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} was asked for but torch sees no CUDA GPU; use --device cpu")
    return device


def resolve_dtype(dtype: str, device: str) -> str:
    """``auto`` -> ``float16`` on a GPU, ``float32`` on the CPU; other names checked.

    Example:
        >>> resolve_dtype("auto", "cpu"), resolve_dtype("auto", "cuda")
        ('float32', 'float16')
    """
    if dtype not in DTYPES:
        raise ConfigError(f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
    if dtype == "auto":
        return "float16" if device.startswith("cuda") else "float32"
    return dtype


class ModelEmbedder(Embedder):
    """Base of the embedders that run a neural model (minilm, clip, llava).

    Subclasses take, besides their own parameters, ``model`` (hub id or local folder),
    ``caption`` (:data:`CaptionMode`) and the runtime parameters ``batch_size``, ``device``
    (``auto``, ``cpu``, ``cuda`` or ``cuda:N``), ``dtype`` (``auto``: float16 on a GPU) and
    ``progress``, which change how fast the vectors come, not what they are: they stay out
    of the fingerprint, which records the weights' signature and the resulting precision.
    """

    rowwise = True
    runtime_params = MODEL_RUNTIME_PARAMS
    #: How to give the model when it is required and missing (None: a default exists).
    model_hint: ClassVar[str | None] = None

    def model_path(self) -> str:
        """The model folder or hub id actually loaded."""
        return str(self.model)

    def _validate(self) -> None:
        if self.model_hint is not None and not self.model:
            raise ConfigError(f"the {self.name} embedder needs a model: {self.model_hint}")
        fields = getattr(self, "fields", ("question",))
        if isinstance(fields, str) or not fields:
            raise ConfigError(f"{self.name}: fields must be a list of record fields, not {fields!r}")
        # Resolving the device here refuses cuda on a machine without one before any data
        # is read or embedded.
        resolve_device(self.device)

    def fingerprint_extras(self) -> dict[str, Any]:
        self.check()
        return {"weights": model_signature(self.model_path()), "precision": precision(self)}

    def device_and_dtype(self) -> tuple[str, str]:
        """The resolved device and float type name this embedder will compute in."""
        device = resolve_device(self.device)
        return device, resolve_dtype(self.dtype, device)


def precision(embedder: Any) -> str:
    """The float type a model embedder will compute in (part of its fingerprint)."""
    return resolve_dtype(embedder.dtype, resolve_device(embedder.device))


def show_progress(progress: bool | None) -> bool:
    """None (the default) shows a progress bar when stderr is a terminal."""
    return sys.stderr.isatty() if progress is None else bool(progress)


def batches(n: int, batch_size: int, *, desc: str, progress: bool | None) -> Iterator[slice]:
    """Slices of ``range(n)`` of ``batch_size`` records, with a tqdm bar counting records.

    Example:
        >>> [(s.start, s.stop) for s in batches(5, 2, desc="demo", progress=False)]
        [(0, 2), (2, 4), (4, 5)]
    """
    from tqdm.auto import tqdm

    with tqdm(total=n, desc=desc, unit="rec", disable=not show_progress(progress), file=sys.stderr) as bar:
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            yield slice(start, stop)
            bar.update(stop - start)


def caption_mask(pool: Pool, mode: str) -> np.ndarray:
    """Which records get their caption as text under ``mode`` (see :data:`CAPTION_MODES`)."""
    has_caption = (pool.table["caption"] != "").to_numpy()
    if mode == "always":
        return has_caption
    if mode == "missing":
        return has_caption & pool.has_image & ~pool.image_available
    return np.zeros(len(pool), dtype=bool)


def record_texts(pool: Pool, fields: Sequence[str], caption: str) -> list[str]:
    """One text per record: the fields joined, with ``Image: {caption}`` in front where
    :func:`caption_mask` says so -- where the image would come in the prompt.

    Example:
        >>> from vlprune import load_pool
        >>> record_texts(load_pool("synthetic", size="tiny"), ["question"], "never")[0] != ""
        True
    """
    missing = [f for f in fields if f not in pool.table.columns]
    if missing or not fields:
        raise ConfigError(f"fields must name record fields; unknown: {', '.join(missing) or '(none given)'}")
    texts = pool.texts(tuple(fields))
    captions = pool.table["caption"].tolist()
    for pos in np.flatnonzero(caption_mask(pool, caption)):
        texts[pos] = f"Image: {captions[pos]}\n{texts[pos]}"
    return [t or "(empty)" for t in texts]


def model_signature(model: str) -> str:
    """What identifies a model's weights, for the fingerprint: for a local folder a hash of
    its config files and of each weight file's size and sampled bytes (so retrained weights
    at the same path miss the cache, and the same files on another machine match); for a
    hub id the id itself.

    Example:
        >>> model_signature("openai/clip-vit-base-patch32")
        'hub:openai/clip-vit-base-patch32'
    """
    path = Path(model)
    if not path.is_dir():
        return f"hub:{model}"
    h = hashlib.sha256()
    sample = 1 << 20
    for file in sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")):
        rel = file.relative_to(path).as_posix()
        size = file.stat().st_size
        h.update(f"{rel}\0{size}\0".encode())
        if file.suffix in (".json", ".txt", ".model") and size < (8 << 20):
            h.update(file.read_bytes())
        elif file.suffix in (".safetensors", ".bin", ".pt", ".pth"):
            with file.open("rb") as f:
                for offset in (0, max(0, size // 2 - sample // 2), max(0, size - sample)):
                    f.seek(offset)
                    h.update(f.read(sample))
    return "sha256:" + h.hexdigest()[:32]


def load_failed(kind: str, model: str, exc: BaseException) -> ConfigError:
    """The one-line error for a model that would not load (missing folder, no network...);
    one of vlprune's own errors (the hub check's) is kept as it is."""
    if isinstance(exc, ConfigError):
        return exc
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    where = "folder" if Path(model).exists() else "hub id (no local folder of that name)"
    return ConfigError(f"cannot load {kind} model {model!r} ({where}): {first}")


@contextlib.contextmanager
def quiet_logger(name: str, level: int = logging.WARNING) -> Iterator[None]:
    """Raise logger ``name`` to ``level`` for the block (a library's chatty INFO lines)."""
    logger = logging.getLogger(name)
    old = logger.level
    logger.setLevel(max(level, old))
    try:
        yield
    finally:
        logger.setLevel(old)


@contextlib.contextmanager
def quiet_loading(logger_name: str) -> Iterator[None]:
    """Load weights without transformers' per-tensor "Loading weights" bar (noise for a
    small model, and stray lines in a log) and without the library's INFO chatter."""
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        with quiet_logger(logger_name):
            yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()
