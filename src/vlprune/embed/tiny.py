"""Tiny, randomly initialised CLIP and LLaVA checkpoints built offline, for tests, benchmarks
and smoke runs of the model embedders (their vectors carry no meaning).

Each is saved with ``save_pretrained`` -- model, tokenizer and (image) processor -- so it
loads exactly like a real checkpoint: ``--embedder clip --model PATH``. The tokenizer is a
byte-level BPE trained here on a few sentences; weights are drawn from a seeded generator
inside :func:`torch.random.fork_rng`, so the global torch RNG is left untouched.

Example:
    >>> import tempfile
    >>> path = make_tiny_clip(tempfile.mkdtemp())
    >>> sorted(p.name for p in path.iterdir())[:2]
    ['config.json', 'model.safetensors']
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

_CORPUS = [
    "Which of these states is farthest north? Options: (A) Maine (B) Ohio",
    "Context: N/A. Which animal is a mammal? Options: wolf, trout, frog, eagle",
    "Select the solid. Which word would you find on a dictionary page?",
    "Image: a map of the United States with one state highlighted",
    "Think about the magnetic force between the magnets in each pair.",
    "The answer is A. Lecture: Mammals have fur and feed their young milk.",
]
SPECIAL_TOKENS = ["<pad>", "<unk>", "<s>", "</s>", "<image>"]


def tiny_tokenizer(vocab_size: int = 320, model_max_length: int = 4096):
    """A byte-level BPE tokenizer (any text encodes) with ``<s> ... </s>`` around each text
    and an ``<image>`` special token, as a transformers ``PreTrainedTokenizerFast``.

    Example:
        >>> tok = tiny_tokenizer()
        >>> ids = tok("a wolf").input_ids
        >>> ids[0] == tok.bos_token_id and ids[-1] == tok.eos_token_id
        True
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(_CORPUS, trainer)
    bos, eos = tok.token_to_id("<s>"), tok.token_to_id("</s>")
    tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", bos), ("</s>", eos)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                   unk_token="<unk>", model_max_length=model_max_length,
                                   extra_special_tokens={"image_token": "<image>"})


def _image_processor(image_size: int):
    from transformers import CLIPImageProcessor

    return CLIPImageProcessor(size={"shortest_edge": image_size},
                              crop_size={"height": image_size, "width": image_size})


@contextlib.contextmanager
def _seeded(seed: int) -> Iterator[None]:
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def _tiny_vision(image_size: int, hidden: int) -> dict:
    return dict(hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=2, num_attention_heads=2,
                image_size=image_size, patch_size=image_size // 4)


def make_tiny_clip(path: str | Path, *, seed: int = 0, hidden: int = 32, projection_dim: int = 16,
                   image_size: int = 32) -> Path:
    """Save a random ``CLIPModel`` (2 layers per tower) with tokenizer and image processor
    under ``path``; returns the folder. ``concat`` embeddings have ``2 * projection_dim``
    dimensions.

    Example:
        >>> import tempfile
        >>> (make_tiny_clip(tempfile.mkdtemp()) / "tokenizer.json").is_file()
        True
    """
    from transformers import CLIPConfig, CLIPModel

    path = Path(path)
    tokenizer = tiny_tokenizer(model_max_length=64)
    text = dict(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=2,
                num_attention_heads=2, max_position_embeddings=64, bos_token_id=tokenizer.bos_token_id,
                eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    config = CLIPConfig(text_config=text, vision_config=_tiny_vision(image_size, hidden),
                        projection_dim=projection_dim)
    with _seeded(seed):
        model = CLIPModel(config)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    _image_processor(image_size).save_pretrained(path)
    return path


def make_tiny_llava(path: str | Path, *, seed: int = 0, hidden: int = 32, image_size: int = 32) -> Path:
    """Save a random ``LlavaForConditionalGeneration`` (a 2-layer Mistral language model and
    a 2-layer CLIP vision tower) with its ``LlavaProcessor`` under ``path``; returns the folder.

    Example:
        >>> import tempfile
        >>> (make_tiny_llava(tempfile.mkdtemp()) / "processor_config.json").is_file()
        True
    """
    from transformers import (
        CLIPVisionConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
        MistralConfig,
    )

    path = Path(path)
    tokenizer = tiny_tokenizer()
    text = MistralConfig(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=hidden // 4,
                         max_position_embeddings=4096, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    vision = CLIPVisionConfig(**_tiny_vision(image_size, hidden))
    config = LlavaConfig(vision_config=vision, text_config=text,
                         image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
                         vision_feature_layer=-2, vision_feature_select_strategy="default")
    with _seeded(seed):
        model = LlavaForConditionalGeneration(config)
    model.save_pretrained(path)
    # CLIP's vision tower adds a CLS token that the "default" strategy drops again.
    LlavaProcessor(image_processor=_image_processor(image_size), tokenizer=tokenizer,
                   patch_size=vision.patch_size, vision_feature_select_strategy="default",
                   num_additional_image_tokens=1).save_pretrained(path)
    return path
