"""LLaVA embeddings: the multimodal model itself reads each problem, prompt and image."""

from __future__ import annotations

import numpy as np

from vlprune.data.prompts import IMAGE_TOKEN, format_prompt
from vlprune.embed import runtime
from vlprune.embed.base import register_embedder
from vlprune.errors import ConfigError
from vlprune.hub import hub_models, require_models
from vlprune.numeric import l2_normalise


@register_embedder("llava")
class LlavaEmbedder(runtime.ModelEmbedder):
    """Mean-pooled last hidden states of a ``LlavaForConditionalGeneration`` over the full
    ScienceQA prompt (:func:`vlprune.data.prompts.format_prompt`) with its image, then
    L2-normalised: the vector is the language model's reading of the problem, image tokens
    included. Dimension: the language model's hidden size.

    - A problem with pixels: the prompt begins with the image token, which the processor
      expands into the image's patch tokens; they are pooled with the text tokens.
    - A text-only problem: the prompt without an image token, as the trainer sees it.
    - A problem whose image is set but whose pixels are missing: with ``caption="missing"``
      (default) the prompt begins with ``Image: {caption}`` instead of the image token.

    Prompts are right-padded (a causal model's real tokens never see the padding) and never
    truncated, since cutting image tokens would break the model's input.

    Args:
        model: hub id or local folder of a LLaVA checkpoint with its processor (a trained
            ``vlprune`` model, or e.g. ``llava-hf/llava-1.5-7b-hf``); required (``llava:PATH``).
        caption: ``missing``, ``always`` or ``never``: when ``Image: {caption}`` is added.
        batch_size, device, dtype, progress: runtime options (see :class:`MiniLMEmbedder`).

    Example:
        >>> import tempfile
        >>> from vlprune import load_pool
        >>> from vlprune.embed.tiny import make_tiny_llava
        >>> path = make_tiny_llava(tempfile.mkdtemp())
        >>> LlavaEmbedder(model=str(path)).embed(load_pool("synthetic", size="tiny")).shape
        (200, 32)
    """

    version = 1
    model_hint = ("--embedder llava --model PATH (a LlavaForConditionalGeneration folder with its "
                  "processor, or a hub id)")

    def __init__(
        self,
        model: str | None = None,
        caption: runtime.CaptionMode = "missing",
        batch_size: runtime.BatchSize = 8,
        device: str = "auto",
        dtype: runtime.DType = "auto",
        progress: bool | None = None,
    ) -> None:
        self.model = model
        self.caption = caption
        self.batch_size = batch_size
        self.device = device
        self.dtype = dtype
        self.progress = progress

    def load(self):
        """(model, processor, device, torch dtype), the model in eval mode."""
        self.check()
        require_models((str(self.model), "LLaVA model", "--model PATH"))  # before the slow imports
        import torch
        from transformers import AutoProcessor, LlavaForConditionalGeneration

        device, dtype_name = self.device_and_dtype()
        dtype = getattr(torch, dtype_name)
        path = str(self.model)
        try:
            with runtime.quiet_loading("transformers"), hub_models((path, "LLaVA model", "--model PATH")):
                processor = AutoProcessor.from_pretrained(path)
                model = LlavaForConditionalGeneration.from_pretrained(path, dtype=dtype)
        except (OSError, ValueError) as exc:
            raise runtime.load_failed("LLaVA", path, exc) from None
        tokenizer = getattr(processor, "tokenizer", None)
        if tokenizer is None or not hasattr(processor, "image_processor"):
            raise ConfigError(f"{path}: its processor ({type(processor).__name__}) has no tokenizer and "
                              "image processor; save a LlavaProcessor with the model")
        tokenizer.padding_side = "right"
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
        return model.to(device).eval(), processor, device, dtype

    def prompts(self, pool, image_token: str = IMAGE_TOKEN) -> list[str]:
        """The prompt of every record, as this embedder feeds it to the model.

        Example:
            >>> from vlprune import load_pool
            >>> pool = load_pool("synthetic", size="tiny")
            >>> p = LlavaEmbedder(model="x").prompts(pool)
            >>> sum(t.startswith("<image>") for t in p) == int(pool.image_available.sum())
            True
        """
        have = pool.image_available
        with_caption = runtime.caption_mask(pool, self.caption)
        out = []
        for pos, record in enumerate(pool.table.to_dict("records")):
            if have[pos]:
                text = format_prompt(record).replace(IMAGE_TOKEN, image_token, 1)
            else:
                text = format_prompt(record, image_token=False)
            if with_caption[pos]:
                text = f"Image: {record['caption']}\n{text}"
            out.append(text)
        return out

    def _embed(self, pool):
        import torch

        model, processor, device, dtype = self.load()
        prompts = self.prompts(pool, image_token=getattr(processor, "image_token", IMAGE_TOKEN))
        have = pool.image_available
        X = np.zeros((len(pool), model.config.text_config.hidden_size), dtype=np.float32)
        with torch.inference_mode():
            for sl in runtime.batches(len(pool), self.batch_size, desc="llava", progress=self.progress):
                images = [pool.image(i) for i in range(sl.start, sl.stop) if have[i]]
                enc = processor(text=prompts[sl], images=images or None, padding=True, return_tensors="pt")
                inputs = {"input_ids": enc["input_ids"].to(device), "attention_mask": enc["attention_mask"].to(device)}
                if images:
                    inputs["pixel_values"] = enc["pixel_values"].to(device, dtype)
                hidden = model.model(**inputs).last_hidden_state.float()
                mask = inputs["attention_mask"].unsqueeze(-1).float()
                X[sl] = ((hidden * mask).sum(1) / mask.sum(1).clamp(min=1)).cpu().numpy()
        return l2_normalise(X)
