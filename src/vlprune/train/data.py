"""From records to training batches: prompts and targets (the same strings the LLaVA export
writes, from :mod:`vlprune.data.prompts`), token ids with the image tokens expanded, the
label mask (loss on the response only), pixels, and padding.

A sequence is ``<s> template(prompt) target </s>``; labels are ``-100`` everywhere but on
``target </s>``. Nothing is ever truncated: an example longer than ``max_length`` is skipped
(and counted) or is an error, so image tokens and answers are never cut.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from vlprune.data.prompts import IMAGE_TOKEN, format_prompt, format_target
from vlprune.errors import ConfigError, DataError

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

    from vlprune.data.pool import Pool
    from vlprune.train.config import TrainConfig
    from vlprune.train.model import ModelBundle

log = logging.getLogger("vlprune")

IGNORE_INDEX = -100


@dataclass
class Example:
    """One training sequence. ``image`` is the pool position whose pixels fill its image
    tokens (None for a text-only sequence)."""

    id: str
    input_ids: list[int]
    labels: list[int]
    image: int | None = None

    def __len__(self) -> int:
        return len(self.input_ids)


class Encoder:
    """Text to token ids: the template around the prompt, ``<image>`` expanded to
    ``image_seq_length`` image-token ids, BOS/EOS, and the label mask.

    Example:
        >>> enc = Encoder(tokenizer, image_token_id=4, image_seq_length=16)   # doctest: +SKIP
        >>> ex = enc.example("7", "<image>\\nWhat is shown?", "A cat.", image=0)  # doctest: +SKIP
        >>> ex.input_ids.count(4)                                               # doctest: +SKIP
        16
    """

    def __init__(
        self,
        tokenizer: PreTrainedTokenizerBase,
        *,
        image_token_id: int,
        image_seq_length: int,
        template: str = "{prompt}",
        max_length: int = 2048,
    ) -> None:
        self.tokenizer = tokenizer
        self.image_token_id = image_token_id
        self.image_seq_length = image_seq_length
        self.template = template
        self.max_length = max_length

    def tokens(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def prompt_ids(self, prompt: str, *, templated: bool = True) -> list[int]:
        """``<s>`` + the (templated) prompt, each ``<image>`` replaced by the image tokens."""
        text = self.template.format(prompt=prompt) if templated else prompt
        ids = [] if self.tokenizer.bos_token_id is None else [self.tokenizer.bos_token_id]
        for i, piece in enumerate(text.split(IMAGE_TOKEN)):
            if i:
                ids.extend([self.image_token_id] * self.image_seq_length)
            if piece:
                ids.extend(self.tokens(piece))
        return ids

    def target_ids(self, target: str) -> list[int]:
        ids = self.tokens(target)
        if self.tokenizer.eos_token_id is not None:
            ids.append(self.tokenizer.eos_token_id)
        return ids

    def example(self, rid: str, prompt: str, target: str, *, image: int | None = None,
                templated: bool = True, loss_on_prompt: bool = False) -> Example:
        """One sequence; the loss covers the target only (or everything with ``loss_on_prompt``,
        which the base pretraining's plain text uses)."""
        n_images = prompt.count(IMAGE_TOKEN)
        if n_images != (image is not None):
            raise DataError(f"the prompt has {n_images} {IMAGE_TOKEN} tokens but "
                            f"{'one image' if image is not None else 'no image'}", record=rid, field="question")
        prompt_ids = self.prompt_ids(prompt, templated=templated)
        target_ids = self.target_ids(target)
        if loss_on_prompt:  # image tokens are inputs, never targets
            labels = [t if t != self.image_token_id else IGNORE_INDEX for t in prompt_ids] + target_ids
        else:
            labels = [IGNORE_INDEX] * len(prompt_ids) + target_ids
        return Example(rid, prompt_ids + target_ids, labels, image)


# -- ScienceQA problems -----------------------------------------------------------------------
def problem_prompt(record: Mapping[str, Any], *, use_image: bool) -> str:
    """The ScienceQA prompt; with ``use_image`` False an image problem's caption joins the
    context instead (as ScienceQA's own caption baselines do: ``hint + " " + caption``)."""
    if use_image or not record.get("image"):
        return format_prompt(record, image_token=use_image)
    context = " ".join(t for t in (record.get("hint", ""), record.get("caption", "")) if t).strip()
    return format_prompt({**record, "hint": context}, image_token=False)


def check_images(pool: Pool, positions: Sequence[int] | np.ndarray, *, use_captions: bool, what: str) -> int:
    """Image problems among ``positions`` whose pixels are missing: an error naming the first
    one, or (``use_captions``) their count, logged, with captions standing in.

    Example:
        >>> check_images(pool, range(len(pool)), use_captions=True, what="test split")  # doctest: +SKIP
        0
    """
    positions = np.asarray(positions, dtype=np.int64)
    missing = positions[pool.has_image[positions] & ~pool.image_available[positions]]
    if missing.size == 0:
        return 0
    n_img = int(pool.has_image[positions].sum())
    first = int(missing[0])
    rid, image = pool.table.at[first, "id"], pool.table.at[first, "image"]
    source = pool.reference.source or pool.reference.loader
    if not use_captions:
        raise DataError(f"{missing.size} of {n_img} image problems in the {what} have no image file "
                        f"(first: image {image!r}); pass --caption-for-missing-images to put their "
                        "captions in the context instead", file=source, record=str(rid), field="image")
    log.warning("%d of %d image problems in the %s have no image file: their captions stand in",
                missing.size, n_img, what)
    return int(missing.size)


def problem_examples(
    pool: Pool,
    positions: Sequence[int] | np.ndarray,
    encoder: Encoder,
    *,
    target: str = "A",
    answer: str = "letter",
    on_overlong: str = "skip",
    what: str = "subset",
) -> tuple[list[Example], int]:
    """Training examples for the problems at ``positions``; returns them and the number
    skipped for being longer than ``encoder.max_length``.

    Problems without choices (LLaVA conversations) cannot be scored as ScienceQA problems;
    they are an error here.
    """
    examples: list[Example] = []
    overlong: list[tuple[str, int]] = []
    records = pool.table.iloc[np.asarray(positions, dtype=np.int64)].to_dict("records")
    for pos, record in zip(positions, records, strict=True):
        if not record["choices"] or record["answer"] < 0:
            raise DataError("a ScienceQA-style problem needs choices and an answer", record=record["id"],
                            field="choices", file=pool.reference.source)
        ex = encode_problem(record, int(pos), encoder, target=target, answer=answer)
        if len(ex) > encoder.max_length:
            overlong.append((record["id"], len(ex)))
            continue
        examples.append(ex)
    if overlong:
        rid, n = overlong[0]
        message = (f"{len(overlong)} of {len(records)} examples in the {what} are longer than "
                   f"data.max_length={encoder.max_length} tokens (first: record {rid!r}, {n} tokens)")
        if on_overlong == "error":
            raise ConfigError(message + "; raise --max-length, or set data.on_overlong: skip")
        log.warning("%s: skipped (never truncated, which could cut image tokens or the answer)", message)
    return examples, len(overlong)


def encode_problem(record: Mapping[str, Any], position: int, encoder: Encoder, *, target: str = "A",
                   answer: str = "letter") -> Example:
    """One problem as a training sequence (its pixels, when present, from pool ``position``);
    ``target`` is one of :data:`~vlprune.data.prompts.TARGET_FORMATS`, ``answer`` one of
    :data:`~vlprune.data.prompts.ANSWER_FORMATS`."""
    use_image = bool(record["image"]) and bool(record["image_path"])
    return encoder.example(record["id"], problem_prompt(record, use_image=use_image),
                           format_target(record, fmt=target, answer=answer), image=position if use_image else None)


def permute_choices(record: Mapping[str, Any], order: Sequence[int]) -> dict[str, Any]:
    """The record with its choices in ``order`` and the answer index following its choice.

    Example:
        >>> permute_choices({"choices": ["wolf", "trout", "owl"], "answer": 0}, [2, 0, 1])
        {'choices': ['owl', 'wolf', 'trout'], 'answer': 1}
    """
    order = list(order)
    return {**record, "choices": [record["choices"][i] for i in order], "answer": order.index(int(record["answer"]))}


# -- image-caption pairs (stage 1) ------------------------------------------------------------
def caption_of(record: Mapping[str, Any]) -> str:
    """A record's caption: the ``caption`` field, or for LLaVA-Pretrain style conversations the
    first assistant turn (which the llava-json loader keeps as ``solution``)."""
    if record.get("caption"):
        return str(record["caption"]).strip()
    if record.get("conversations"):
        return str(record.get("solution") or "").strip()
    return ""


def caption_examples(pool: Pool, encoder: Encoder, *, max_examples: int | None = None,
                     seed: int = 0) -> list[Example]:
    """``<s> <image>\\n caption </s>`` for every record with pixels and a caption (LLaVA's
    "plain" pretraining format: no instruction, loss on the caption). ``max_examples`` keeps
    a seeded random sample."""
    positions = np.flatnonzero(pool.image_available)
    records = pool.table.iloc[positions].to_dict("records")
    pairs = [(int(p), r) for p, r in zip(positions, records, strict=True) if caption_of(r)]
    if max_examples is not None and len(pairs) > max_examples:
        keep = np.sort(np.random.default_rng(seed).choice(len(pairs), max_examples, replace=False))
        pairs = [pairs[i] for i in keep]
    examples = []
    for pos, record in pairs:
        ex = encoder.example(record["id"], f"{IMAGE_TOKEN}\n", caption_of(record), image=pos, templated=False)
        if len(ex) <= encoder.max_length:
            examples.append(ex)
    return examples


# -- tensors ----------------------------------------------------------------------------------
class ExampleDataset(torch.utils.data.Dataset):
    """Examples with their pixels, preprocessed by the model's image processor. Small images
    are preprocessed once and kept in memory (up to ``pixel_cache_bytes``)."""

    def __init__(self, examples: list[Example], pool: Pool | None, image_processor: Any,
                 *, pixel_cache_bytes: int = 1 << 30) -> None:
        self.examples = examples
        self.pool = pool
        self.image_processor = image_processor
        self._cache: dict[int, torch.Tensor] = {}
        self._cache_budget = pixel_cache_bytes

    def __len__(self) -> int:
        return len(self.examples)

    def set_epoch(self, epoch: int) -> None:
        """Called by the training loop at the start of every epoch (see :class:`ShuffledChoices`)."""

    def example(self, i: int) -> Example:
        return self.examples[i]

    def pixels(self, position: int) -> torch.Tensor:
        cached = self._cache.get(position)
        if cached is not None:
            return cached
        assert self.pool is not None
        image = self.pool.image(position)
        if image is None:
            raise DataError("image file missing", record=str(self.pool.table.at[position, "id"]), field="image")
        values = self.image_processor(images=[image], return_tensors="pt")["pixel_values"][0]
        size = values.numel() * values.element_size()
        if size <= self._cache_budget:
            self._cache[position] = values
            self._cache_budget -= size
        return values

    def __getitem__(self, i: int) -> dict[str, Any]:
        ex = self.example(i)
        return {"input_ids": ex.input_ids, "labels": ex.labels,
                "pixel_values": None if ex.image is None else self.pixels(ex.image)}


class ShuffledChoices(ExampleDataset):
    """Problems whose options come in a new order every epoch (an augmentation): the letter
    of the answer changes from epoch to epoch, so it cannot be memorised per question; the
    model has to find the right option's letter. The order of example ``i`` in epoch ``e``
    depends only on (seed, e, i), so a resumed run sees the same orders.

    Example:
        >>> data = ShuffledChoices(examples, pool, processor, encoder=enc, seed=0)  # doctest: +SKIP
        >>> data.set_epoch(3); data.example(0).input_ids                             # doctest: +SKIP
    """

    def __init__(self, examples: list[Example], pool: Pool, image_processor: Any, *, encoder: Encoder,
                 target: str = "A", answer: str = "letter", seed: int = 0, **kwargs: Any) -> None:
        super().__init__(examples, pool, image_processor, **kwargs)
        self.encoder, self.target, self.answer, self.seed = encoder, target, answer, seed
        where = {rid: i for i, rid in enumerate(pool.ids)}
        self.positions = [where[ex.id] for ex in examples]
        self.records = pool.table.iloc[self.positions].to_dict("records")
        self.epoch = 0
        self._encoded: dict[int, Example] = {}

    def set_epoch(self, epoch: int) -> None:
        if epoch != self.epoch:
            self.epoch, self._encoded = epoch, {}

    def example(self, i: int) -> Example:
        if i not in self._encoded:
            record = self.records[i]
            order = np.random.default_rng([self.seed, self.epoch, i]).permutation(len(record["choices"]))
            self._encoded[i] = encode_problem(permute_choices(record, order), self.positions[i], self.encoder,
                                              target=self.target, answer=self.answer)
        return self._encoded[i]


def collate(batch: list[dict[str, Any]], *, pad_id: int, padding_side: str = "right") -> dict[str, Any]:
    """Pad a list of items into tensors. ``pixel_values`` stacks the images of the items that
    have one, in order, which is the order their image tokens appear in ``input_ids``.

    Example:
        >>> b = collate([{"input_ids": [1, 5], "labels": [-100, 5], "pixel_values": None},
        ...              {"input_ids": [1], "labels": [-100], "pixel_values": None}], pad_id=0)
        >>> b["input_ids"].tolist(), b["attention_mask"].tolist(), b["labels"].tolist()
        ([[1, 5], [1, 0]], [[1, 1], [1, 0]], [[-100, 5], [-100, -100]])
    """
    width = max(len(item["input_ids"]) for item in batch)
    n = len(batch)
    input_ids = torch.full((n, width), pad_id, dtype=torch.long)
    labels = torch.full((n, width), IGNORE_INDEX, dtype=torch.long)
    attention = torch.zeros((n, width), dtype=torch.long)
    for row, item in enumerate(batch):
        length = len(item["input_ids"])
        cols = slice(0, length) if padding_side == "right" else slice(width - length, width)
        input_ids[row, cols] = torch.tensor(item["input_ids"], dtype=torch.long)
        labels[row, cols] = torch.tensor(item["labels"], dtype=torch.long)
        attention[row, cols] = 1
    images = [item["pixel_values"] for item in batch if item["pixel_values"] is not None]
    return {"input_ids": input_ids, "attention_mask": attention, "labels": labels,
            "pixel_values": torch.stack(images) if images else None}


def make_encoder(bundle: ModelBundle, cfg: TrainConfig) -> Encoder:
    """The encoder of a model bundle with the config's template and length limit."""
    return Encoder(bundle.tokenizer, image_token_id=bundle.image_token_id,
                   image_seq_length=bundle.image_seq_length, template=cfg.data.template,
                   max_length=cfg.data.max_length)
