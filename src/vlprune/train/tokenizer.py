"""Tokenizers: a byte-level BPE trained offline on the pool's text for the presets (cached),
or the LLM's own tokenizer for hub models and checkpoints; both gain the ``<image>`` token."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from vlprune.data.prompts import IMAGE_TOKEN, format_prompt
from vlprune.data.schema import answer_letter
from vlprune.errors import ConfigError
from vlprune.io import cache_dir, make_temp_dir

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

    from vlprune.data.pool import Pool

log = logging.getLogger("vlprune")

#: Bump when the training text or the tokenizer model changes: old caches are then unused.
BPE_VERSION = 2
SPECIAL_TOKENS = ("<unk>", "<s>", "</s>", "<pad>", IMAGE_TOKEN)


def pool_text(pool: Pool, template: str) -> Iterator[str]:
    """The text a preset tokenizer learns from: every record's prompt (as the trainer formats
    it), caption, lecture and solution, and ``The answer is X.`` for each of its option
    letters (all of them, so no answer is singled out)."""
    for record in pool.table.to_dict("records"):
        if record["choices"]:
            yield template.format(prompt=format_prompt(record, image_token=False))
            for i in range(len(record["choices"])):
                yield f"The answer is {answer_letter(i)}."
        else:
            yield record["question"]
        for name in ("caption", "lecture", "solution"):
            if record[name]:
                yield record[name]


def train_bpe_tokenizer(texts: Iterator[str] | list[str], vocab_size: int) -> PreTrainedTokenizerBase:
    """A byte-level BPE tokenizer (no unknown characters) with vlprune's special tokens.

    Example:
        >>> tok = train_bpe_tokenizer(["The answer is A.", "The answer is B."] * 20, vocab_size=300)
        >>> tok.decode(tok("The answer is B.")["input_ids"])
        'The answer is B.'
    """
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    # A space before a lone capital letter is split off, so that an option letter is the same
    # token in "(B) trout" and in "The answer is B." (byte-level BPE would otherwise make
    # "B" and " B" two unrelated tokens, a relation a random model would first have to learn).
    bpe.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r" (?=[A-Z]\b)"), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False),
    ])
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    bpe.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=bpe, unk_token="<unk>", bos_token="<s>",
                                   eos_token="</s>", pad_token="<pad>", additional_special_tokens=[IMAGE_TOKEN])


def preset_tokenizer(pool: Pool, vocab_size: int, template: str) -> tuple[PreTrainedTokenizerBase, str]:
    """The BPE tokenizer for ``pool`` (trained once, then read from the cache) and its cache key.

    Keyed by the pool's fingerprint, the vocabulary size and the template, so every subset
    of the same pool shares one tokenizer (and hence one base model and one stage-1 result).
    """
    from transformers import AutoTokenizer

    key_src = f"bpe{BPE_VERSION}|{vocab_size}|{template}|{pool.fingerprint}"
    key = f"bpe{BPE_VERSION}-{vocab_size}-" + hashlib.sha256(key_src.encode()).hexdigest()[:16]
    folder = cache_dir("train", "tokenizers") / key
    if not (folder / "tokenizer.json").exists():
        log.info("training a %d-token BPE tokenizer on the pool's text (cached in %s)", vocab_size, folder)
        tokenizer = train_bpe_tokenizer(pool_text(pool, template), vocab_size)
        with _atomic_dir(folder) as tmp:
            tokenizer.save_pretrained(tmp)
    return AutoTokenizer.from_pretrained(str(folder)), key


def load_tokenizer(path: str) -> PreTrainedTokenizerBase:
    """The tokenizer of a hub id or local model directory, with ``<image>`` and a pad token."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot load a tokenizer from {path!r}: {str(exc).splitlines()[0]} "
                          "(nothing is downloaded when offline: give a local path, or --preset tiny)") from None
    return ensure_special_tokens(tokenizer)


def ensure_special_tokens(tokenizer: PreTrainedTokenizerBase) -> PreTrainedTokenizerBase:
    """Add ``<image>`` as a special token when missing; use unk (or eos) as the pad token."""
    if IMAGE_TOKEN not in tokenizer.get_vocab():
        tokenizer.add_special_tokens({"additional_special_tokens": [IMAGE_TOKEN]})
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.unk_token if tokenizer.unk_token is not None else tokenizer.eos_token
    return tokenizer


@contextlib.contextmanager
def _atomic_dir(target: Path) -> Iterator[Path]:
    """A temporary folder beside ``target``, renamed to it on success (a concurrent writer
    that finished first wins; ours is then discarded)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = make_temp_dir(target.parent, prefix=f".{target.name}.")  # the umask's mode, not 0700
    try:
        yield tmp
        try:
            os.replace(tmp, target)
        except OSError:
            if not target.exists():
                raise
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
