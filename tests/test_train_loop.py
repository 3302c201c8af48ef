"""The two-stage loop: resuming after a kill, the stage-1 cache, gradient accumulation,
frozen parts, the run folder, out-of-memory messages, and the base pretraining."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from train_utils import micro, micro_overrides, toy_data, write_manifest  # noqa: F401  (fixtures)
from vlprune import load_pool
from vlprune.errors import ConfigError, VlpruneError
from vlprune.train.config import load_config
from vlprune.train.model import build_model
from vlprune.train.recipe import restore_model, train


class Killed(Exception):
    """Stands in for the process dying."""


def _events(run_dir, stage):
    lines = [json.loads(line) for line in (run_dir / "train_log.jsonl").read_text().splitlines()]
    return [r for r in lines if r.get("stage") == stage]


def test_killed_run_resumes_to_the_same_result(micro, toy_data):  # noqa: F811
    cfg = load_config(overrides=micro_overrides(**{"stage2.epochs": 3, "save_every": 2, "data.shuffle_choices": True}))
    full = train(toy_data / "subset.json", cfg, micro / "full", progress=False)

    def kill_at_step_5(stage, step, total):
        if stage == "stage2" and step == 5:  # 3 steps per epoch: after the step-3 and step-4 checkpoints
            raise Killed

    with pytest.raises(Killed):
        train(toy_data / "subset.json", cfg, micro / "resumed", on_step=kill_at_step_5, progress=False)
    assert (micro / "resumed" / "checkpoints" / "stage2.pt").exists()
    assert not (micro / "resumed" / "metrics.json").exists()
    resumed = train(toy_data / "subset.json", cfg, micro / "resumed", progress=False)

    assert resumed.metrics == full.metrics
    a = load_file(str(micro / "full" / "model" / "trainable.safetensors"))
    b = load_file(str(micro / "resumed" / "model" / "trainable.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert json.loads((micro / "resumed" / "predictions.json").read_text()) == \
        json.loads((micro / "full" / "predictions.json").read_text())
    # The log reads like an uninterrupted run's: every step once, the same losses.
    steps = [(r["step"], r["loss"]) for r in _events(micro / "resumed", "stage2") if "loss" in r]
    assert steps == [(r["step"], r["loss"]) for r in _events(micro / "full", "stage2") if "loss" in r]
    assert [s for s, _ in steps] == list(range(1, 10))
    assert not (micro / "resumed" / "checkpoints").exists()  # removed once the run is done


def test_finished_run_is_not_trained_again(micro, toy_data):  # noqa: F811
    cfg = load_config(overrides=micro_overrides())
    first = train(toy_data / "subset.json", cfg, micro / "run", progress=False)
    calls = []
    again = train(toy_data / "subset.json", cfg, micro / "run", progress=False,
                  on_step=lambda *a: calls.append(a))
    assert again.metrics == first.metrics and calls == []


def test_other_settings_in_an_existing_run_are_refused(micro, toy_data):  # noqa: F811
    train(toy_data / "subset.json", load_config(overrides=micro_overrides()), micro / "run", progress=False)
    other = load_config(overrides=micro_overrides(**{"stage2.lr": 5e-4}))
    with pytest.raises(ConfigError, match=r"holds a run with other settings \(stage2.lr: 0.0002 then, 0.0005 now\)"):
        train(toy_data / "subset.json", other, micro / "run", progress=False)
    result = train(toy_data / "subset.json", other, micro / "run", overwrite=True, progress=False)
    assert result.metrics is not None


def test_stage1_is_cached_and_shared_between_subsets(micro, toy_data, tmp_path):  # noqa: F811
    cfg = load_config(overrides=micro_overrides())
    train(toy_data / "subset.json", cfg, micro / "a", progress=False)
    assert [r["event"] for r in _events(micro / "a", "stage1") if "event" in r] == ["start", "done"]
    cached = _events(micro / "a", "stage1")[-1]["cached"]
    # Another subset of the same pool reuses the projector: stage 1 does not run again.
    write_manifest(toy_data / "data", tmp_path / "half.json", k=12, seed=1)
    stage1_steps = []
    train(tmp_path / "half.json", cfg, micro / "b", progress=False,
          on_step=lambda stage, *a: stage1_steps.append(stage) if stage == "stage1" else None)
    assert stage1_steps == []
    assert _events(micro / "b", "stage1") == [{"event": "cached", "stage": "stage1", "source": cached}]
    # --projector PATH loads a given one; --skip-stage1 runs none.
    cfg_path = load_config(overrides=micro_overrides(projector_path=cached))
    train(tmp_path / "half.json", cfg_path, micro / "c", progress=False)
    assert _events(micro / "c", "stage1") == [{"event": "projector", "stage": "stage1", "source": cached}]
    cfg_skip = load_config(overrides=micro_overrides(skip_stage1=True))
    train(tmp_path / "half.json", cfg_skip, micro / "d", progress=False)
    assert _events(micro / "d", "stage1")[0]["event"] == "skipped"


def test_a_different_stage1_setting_misses_the_cache(micro, toy_data):  # noqa: F811
    train(toy_data / "subset.json", load_config(overrides=micro_overrides()), micro / "a", progress=False)
    cfg = load_config(overrides=micro_overrides(**{"stage1.lr": 5e-4}))
    train(toy_data / "subset.json", cfg, micro / "b", progress=False)
    assert _events(micro / "b", "stage1")[-1]["event"] == "done"


def test_gradient_accumulation_does_not_change_the_result(micro, toy_data):  # noqa: F811
    weights = []
    for mbs in (8, 3, 1):
        cfg = load_config(overrides=micro_overrides(**{"stage2.micro_batch_size": mbs, "stage1.micro_batch_size": 8,
                                                       "stage2.epochs": 1}))
        train(toy_data / "subset.json", cfg, micro / f"mbs{mbs}", evaluate_after=False, progress=False)
        weights.append(load_file(str(micro / f"mbs{mbs}" / "model" / "trainable.safetensors")))
    for other in weights[1:]:
        for k in weights[0]:
            assert torch.allclose(weights[0][k], other[k], atol=1e-5), k


def test_gradient_checkpointing_does_not_change_the_result(micro, toy_data):  # noqa: F811
    weights = []
    for checkpointing in (False, True):
        cfg = load_config(overrides=micro_overrides(**{"stage2.epochs": 1, "gradient_checkpointing": checkpointing}))
        train(toy_data / "subset.json", cfg, micro / f"gc{checkpointing}", evaluate_after=False, progress=False)
        weights.append(load_file(str(micro / f"gc{checkpointing}" / "model" / "trainable.safetensors")))
    assert all(torch.allclose(weights[0][k], weights[1][k], atol=1e-6) for k in weights[0])


def test_stage2_leaves_the_vision_tower_alone(micro, toy_data):  # noqa: F811
    cfg = load_config(overrides=micro_overrides())
    train(toy_data / "subset.json", cfg, micro / "run", progress=False)
    saved = load_file(str(micro / "run" / "model" / "trainable.safetensors"))
    assert not any("vision_tower" in k for k in saved)
    assert any("multi_modal_projector" in k for k in saved) and any("language_model" in k for k in saved)


def test_lora_run_trains_and_evaluates(micro, toy_data):  # noqa: F811
    cfg = load_config(overrides=micro_overrides(**{"lora.r": 4, "lora.alpha": 8}))
    result = train(toy_data / "subset.json", cfg, micro / "run", progress=False)
    saved = load_file(str(micro / "run" / "model" / "trainable.safetensors"))
    assert saved and all("lora_" in k or "multi_modal_projector" in k for k in saved)
    assert result.metrics["count"] == 12


def test_out_of_memory_names_the_flags_that_help(micro, toy_data, monkeypatch):  # noqa: F811
    import vlprune.train.recipe as recipe

    def oom(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(recipe, "run_stage", oom)
    with pytest.raises(VlpruneError) as err:
        train(toy_data / "subset.json", load_config(overrides=micro_overrides()), micro / "run", progress=False)
    message = str(err.value)
    for flag in ("--lora-r", "--gradient-checkpointing", "--micro-batch-size", "--precision bf16"):
        assert flag in message
    assert "stage 1" in message


def test_base_pretraining_is_cached_and_never_sees_questions(micro, toy_data):  # noqa: F811
    from vlprune.train.base import base_texts

    pool = load_pool("scienceqa", str(toy_data / "data"), split="train")
    texts = base_texts(pool)
    assert texts and not any(q in t for t in texts for q in set(pool.table["question"]))
    assert not any(s in texts for s in set(pool.table["solution"]))

    cfg = load_config(overrides=micro_overrides(**{"base.epochs": 1, "base.batch_size": 8}))
    train(toy_data / "subset.json", cfg, micro / "a", evaluate_after=False, progress=False)
    base = _events(micro / "a", "base")
    assert base[-1]["event"] == "done" and base[-1]["sequences"] == len(texts) + 12  # texts + caption pairs
    train(toy_data / "subset.json", cfg, micro / "b", evaluate_after=False, progress=False)
    assert [r["event"] for r in _events(micro / "b", "base")] == ["cached"]
    a = load_file(str(micro / "a" / "model" / "trainable.safetensors"))
    b = load_file(str(micro / "b" / "model" / "trainable.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_base_text_sources_hold_problems_but_never_answers(micro, toy_data):  # noqa: F811
    from vlprune.train.base import base_texts

    pool = load_pool("scienceqa", str(toy_data / "data"), split="train")
    plain = base_texts(pool)
    texts = base_texts(pool, ["lectures", "captions", "problems"])
    assert set(plain) < set(texts)
    problems = [t for t in texts if t not in plain]
    for record in pool.table.to_dict("records"):
        # Each problem's question with all of its options, in their original order ...
        shown = [t for t in problems if t.startswith(record["question"]) and
                 t.endswith(" ".join(f"({'ABC'[i]}) {c}" for i, c in enumerate(record["choices"])))]
        assert shown, record["id"]
    # ... but never a solution or an answer sentence.
    assert not any(s in t for t in texts for s in set(pool.table["solution"]) if s)
    assert not any("answer" in t.lower() for t in problems)
    with pytest.raises(ConfigError, match="data.base_text: 'solutions' is not one of"):
        load_config(overrides={"data.base_text": "lectures,solutions"})
    with pytest.raises(ConfigError, match="data.base_text is empty"):
        load_config(overrides={"data.base_text": ""})


def test_base_on_the_subset_reads_only_its_records(micro, toy_data, tmp_path):  # noqa: F811
    from vlprune.train.base import base_texts, text_examples
    from vlprune.train.data import caption_examples, make_encoder

    pool = load_pool("scienceqa", str(toy_data / "data"), split="train")
    manifest = write_manifest(toy_data / "data", tmp_path / "six.json", k=6)
    overrides = {"base.epochs": 1, "base.batch_size": 8, "data.base_text": "lectures,captions,problems"}
    cfg = load_config(overrides=micro_overrides(**overrides, **{"data.base_records": "subset"}))
    train(manifest, cfg, micro / "subset", evaluate_after=False, progress=False)
    from vlprune import SubsetManifest

    mine = pool.subset(SubsetManifest.load(manifest).positions_in(pool))
    bundle = build_model(cfg, pool)
    enc = make_encoder(bundle, cfg)
    expected = len(text_examples(base_texts(mine, cfg.data.base_text), enc)) + len(caption_examples(mine, enc))
    done = _events(micro / "subset", "base")[-1]
    assert done["event"] == "done" and done["sequences"] == expected
    # The whole pool's base reads more, under another cache key; both are reused, never mixed.
    train(manifest, load_config(overrides=micro_overrides(**overrides)), micro / "pool", evaluate_after=False,
          progress=False)
    whole = _events(micro / "pool", "base")[-1]
    assert whole["event"] == "done" and whole["sequences"] > expected and whole["cached"] != done["cached"]
    # Evaluation rebuilds the subset's base (the vision tower, frozen in stage 2, comes from it).
    restored, _, _ = restore_model(micro / "subset")
    base = load_file(str(Path(done["cached"]) / "model.safetensors"))
    tower = {k: v for k, v in restored.model.state_dict().items() if "vision_tower" in k}
    assert tower and all(torch.equal(v, base[k]) for k, v in tower.items() if k in base)
    assert sum(k in base for k in tower) == len(tower)


def test_stage1_on_llava_pretrain_json(micro, toy_data, tmp_path):  # noqa: F811
    """--stage1-data: image-caption conversations in LLaVA-Pretrain's layout."""
    from PIL import Image

    items = []
    for i, colour in enumerate(["red", "green", "blue"] * 3):
        (tmp_path / "img").mkdir(exist_ok=True)
        Image.new("RGB", (20, 20), {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255)}[colour]).save(
            tmp_path / "img" / f"{i}.png")
        items.append({"id": f"p{i}", "image": f"{i}.png", "conversations": [
            {"from": "human", "value": "<image>\nGive a brief description of the image."},
            {"from": "gpt", "value": f"a {colour} square"}]})
    (tmp_path / "pretrain.json").write_text(json.dumps(items))
    cfg = load_config(overrides=micro_overrides(**{"data.stage1_data": str(tmp_path / "pretrain.json"),
                                                   "data.stage1_image_folder": str(tmp_path / "img"),
                                                   "stage1.batch_size": 3}))
    train(toy_data / "subset.json", cfg, micro / "run", evaluate_after=False, progress=False)
    start = next(r for r in _events(micro / "run", "stage1") if r.get("event") == "start")
    assert start["examples"] == 9 and start["total_steps"] == 3


def test_a_log_without_a_terminal_gets_progress_lines(micro, toy_data, caplog):  # noqa: F811
    import logging

    cfg = load_config(overrides=micro_overrides())
    with caplog.at_level(logging.INFO, logger="vlprune"):
        result = train(toy_data / "subset.json", cfg, micro / "run", progress=False)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("stage2: step")]
    total = next(r for r in _events(micro / "run", "stage2") if r.get("event") == "start")["total_steps"]
    # The last step always gets its line, with the epoch, the loss and the time left.
    assert lines and lines[-1].startswith(f"stage2: step {total}/{total} (epoch ") and "00:00:00 left" in lines[-1]
    assert result.evaluation is not None and len(result.evaluation.predictions) == result.metrics["count"]


def test_train_takes_preloaded_pools(micro, toy_data):  # noqa: F811
    from vlprune.data.subset import SubsetManifest

    cfg = load_config(overrides=micro_overrides())
    manifest = SubsetManifest.load(toy_data / "subset.json")
    pool, test = manifest.load_pool(), manifest.load_pool(split="test")
    result = train(manifest, cfg, micro / "run", progress=False, pool=pool, eval_pool=test)
    assert result.evaluation.ids == [str(i) for i in test.ids]
    with pytest.raises(ConfigError, match="the evaluation pool is split 'train'"):
        train(manifest, cfg, micro / "other", progress=False, pool=pool, eval_pool=pool)
