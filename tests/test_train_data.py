"""Prompts, label masks, image tokens, over-long examples, missing images, batches, the loss."""

from __future__ import annotations

import logging

import pytest
import torch

from train_utils import micro, micro_overrides, toy_data, write_toy_scienceqa  # noqa: F401  (fixtures)
from vlprune import load_pool
from vlprune.errors import ConfigError, DataError
from vlprune.train.config import load_config
from vlprune.train.data import (
    IGNORE_INDEX,
    ExampleDataset,
    ShuffledChoices,
    caption_examples,
    check_images,
    collate,
    make_encoder,
    problem_examples,
    problem_prompt,
)
from vlprune.train.loop import TokenLoss
from vlprune.train.model import build_model


@pytest.fixture
def setup(micro, toy_data):  # noqa: F811
    pool = load_pool("scienceqa", str(toy_data / "data"), split="train")
    cfg = load_config(overrides=micro_overrides())
    bundle = build_model(cfg, pool)
    return pool, cfg, bundle, make_encoder(bundle, cfg)


def test_loss_only_on_the_answer_tokens(setup):
    pool, _, bundle, enc = setup
    examples, skipped = problem_examples(pool, range(len(pool)), enc)
    assert skipped == 0 and len(examples) == len(pool)
    tok = bundle.tokenizer
    for ex, record in zip(examples, pool.table.to_dict("records"), strict=True):
        labelled = [i for i, t in enumerate(ex.labels) if t != IGNORE_INDEX]
        # One contiguous run at the end, equal to the inputs there ...
        assert labelled == list(range(labelled[0], len(ex)))
        assert [ex.input_ids[i] for i in labelled] == [ex.labels[i] for i in labelled]
        # ... which is exactly "The answer is X." and the end-of-sequence token.
        letter = "ABC"[record["answer"]]
        assert tok.decode([ex.input_ids[i] for i in labelled]) == f"The answer is {letter}.</s>"
        assert "ASSISTANT:" in tok.decode(ex.input_ids[:labelled[0]])


@pytest.mark.parametrize("fmt", ["EA", "LEA"])
def test_reasoning_targets_put_the_solution_first(setup, fmt):
    pool, _, bundle, enc = setup
    ex = problem_examples(pool, [1], enc, target=fmt)[0][0]
    target = bundle.tokenizer.decode([t for t in ex.labels if t != IGNORE_INDEX])
    record = pool.table.iloc[1]
    before = f"{record['lecture']} {record['solution']}" if fmt == "LEA" else record["solution"]
    assert target == f"{before} The answer is {'ABC'[record['answer']]}.</s>"


@pytest.mark.parametrize("answer, expected", [
    ("letter", "The answer is {letter}.</s>"),
    ("text", "The answer is {text}.</s>"),
    ("letter-text", "The answer is ({letter}) {text}.</s>"),
])
def test_answer_formats_put_the_loss_on_the_named_option(setup, answer, expected):
    pool, _, bundle, enc = setup
    examples, _ = problem_examples(pool, range(len(pool)), enc, answer=answer)
    for ex, record in zip(examples, pool.table.to_dict("records"), strict=True):
        labelled = [i for i, t in enumerate(ex.labels) if t != IGNORE_INDEX]
        assert labelled == list(range(labelled[0], len(ex)))  # the response only, at the end
        text = record["choices"][record["answer"]]
        assert bundle.tokenizer.decode([ex.input_ids[i] for i in labelled]) == expected.format(
            letter="ABC"[record["answer"]], text=text)


def test_text_answers_follow_their_option_when_shuffled(setup):
    pool, _, bundle, enc = setup
    examples, _ = problem_examples(pool, range(len(pool)), enc, answer="letter-text")
    data = ShuffledChoices(examples, pool, bundle.image_processor, encoder=enc, answer="letter-text", seed=0)
    letters = set()
    for epoch in range(6):
        data.set_epoch(epoch)
        text = bundle.tokenizer.decode(data.example(0).input_ids)
        correct = pool.table.iloc[0]["choices"][pool.table.iloc[0]["answer"]]
        named = text.split("The answer is ")[1]
        assert named.startswith("(") and named.endswith(f") {correct}.</s>")
        assert f"({named[1]}) {correct}" in text.split("Options: ")[1].split("\n")[0]
        letters.add(named[1])
    assert len(letters) > 1


def test_image_problems_get_one_contiguous_run_of_image_tokens(setup):
    pool, _, bundle, enc = setup
    examples, _ = problem_examples(pool, range(len(pool)), enc)
    for ex, has_image in zip(examples, pool.has_image, strict=True):
        image_positions = [i for i, t in enumerate(ex.input_ids) if t == bundle.image_token_id]
        if has_image:
            assert ex.image is not None
            assert len(image_positions) == bundle.image_seq_length
            assert image_positions == list(range(image_positions[0], image_positions[0] + bundle.image_seq_length))
            assert all(ex.labels[i] == IGNORE_INDEX for i in image_positions)
        else:
            assert ex.image is None and not image_positions


def test_overlong_examples_are_skipped_and_counted_never_cut(setup, caplog):
    pool, cfg, bundle, _ = setup
    lengths = [len(e) for e in problem_examples(pool, range(len(pool)), make_encoder(bundle, cfg))[0]]
    limit = max(lengths) - 1
    cfg.data.max_length = limit
    enc = make_encoder(bundle, cfg)
    with caplog.at_level(logging.WARNING, logger="vlprune"):
        examples, skipped = problem_examples(pool, range(len(pool)), enc)
    assert skipped == sum(n > limit for n in lengths) > 0
    assert len(examples) == len(pool) - skipped
    assert f"{skipped} of {len(pool)} examples in the subset are longer than" in caplog.text
    kept = {e.id: e for e in examples}
    full = {e.id: e for e in problem_examples(pool, range(len(pool)), make_encoder(bundle, load_config(
        overrides=micro_overrides())))[0]}
    assert all(kept[i].input_ids == full[i].input_ids for i in kept)  # untouched, not truncated
    with pytest.raises(ConfigError, match="longer than data.max_length"):
        problem_examples(pool, range(len(pool)), enc, on_overlong="error")


def test_missing_image_files_error_or_use_captions(micro, tmp_path):  # noqa: F811
    write_toy_scienceqa(tmp_path / "noimg", images=False)
    pool = load_pool("scienceqa", str(tmp_path / "noimg"), split="train")
    with pytest.raises(DataError, match="12 of 12 image problems in the subset have no image file") as err:
        check_images(pool, range(len(pool)), use_captions=False, what="subset")
    assert err.value.record == "train0" and err.value.field == "image"
    assert "--caption-for-missing-images" in str(err.value)
    assert check_images(pool, range(len(pool)), use_captions=True, what="subset") == 12
    record = pool.table.iloc[0].to_dict()
    prompt = problem_prompt(record, use_image=False)
    assert "<image>" not in prompt
    assert f"Context: {record['caption']}" in prompt


def test_caption_pairs_for_stage1(setup):
    pool, _, bundle, enc = setup
    examples = caption_examples(pool, enc)
    assert len(examples) == int(pool.image_available.sum()) == 12
    ex = examples[0]
    target = bundle.tokenizer.decode([t for t in ex.labels if t != IGNORE_INDEX])
    assert target == pool.table.at[ex.image, "caption"] + "</s>"
    assert ex.input_ids.count(bundle.image_token_id) == bundle.image_seq_length
    assert len(caption_examples(pool, enc, max_examples=5, seed=0)) == 5


def test_collate_keeps_images_in_token_order(setup):
    pool, _, bundle, enc = setup
    examples, _ = problem_examples(pool, range(4), enc)
    data = ExampleDataset(examples, pool, bundle.image_processor)
    batch = collate([data[i] for i in range(4)], pad_id=bundle.tokenizer.pad_token_id)
    n_images = sum(e.image is not None for e in examples)
    assert batch["pixel_values"].shape == (n_images, 3, 16, 16)
    assert torch.equal(batch["pixel_values"][0], data.pixels(examples[0].image))
    assert batch["attention_mask"].sum(1).tolist() == [len(e) for e in examples]
    assert ((batch["labels"] != IGNORE_INDEX) <= (batch["attention_mask"] == 1)).all()


def test_token_loss_matches_transformers_loss(setup):
    pool, _, bundle, enc = setup
    examples, _ = problem_examples(pool, range(6), enc)
    data = ExampleDataset(examples, pool, bundle.image_processor)
    batch = collate([data[i] for i in range(6)], pad_id=bundle.tokenizer.pad_token_id)
    summed = TokenLoss(bundle.model)(**batch)
    reference = bundle.model(**batch).loss  # mean over the labelled (shifted) tokens
    n_tokens = int((batch["labels"][:, 1:] != IGNORE_INDEX).sum())
    assert torch.allclose(summed / n_tokens, reference, atol=1e-5)


def test_shuffled_choices_move_the_answer_letter_with_its_option(setup):
    pool, _, bundle, enc = setup
    examples, _ = problem_examples(pool, range(len(pool)), enc)
    data = ShuffledChoices(examples, pool, bundle.image_processor, encoder=enc, seed=0)
    tok = bundle.tokenizer
    seen_letters = set()
    for epoch in range(8):
        data.set_epoch(epoch)
        for i in (0, 1):  # a colour problem (3 options) and a mammal problem (2)
            text = tok.decode(data.example(i).input_ids)
            options = text.split("Options: ")[1].split("\n")[0]
            letter = text.split("The answer is ")[1][0]
            correct = pool.table.iloc[i]["choices"][pool.table.iloc[i]["answer"]]
            assert f"({letter}) {correct}" in options  # the letter names the right option
            seen_letters.add((i, letter))
    assert len({letter for i, letter in seen_letters if i == 0}) > 1  # the letter moves between epochs
    data.set_epoch(2)
    again = ShuffledChoices(examples, pool, bundle.image_processor, encoder=enc, seed=0)
    again.set_epoch(2)
    assert again.example(0).input_ids == data.example(0).input_ids  # a pure function of (seed, epoch, i)
