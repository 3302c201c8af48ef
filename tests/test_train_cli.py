"""``vlprune train`` and ``vlprune eval`` end to end, and their errors: exit status 2, one
line, no output left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from train_utils import micro, toy_data, write_manifest, write_toy_scienceqa  # noqa: F401  (fixtures)
from vlprune.cli import main

MICRO_FLAGS = ["--preset", "micro", "--set", "base.epochs=0", "--epochs", "2", "--batch-size", "8",
               "--micro-batch-size", "4", "--stage1-batch-size", "8"]


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_then_eval_end_to_end(micro, toy_data, capsys):  # noqa: F811
    run = micro / "run"
    code, out, err = _run(capsys, "train", "--subset", str(toy_data / "subset.json"), "--out", str(run),
                          *MICRO_FLAGS, "--save-every", "2")
    assert code == 0, err
    assert "likelihood evaluation on test" in out and "G7-12" in out and "chance" in out
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["count"] == 12 and set(metrics["categories"]) == {"NAT", "SOC", "LAN", "TXT", "IMG", "NO",
                                                                      "G1-6", "G7-12"}
    assert len(json.loads((run / "predictions.json").read_text())["results"]) == 12
    config = (run / "config.yaml").read_text()
    assert "preset: micro" in config and "save_every: 2" in config
    log = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    assert any(r.get("stage") == "stage2" and "loss" in r and "tokens_per_s" in r for r in log)

    code, out, err = _run(capsys, "eval", "--run", str(run), "--mode", "generate", "--limit", "3")
    assert code == 0, err
    assert "generate evaluation on test" in out
    assert json.loads((run / "metrics-generate-test-first3.json").read_text())["count"] == 3


def test_yaml_config_and_projector_kind_flag(micro, toy_data, capsys):  # noqa: F811
    cfg = micro / "cfg.yaml"
    cfg.write_text("model:\n  preset: micro\nbase:\n  epochs: 0\nstage2:\n  epochs: 1\n  batch_size: 8\n"
                   "lora:\n  r: 2\n  alpha: 4\n")
    code, _, err = _run(capsys, "train", "--subset", str(toy_data / "subset.json"), "--out", str(micro / "run"),
                        "--config", str(cfg), "--projector", "linear", "--no-eval")
    assert code == 0, err
    written = (micro / "run" / "config.yaml").read_text()
    assert "projector: linear" in written and "r: 2" in written
    assert not (micro / "run" / "metrics.json").exists()


def _bad(capsys, micro, *argv):  # noqa: F811
    out_dir = micro / "bad-run"
    code, _, err = _run(capsys, "train", "--out", str(out_dir), *MICRO_FLAGS, *argv)
    assert code == 2
    lines = err.strip().splitlines()
    # One error line, last (warnings logged before it may precede it), and no traceback.
    errors = [line for line in lines if line.startswith("vlprune train: error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], err
    assert "Traceback" not in err
    assert not out_dir.exists()  # nothing written
    return errors[0]


def test_unknown_ids_are_listed(micro, toy_data, capsys, tmp_path):  # noqa: F811
    manifest = json.loads((toy_data / "subset.json").read_text())
    manifest["ids"] = [*manifest["ids"][:3], "nope1", "nope2"]
    (tmp_path / "s.json").write_text(json.dumps(manifest))
    message = _bad(capsys, micro, "--subset", str(tmp_path / "s.json"))
    assert "2 of 5 subset ids are not in this scienceqa pool" in message and "'nope1', 'nope2'" in message


def test_changed_dataset_is_refused_unless_allowed(micro, capsys, tmp_path):  # noqa: F811
    data = write_toy_scienceqa(tmp_path / "data")
    write_manifest(data, tmp_path / "s.json")
    problems = json.loads((data / "problems.json").read_text())
    problems["train3"]["question"] = "Which is a whale?"  # the dataset changed since selection
    (data / "problems.json").write_text(json.dumps(problems))
    message = _bad(capsys, micro, "--subset", str(tmp_path / "s.json"))
    assert "differs from the one this subset was selected from" in message and "--allow-mismatch" in message
    code, _, err = _run(capsys, "train", "--subset", str(tmp_path / "s.json"), "--out", str(micro / "ok"),
                        *MICRO_FLAGS, "--allow-mismatch", "--no-eval")
    assert code == 0, err


def test_missing_images_error_or_captions(micro, capsys, tmp_path):  # noqa: F811
    data = write_toy_scienceqa(tmp_path / "data", images=False)
    write_manifest(data, tmp_path / "s.json")
    message = _bad(capsys, micro, "--subset", str(tmp_path / "s.json"))
    assert "image problems in the subset have no image file" in message
    assert "record 'train" in message and "field 'image'" in message and "--caption-for-missing-images" in message
    code, out, err = _run(capsys, "train", "--subset", str(tmp_path / "s.json"), "--out", str(micro / "ok"),
                          *MICRO_FLAGS, "--caption-for-missing-images")
    assert code == 0, err
    assert "IMG" in out


@pytest.mark.parametrize("argv, expected", [
    (["--set", "stage2.lrr=1"], "unknown config key 'stage2.lrr'"),
    (["--set", "nonsense"], "--set takes KEY=VALUE"),
    (["--precision", "fp8"], "precision: 'fp8' is not one of"),
    (["--projector", "missing.safetensors"], "missing.safetensors: projector file not found"),
])
def test_bad_options(micro, toy_data, capsys, argv, expected):  # noqa: F811
    message = _bad(capsys, micro, "--subset", str(toy_data / "subset.json"), *argv)
    assert expected in message


def test_missing_subset_file(micro, capsys):  # noqa: F811
    message = _bad(capsys, micro, "--subset", str(micro / "none.json"))
    assert "none.json: file not found" in message


def test_eval_of_a_folder_that_is_not_a_run(micro, capsys):  # noqa: F811
    code, _, err = _run(capsys, "eval", "--run", str(micro))
    assert code == 2 and "not a vlprune run directory" in err


@pytest.mark.slow
def test_subprocess_and_accelerate_launch(tmp_path):
    """The real command lines: ``python -m vlprune train``, ``accelerate launch -m vlprune
    train`` and ``torchrun --nproc_per_node 2 -m vlprune train`` on the tiny preset (cut
    down), in fresh processes."""
    import vlprune

    write_toy_scienceqa(tmp_path / "data")
    write_manifest(tmp_path / "data", tmp_path / "subset.json")
    src = str(Path(vlprune.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": src, "VLPRUNE_CACHE_DIR": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    flags = ["--subset", str(tmp_path / "subset.json"), "--preset", "tiny", "--set", "base.epochs=0",
             "--set", "model.vocab_size=400", "--epochs", "1", "--batch-size", "8", "--stage1-batch-size", "8"]
    done = subprocess.run([sys.executable, "-m", "vlprune", "train", "--out", str(tmp_path / "a"), *flags],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    accelerate = Path(sys.executable).with_name("accelerate")
    done = subprocess.run([str(accelerate), "launch", "--cpu", "--num_processes", "1", "--num_machines", "1",
                           "--mixed_precision", "no", "--dynamo_backend", "no",
                           "-m", "vlprune", "train", "--out", str(tmp_path / "b"), *flags],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    # Two processes (DDP over gloo, what accelerate uses on several GPUs): each step's global
    # batch is split between them, and the losses are those of the single process.
    torchrun = Path(sys.executable).with_name("torchrun")
    done = subprocess.run([str(torchrun), "--nproc_per_node", "2", "-m", "vlprune", "train",
                           "--out", str(tmp_path / "c"), *flags], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr

    def stage2(run):
        lines = [json.loads(line) for line in (tmp_path / run / "train_log.jsonl").read_text().splitlines()]
        assert lines[0]["processes"] == (2 if run == "c" else 1)
        return [r["loss"] for r in lines if r.get("stage") == "stage2" and "loss" in r]

    assert stage2("a") == stage2("b")
    assert stage2("c") == pytest.approx(stage2("a"), abs=1e-4)
    metrics = {run: json.loads((tmp_path / run / "metrics.json").read_text()) for run in "abc"}
    assert metrics["a"]["accuracy"] == metrics["b"]["accuracy"] == metrics["c"]["accuracy"]


def test_answer_flag_sets_the_answer_format():
    from vlprune.cli import build_parser, train_overrides

    args = build_parser().parse_args(["train", "--subset", "s.json", "--answer", "text"])
    assert train_overrides(args)["data.answer"] == "text"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--subset", "s.json", "--answer", "word"])
