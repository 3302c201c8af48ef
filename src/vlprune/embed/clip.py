"""CLIP image and text embeddings (transformers ``CLIPModel``), joined into one vector."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from vlprune.embed import runtime
from vlprune.embed.base import register_embedder
from vlprune.hub import hub_models, require_models
from vlprune.numeric import l2_normalise

JOINS = ("concat", "average")


def _pooled(output: Any):
    # transformers < 5 returns the projected features as a tensor; 5.x returns a
    # BaseModelOutputWithPooling whose pooler_output holds them.
    return output if hasattr(output, "shape") else output.pooler_output


@register_embedder("clip")
class CLIPEmbedder(runtime.ModelEmbedder):
    """CLIP's text embedding of each record's text and image embedding of its pixels, each
    L2-normalised, joined by ``join``:

    - ``concat`` (default): ``[text, image]``, 2 x the projection size. A record without
      pixels (a text-only problem, or an image not found on disk) gets an all-zero image
      half, so its image half sits at distance 1 from every picture's;
    - ``average``: the mean of the parts the record has, L2-normalised: a record without
      pixels is its text embedding alone.

    With ``caption="missing"`` (the default) a record whose image is set but whose pixels
    are missing gets ``Image: {caption}`` in front of its text. CLIP reads at most 77
    tokens, so long hints are cut.

    Args:
        model: hub id or local folder of a ``CLIPModel`` with its tokenizer and image
            processor (``clip:PATH``). Hub ids need the Hugging Face cache or a network.
        fields: record fields joined into the text.
        join: ``concat`` or ``average``.
        caption: ``missing``, ``always`` or ``never``: when the caption joins the text.
        batch_size, device, dtype, progress: runtime options (see :class:`MiniLMEmbedder`).

    Example:
        >>> import tempfile
        >>> from vlprune import load_pool
        >>> from vlprune.embed.tiny import make_tiny_clip
        >>> path = make_tiny_clip(tempfile.mkdtemp())
        >>> CLIPEmbedder(model=str(path)).embed(load_pool("synthetic", size="tiny")).shape
        (200, 32)
    """

    version = 1
    model_hint = "--embedder clip --model HUB_ID_OR_FOLDER"

    def __init__(
        self,
        model: str = "openai/clip-vit-base-patch32",
        fields: Sequence[str] = ("question", "hint", "choices"),
        join: Literal["concat", "average"] = "concat",
        caption: runtime.CaptionMode = "missing",
        batch_size: runtime.BatchSize = 32,
        device: str = "auto",
        dtype: runtime.DType = "auto",
        progress: bool | None = None,
    ) -> None:
        self.model = model
        self.fields = fields
        self.join = join
        self.caption = caption
        self.batch_size = batch_size
        self.device = device
        self.dtype = dtype
        self.progress = progress

    def load(self):
        """(model, tokenizer, image processor, device, torch dtype), the model in eval mode."""
        self.check()
        require_models((str(self.model), "CLIP model", "--model PATH"))  # before the slow imports
        import torch
        from transformers import AutoImageProcessor, AutoTokenizer, CLIPModel

        device, dtype_name = self.device_and_dtype()
        dtype = getattr(torch, dtype_name)
        path = str(self.model)
        try:
            with runtime.quiet_loading("transformers"), hub_models((path, "CLIP model", "--model PATH")):
                tokenizer = AutoTokenizer.from_pretrained(path)
                image_processor = AutoImageProcessor.from_pretrained(path)
                model = CLIPModel.from_pretrained(path, dtype=dtype)
        except (OSError, ValueError) as exc:
            raise runtime.load_failed("CLIP", path, exc) from None
        return model.to(device).eval(), tokenizer, image_processor, device, dtype

    def _embed(self, pool):
        import torch

        model, tokenizer, image_processor, device, dtype = self.load()
        texts = runtime.record_texts(pool, self.fields, self.caption)
        have = pool.image_available
        max_length = min(tokenizer.model_max_length, model.config.text_config.max_position_embeddings)
        dim = model.config.projection_dim
        text = np.zeros((len(pool), dim), dtype=np.float32)
        image = np.zeros((len(pool), dim), dtype=np.float32)
        with torch.inference_mode():
            for sl in runtime.batches(len(pool), self.batch_size, desc="clip", progress=self.progress):
                enc = tokenizer(texts[sl], padding=True, truncation=True, max_length=max_length,
                                return_tensors="pt")
                out = model.get_text_features(input_ids=enc["input_ids"].to(device),
                                              attention_mask=enc["attention_mask"].to(device))
                text[sl] = _pooled(out).float().cpu().numpy()
                rows = [i for i in range(sl.start, sl.stop) if have[i]]
                if rows:
                    pixels = image_processor(images=[pool.image(i) for i in rows], return_tensors="pt")
                    out = model.get_image_features(pixel_values=pixels["pixel_values"].to(device, dtype))
                    image[rows] = _pooled(out).float().cpu().numpy()
        text, image = l2_normalise(text), l2_normalise(image)
        if self.join == "concat":
            return np.concatenate([text, image], axis=1)
        both = l2_normalise((text + image) / 2)
        return np.where(have[:, None], both, text)
