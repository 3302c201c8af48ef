"""Issue 15, case by case: an ordinary mistake is one line and exit status 2 (no traceback),
found before any work, and changes no input and no earlier output; outputs never destroy
inputs; Ctrl-C and an unreachable hub act at once; manifests carry their provenance.

CLI cases go through the entry point (``vlprune.cli.main``). The cases other suites own:
malformed records, empty pools, missing pids, escaping image paths, LLaVA records and corrupt
parquet files (tests/test_data_validation.py), and compare's input checks (tests/test_compare*.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import vlprune
from _embed_data import write_mixed_pool
from train_utils import micro, toy_data  # noqa: F401  (fixtures)
from vlprune.cli import main
from vlprune.errors import ConfigError
from vlprune.io import _umask

SRC = str(Path(vlprune.__file__).resolve().parents[1])


# -- helpers --------------------------------------------------------------------------------------
def snapshot(*paths: Path | str) -> dict[str, tuple | None]:
    """Content hash, mode and link target of every file under ``paths`` (None: absent)."""
    state: dict[str, tuple | None] = {}
    for root in map(Path, paths):
        files = [root] if not root.is_dir() or root.is_symlink() else sorted(p for p in root.rglob("*"))
        for f in files:
            if not f.exists() and not f.is_symlink():
                state[str(f)] = None
            elif f.is_symlink():
                state[str(f)] = ("link", os.readlink(f))
            elif f.is_file():
                st = f.stat()
                state[str(f)] = (hashlib.sha256(f.read_bytes()).hexdigest(), stat.S_IMODE(st.st_mode))
    return state


def cli(capsys, *argv: str, keep: tuple = ()) -> tuple[int, str, str]:
    """Run the entry point; check that nothing under ``keep`` changed and that no traceback
    was printed."""
    before = snapshot(*keep)
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "Traceback" not in out
    assert snapshot(*keep) == before, "an input or an earlier output changed"
    return code, out, err


def refused(result: tuple[int, str, str], message: str) -> str:
    """Exit status 2 and one error line (the mixed pool's missing-images warning aside)
    containing ``message``; returns the line."""
    code, _, err = result
    lines = [line for line in err.splitlines() if line.strip() and "images were not found" not in line]
    assert code == 2, err
    assert len(lines) == 1, err
    assert message in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def data(tmp_path) -> Path:
    """A small ScienceQA-layout folder (24 records, some images)."""
    return write_mixed_pool(tmp_path / "sqa")


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("VLPRUNE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def sqa(data: Path) -> list[str]:
    return ["--dataset", "scienceqa", "--data", str(data)]


# -- outputs that would destroy inputs ------------------------------------------------------------
def test_select_out_onto_the_dataset_is_refused(data, tmp_path, capsys):
    result = cli(capsys, "-q", "select", "--k", "3", "--selector", "random", *sqa(data),
                 "--out", str(data / "problems.json"), keep=(data,))
    refused(result, f"--out {data / 'problems.json'} would overwrite an input of this command")


def test_select_export_onto_the_captions_is_refused(data, tmp_path, capsys):
    out = tmp_path / "s.json"
    result = cli(capsys, "-q", "select", "--k", "3", "--selector", "random", *sqa(data), "--out", str(out),
                 "--export-llava", str(data / "captions.json"), keep=(data, out))
    refused(result, "--export-llava")
    assert not out.exists()


def test_select_out_onto_the_embeddings_is_refused(data, tmp_path, capsys):
    emb = tmp_path / "emb.npy"
    np.save(emb, np.random.default_rng(0).normal(size=(24, 4)).astype(np.float32))
    result = cli(capsys, "-q", "select", "--k", "3", *sqa(data), "--embeddings", str(emb), "--out", str(emb),
                 keep=(data, emb))
    refused(result, "would overwrite an input of this command")


def test_select_out_and_export_naming_one_file_is_refused(data, tmp_path, capsys):
    target = tmp_path / "x.json"
    target.write_text("earlier output\n")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    for export in (target, link):  # the same path, or the same file through a link
        result = cli(capsys, "-q", "select", "--k", "3", "--selector", "random", *sqa(data), "--out", str(target),
                     "--export-llava", str(export), keep=(data, target, link))
        refused(result, "--out and --export-llava name the same file")


def test_symlinked_output_is_written_through_with_its_mode(data, tmp_path, capsys):
    real = tmp_path / "real"
    real.mkdir()
    target = real / "subset.json"
    target.write_text("{}")
    os.chmod(target, 0o640)
    link = tmp_path / "subset.json"
    link.symlink_to(target)
    code, out, _ = cli(capsys, "-q", "select", "--k", "3", "--selector", "random", *sqa(data), "--out", str(link),
                       keep=(data,))
    assert code == 0, out
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert json.loads(target.read_text())["k"] == 3
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_embed_out_onto_its_inputs_is_refused(data, tmp_path, capsys, cache):
    assert main(["-q", "embed", "--embedder", "tfidf", *sqa(data), "--shard", "0/2", "--out",
                 str(tmp_path / "s0.npy")]) == 0
    assert main(["-q", "embed", "--embedder", "tfidf", *sqa(data), "--shard", "1/2", "--out",
                 str(tmp_path / "s1.npy")]) == 0
    capsys.readouterr()
    shards = [str(tmp_path / "s0.npy"), str(tmp_path / "s1.npy")]
    result = cli(capsys, "-q", "embed", "--merge", *shards, "--out", shards[0], keep=(tmp_path / "s0.npy",))
    refused(result, "would overwrite an input of this command")
    result = cli(capsys, "-q", "embed", "--embedder", "tfidf", *sqa(data), "--out", str(data / "problems.json"),
                 keep=(data,))
    refused(result, "would overwrite an input of this command")


# -- ordinary mistakes: one line, exit 2, before any work -----------------------------------------
def _builtin_selectors() -> list[str]:
    from vlprune.select.base import selectors

    return [name for name, cls in selectors.items() if cls.__module__.startswith("vlprune.")]


@pytest.mark.parametrize("selector", _builtin_selectors())
def test_negative_seed_is_refused_for_every_selector(selector, tmp_path, capsys):
    from vlprune import load_pool
    from vlprune.select.base import get_selector

    out = tmp_path / "s.json"
    # The dataset does not exist: the seed is checked before any data is read.
    result = cli(capsys, "-q", "select", "--k", "3", "--selector", selector, "--seed", "-1",
                 "--dataset", "scienceqa", "--data", str(tmp_path / "missing"), "--out", str(out))
    refused(result, "--seed must be a non-negative integer, got -1")
    assert not out.exists()
    pool = load_pool("synthetic", size="tiny")
    with pytest.raises(ConfigError, match="seed must be a non-negative integer"):
        get_selector(selector).select(pool, 3, seed=-1)


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="the machine has a CUDA GPU")
def test_cuda_on_a_machine_without_one_is_refused_before_any_work(tmp_path, capsys):
    out = tmp_path / "s.json"
    missing = ["--dataset", "scienceqa", "--data", str(tmp_path / "missing")]  # never read
    result = cli(capsys, "-q", "select", "--k", "3", "--selector", "farthest-point", "--embedder", "tfidf",
                 "--device", "cuda", *missing, "--out", str(out))
    refused(result, "device 'cuda' was asked for but torch sees no CUDA GPU")
    result = cli(capsys, "-q", "embed", "--embedder", "minilm", "--device", "cuda", *missing,
                 "--out", str(tmp_path / "e.npy"))
    refused(result, "device 'cuda' was asked for but torch sees no CUDA GPU")
    assert not out.exists() and not (tmp_path / "e.npy").exists()


def _write_bad_embeddings(folder: Path) -> dict[str, tuple[Path, str]]:
    folder.mkdir()
    cases = {}

    def case(name: str, message: str) -> Path:
        cases[name] = (folder / name, message)
        return folder / name

    np.savez(case("x.npz", "an .npz archive (arrays: vectors), not one .npy array"), vectors=np.ones((24, 3)))
    np.save(case("text.npy", "expected real numbers, got dtype <U1 (text)"), np.array([["a", "b"]] * 24))
    np.save(case("flat.npy", "expected a 2-d array (rows x dimensions), got shape (24,)"), np.arange(24.0))
    np.save(case("objects.npy", "the array holds Python objects, not numbers"),
            np.array([1, "a", None] * 8, dtype=object), allow_pickle=True)
    case("notes.txt", "not a .npy array file").write_text("1 2 3\n")
    return cases


def test_unusable_embeddings_files_are_named_errors(data, tmp_path, capsys):
    out = tmp_path / "s.json"
    for path, message in _write_bad_embeddings(tmp_path / "bad").values():
        result = cli(capsys, "-q", "select", "--k", "3", *sqa(data), "--embeddings", str(path), "--out", str(out),
                     keep=(data, path))
        line = refused(result, message)
        assert str(path) in line
        assert not out.exists()


def test_embeddings_as_python_lists_are_taken_as_arrays():
    from vlprune import FarthestPointSelector, load_pool
    from vlprune.embed.precomputed import PrecomputedEmbedder

    X = np.random.default_rng(0).normal(size=(200, 3))
    as_array = FarthestPointSelector(start="mean").select(X, 5)
    as_list = FarthestPointSelector(start="mean").select(X.tolist(), 5)
    assert as_list.ids == as_array.ids
    pool = load_pool("synthetic", size="tiny")
    selection = FarthestPointSelector(embedder=PrecomputedEmbedder(X.tolist()), start="mean").select(pool, 5)
    assert selection.positions.tolist() == as_array.positions.tolist()
    with pytest.raises(ConfigError, match="rows of one length"):
        FarthestPointSelector().select([[1.0, 2.0], [3.0]], 1)
    with pytest.raises(ConfigError, match="2-D array"):
        FarthestPointSelector(embedder=PrecomputedEmbedder(list(range(200)))).select(pool, 5)
    with pytest.raises(ConfigError, match="takes a Pool or an"):
        FarthestPointSelector().select("rows.npy", 1)


def test_embed_shard_with_a_negative_index_gets_the_shard_message(data, tmp_path, capsys, cache):
    result = cli(capsys, "-q", "embed", "--embedder", "tfidf", *sqa(data), "--shard", "-1/4",
                 "--out", str(tmp_path / "e.npy"), keep=(data,))
    refused(result, "shard '-1/4': the index counts from 0, so it must lie in 0..3")


def _manifest(data: Path, tmp_path: Path, capsys) -> dict:
    good = tmp_path / "good.json"
    assert main(["-q", "select", "--k", "4", "--selector", "random", *sqa(data), "--out", str(good)]) == 0
    capsys.readouterr()
    return json.loads(good.read_text())


@pytest.mark.parametrize(("change", "field", "message"), [
    (lambda d: d.update(selector="random"), "selector", "expected an object"),
    (lambda d: d.update(selector={"name": "random", "params": [1]}), "selector.params", "expected an object"),
    (lambda d: d["dataset"]["options"].update(colour="red"), "dataset.options",
     "loader 'scienceqa' takes no option(s) colour (its options: image_folder, captions, require_images)"),
    (lambda d: d["dataset"].update(options=["a"]), "dataset", "expected"),
    (lambda d: d.update(seed="zero"), "seed", "expected an integer or null"),
])
def test_malformed_manifest_fields_in_inspect_and_train(data, tmp_path, capsys, change, field, message):
    manifest = _manifest(data, tmp_path, capsys)
    change(manifest)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(manifest))
    run = tmp_path / "run"
    for argv in (["inspect", str(bad)], ["inspect", str(bad), "--card"],
                 ["train", "--subset", str(bad), "--preset", "tiny", "--out", str(run)]):
        line = refused(cli(capsys, "-q", *argv, keep=(data, bad)), message)
        assert line.startswith(f"vlprune {argv[0]}: error: {bad}: field '{field}'")
    assert not run.exists()


# -- degenerate embeddings through select --embeddings --------------------------------------------
@pytest.mark.parametrize(("rows", "message"), [
    (np.ones((24, 4), dtype=np.float32), "all 24 embedding rows are identical"),
    (np.zeros((24, 4), dtype=np.float32), "all 24 embedding rows are identical"),
    (np.zeros((24, 0), dtype=np.float32), "no dimensions (d = 0)"),
    ((np.ones((24, 2)) + 1j).astype(np.complex64), "expected real numbers, got dtype complex64"),
    (np.full((24, 2), np.nan, dtype=np.float32), "NaN or infinite"),
])
def test_degenerate_embeddings_are_refused(data, tmp_path, capsys, rows, message):
    emb, out = tmp_path / "emb.npy", tmp_path / "s.json"
    np.save(emb, rows)
    result = cli(capsys, "-q", "select", "--k", "3", *sqa(data), "--embeddings", str(emb), "--out", str(out),
                 keep=(data, emb))
    refused(result, message)
    assert not out.exists()


def test_fewer_distinct_embedding_rows_than_k_is_a_warning(data, tmp_path, capsys):
    emb, out = tmp_path / "emb.npy", tmp_path / "s.json"
    np.save(emb, np.repeat(np.eye(3, dtype=np.float32), 8, axis=0))  # 24 rows, 3 distinct
    code, _, err = cli(capsys, "-q", "select", "--k", "5", *sqa(data), "--embeddings", str(emb),
                       "--out", str(out), keep=(data, emb))
    assert code == 0
    assert "only 3 of the 24 embedding rows are distinct, fewer than k=5" in err
    assert json.loads(out.read_text())["k"] == 5


# -- provenance: the manifest and the subset card -------------------------------------------------
def test_python_and_cli_manifests_record_the_same_embedder_and_the_versions(data, tmp_path, capsys, cache):
    from vlprune import FarthestPointSelector, SubsetManifest
    from vlprune.data.loaders import load_pool

    out = tmp_path / "cli.json"
    assert main(["-q", "select", "--k", "5", *sqa(data), "--embedder", "tfidf", "--out", str(out)]) == 0
    cli_manifest = json.loads(out.read_text())
    pool = load_pool("scienceqa", str(data))
    selection = FarthestPointSelector(embedder="tfidf").select(pool, 5, seed=0)
    SubsetManifest.from_selection(selection, pool).save(tmp_path / "py.json")
    py_manifest = json.loads((tmp_path / "py.json").read_text())
    assert py_manifest["embedder"] == cli_manifest["embedder"] and py_manifest["embedder"]["name"] == "tfidf"
    assert py_manifest["ids"] == cli_manifest["ids"]
    versions = cli_manifest["versions"]
    assert {"vlprune", "numpy", "faiss", "torch", "transformers", "python"} <= set(versions)
    assert versions["numpy"] == np.__version__ and versions["vlprune"] == vlprune.__version__
    import torch

    assert versions["torch"] == torch.__version__


def test_manifest_records_the_model_weights_hash(data, tmp_path, capsys, cache, clip_path):
    out = tmp_path / "s.json"
    assert main(["-q", "select", "--k", "5", *sqa(data), "--embedder", "clip", "--model", clip_path,
                 "--out", str(out)]) == 0
    embedder = json.loads(out.read_text())["embedder"]
    from vlprune.embed.runtime import model_signature

    assert embedder["extras"]["weights"] == model_signature(clip_path)
    assert embedder["extras"]["precision"] == "float32"


def test_old_manifests_without_versions_still_load(data, tmp_path, capsys):
    manifest = _manifest(data, tmp_path, capsys)
    del manifest["versions"]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(manifest))
    code, out, _ = cli(capsys, "-q", "inspect", str(old), "--card", keep=(old, data))
    assert code == 0
    assert "predates version records" in out


def test_subset_card_describes_and_reproduces_the_subset(data, tmp_path, capsys, cache, monkeypatch):
    out = tmp_path / "s.json"
    assert main(["-q", "select", "--k", "6", *sqa(data), "--selector", "farthest-point", "--embedder", "tfidf",
                 "--metric", "cosine", "--seed", "3", "--out", str(out)]) == 0
    capsys.readouterr()
    card_path = tmp_path / "card.md"
    code, printed, _ = cli(capsys, "-q", "inspect", str(out), "--card", str(card_path), keep=(out, data))
    assert code == 0 and printed.strip() == f"wrote {card_path}"
    card = card_path.read_text()
    manifest = json.loads(out.read_text())
    ids_hash = "sha256:" + hashlib.sha256("\n".join(manifest["ids"]).encode()).hexdigest()
    for expected in ("# Subset card: s.json", "**6 records** chosen by **farthest-point**", "| seed | 3 |",
                     "`metric=cosine`", manifest["dataset"]["fingerprint"], ids_hash,
                     manifest["embedder"]["fingerprint"], f"| numpy | {np.__version__} | {np.__version__} |",
                     "| natural science |", "skills covered:", "## Reproduce"):
        assert expected in card, expected
    # Stdout without FILE: the same card.
    assert cli(capsys, "-q", "inspect", str(out), "--card")[1].strip() == card.strip()
    # The command in the card makes the same subset again.
    command = card.split("```sh\n")[1].split("\n```")[0]
    argv = command.split()
    assert argv[:2] == ["vlprune", "select"] and argv[argv.index("--out") + 1] == "s.json"
    monkeypatch.chdir(tmp_path)
    again = tmp_path / "again"
    again.mkdir()
    argv[argv.index("--out") + 1] = str(again / "s.json")
    assert main(["-q", *argv[1:]]) == 0
    assert json.loads((again / "s.json").read_text())["ids"] == manifest["ids"]


def test_card_refuses_to_overwrite_the_manifest(data, tmp_path, capsys):
    manifest = _manifest(data, tmp_path, capsys)
    path = tmp_path / "m.json"
    path.write_text(json.dumps(manifest))
    refused(cli(capsys, "-q", "inspect", str(path), "--card", str(path), keep=(path, data)),
            "--card")


# -- help, common options, validation before loading ----------------------------------------------
def test_select_help_lists_allowed_values_and_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["select", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "stratified: proportional|equal|sqrt; default proportional" in text
    assert "--metric VALUE" in text and "farthest-point: l2|cosine; default l2" in text


def test_selector_parameters_are_checked_before_the_dataset_is_read(tmp_path, capsys):
    missing = ["--dataset", "scienceqa", "--data", str(tmp_path / "missing")]
    result = cli(capsys, "-q", "select", "--k", "3", "--selector", "stratified", "--allocation", "even", *missing,
                 "--out", str(tmp_path / "s.json"))
    refused(result, "allocation must be one of proportional, equal, sqrt, not 'even'")


@pytest.mark.parametrize("command", ["select", "embed", "train", "compare", "inspect", "eval"])
def test_every_command_takes_the_common_options(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = capsys.readouterr().out
    assert "--cache-dir DIR" in text and "VLPRUNE_CACHE_DIR" in " ".join(text.split())
    assert "-q, --quiet" in text and "--debug" in text


def test_quiet_debug_and_cache_dir_after_the_subcommand(data, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("VLPRUNE_CACHE_DIR", raising=False)
    out, own = tmp_path / "s.json", tmp_path / "own-cache"
    code, _, err = cli(capsys, "select", "--k", "3", "--selector", "random", "--size", "tiny", "--out", str(out),
                       "-q", "--cache-dir", str(own))
    assert code == 0 and err == ""  # -q: not even "generating the synthetic dataset"
    assert list((own / "synthetic").glob("v*-train200-val50-test50/problems.json"))
    code, _, err = cli(capsys, "select", "--k", "3", "--selector", "random", "--size", "tiny", "--out", str(out),
                       "--cache-dir", str(tmp_path / "other-cache"))
    assert code == 0 and "generating the synthetic dataset" in err
    with pytest.raises(ConfigError, match="k must be positive"):
        main(["select", "--k", "0", *sqa(data), "--out", str(out), "--debug"])
    assert main(["select", "--k", "0", *sqa(data), "--out", str(out)]) == 2


def test_every_message_is_shown_once(tmp_path):
    """huggingface_hub prints its warnings itself and still hands them to the root logger:
    the command line's handler must not print them a second time."""
    script = ("import logging, sys, huggingface_hub.utils._http  # installs the library's own handler\n"
              "from vlprune.cli import main\n"
              "assert main(['inspect', sys.argv[1]]) == 2\n"
              "logging.getLogger('huggingface_hub.utils._http').warning('Retrying in 1s [Retry 1/5].')\n"
              "logging.getLogger('vlprune').warning('a vlprune warning')\n")
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path / "missing.json")], capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("Retrying in 1s [Retry 1/5].") == 1, proc.stderr
    assert proc.stderr.count("a vlprune warning") == 1, proc.stderr


# -- progress in a log ----------------------------------------------------------------------------
def test_training_logs_progress_lines_when_stderr_is_not_a_terminal(micro, toy_data, capsys):  # noqa: F811
    code = main(["train", "--subset", str(toy_data / "subset.json"), "--out", str(micro / "run"),
                 "--preset", "micro", "--set", "base.epochs=0", "--epochs", "2", "--batch-size", "8",
                 "--micro-batch-size", "4", "--stage1-batch-size", "8", "--no-eval"])
    err = capsys.readouterr().err
    assert code == 0, err
    lines = [line for line in err.splitlines() if "stage2: step" in line]
    assert lines, err
    assert lines[-1].startswith("vlprune: stage2: step 6/6 (epoch 2.0), loss ")
    assert lines[-1].endswith("00:00:00 left")


# -- Ctrl-C during the synthetic generation, and what a killed one leaves -------------------------
_GENERATE = """
import sys
from vlprune.data.synthetic import generate
generate.CHUNK = 5000  # two long chunks: the old pool waited for both to finish (minutes)
from vlprune.cli import main
sys.exit(main(["select", "--k", "5", "--selector", "random", "--size", "train=10000,val=0,test=0",
               "--out", sys.argv[1]]))
"""


def _start_generation(cache: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "VLPRUNE_CACHE_DIR": str(cache),
           "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-c", _GENERATE, str(out)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:  # until both workers are writing images
        if len(list((cache / "synthetic").glob(".*/*/images/train/*"))) >= 6:
            return proc
        if proc.poll() is not None:
            pytest.fail(f"generation ended early: {proc.communicate()}")
        time.sleep(0.1)
    proc.kill()
    pytest.fail("generation did not start")


def test_ctrl_c_stops_the_synthetic_generation_at_once_and_leaves_nothing(tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "s.json"
    proc = _start_generation(cache, out)
    proc.send_signal(signal.SIGINT)
    try:
        # A generous bound against a loaded machine; the old behaviour waited for whole
        # 5000-problem chunks, far beyond it.
        _, err = proc.communicate(timeout=45)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the process did not act on Ctrl-C")
    assert proc.returncode == 130, err
    assert "vlprune: interrupted" in err and "Traceback" not in err
    assert sorted(p.name for p in (cache / "synthetic").iterdir()) == []
    assert not out.exists()


def _children(pid: int) -> list[int]:
    """Live child processes of ``pid`` (Linux /proc)."""
    kids = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                kids.append(int(stat_file.parent.name))
    return kids


def _alive(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_killed_generation_is_cleaned_up_by_the_next_run(tmp_path, monkeypatch):
    from vlprune.data.synthetic_loader import synthetic_root

    cache, out = tmp_path / "cache", tmp_path / "s.json"
    proc = _start_generation(cache, out)
    workers = _children(proc.pid)
    assert workers
    proc.kill()
    proc.communicate()
    deadline = time.monotonic() + 30
    while any(map(_alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(map(_alive, workers)), "the workers of a killed run went on"
    left = [p for p in (cache / "synthetic").iterdir() if p.name.startswith(".")]
    assert len(left) == 1 and (left[0] / ".lock").exists()
    monkeypatch.setenv("VLPRUNE_CACHE_DIR", str(cache))
    synthetic_root(0, "tiny")  # young: it could be a live run's, so it is kept
    assert left[0].exists()
    old = time.time() - 600
    os.utime(left[0], (old, old))
    synthetic_root(0, "tiny")
    assert not [p for p in (cache / "synthetic").iterdir() if p.name.startswith(".")]


def test_a_live_runs_folder_is_never_removed(tmp_path):
    from vlprune.io import remove_stale_dirs, work_dir

    old = time.time() - 10 * 24 * 3600
    with work_dir(tmp_path, ".live.") as live:
        os.utime(live, (old, old))
        lockless_old, lockless_young = tmp_path / ".old.x", tmp_path / ".young.x"
        lockless_old.mkdir()
        lockless_young.mkdir()
        os.utime(lockless_old, (old, old))
        (tmp_path / "dataset").mkdir()
        os.utime(tmp_path / "dataset", (old, old))
        assert remove_stale_dirs(tmp_path, ".") == [lockless_old]
        assert live.exists() and lockless_young.exists() and (tmp_path / "dataset").exists()
    assert not live.exists()


# -- cache folders follow the umask ---------------------------------------------------------------
def test_synthetic_and_tokenizer_cache_folders_follow_the_umask(tmp_path, monkeypatch):
    from vlprune import load_pool
    from vlprune.data.synthetic_loader import synthetic_root
    from vlprune.train.tokenizer import preset_tokenizer

    monkeypatch.setenv("VLPRUNE_CACHE_DIR", str(tmp_path / "cache"))
    expected = 0o777 & ~_umask()
    root = synthetic_root(0, {"train": 30, "val": 5, "test": 5})
    assert stat.S_IMODE(root.stat().st_mode) == expected
    assert stat.S_IMODE((root / "images").stat().st_mode) == expected
    _, key = preset_tokenizer(load_pool("synthetic", size={"train": 30, "val": 5, "test": 5}), 300, "plain")
    folder = tmp_path / "cache" / "train" / "tokenizers" / key
    assert stat.S_IMODE(folder.stat().st_mode) == expected


# -- an unreachable hub ---------------------------------------------------------------------------
@pytest.fixture
def no_hub(monkeypatch):
    """The hub's address is a closed local port: unreachable, whatever this machine's network."""
    from huggingface_hub import constants

    import vlprune.hub

    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(vlprune.hub, "_probes", {})
    return constants


def test_a_model_hub_id_fails_at_once_when_the_hub_is_unreachable(data, tmp_path, capsys, cache, no_hub,
                                                                   monkeypatch):
    monkeypatch.setattr(no_hub, "HF_HUB_CACHE", str(tmp_path / "hub"))
    out = tmp_path / "e.npy"
    started = time.monotonic()
    result = cli(capsys, "-q", "embed", "--embedder", "clip", "--model", "vlprune-test/no-such-clip", *sqa(data),
                 "--out", str(out), keep=(data,))
    line = refused(result, "cannot load CLIP model 'vlprune-test/no-such-clip': the Hugging Face hub "
                           "(127.0.0.1) cannot be reached and it is not in the local hub cache")
    assert "--model PATH" in line and "Retrying" not in result[2]
    assert time.monotonic() - started < 20  # no retries (they took 24-54 s)
    assert not out.exists() and no_hub.HF_HUB_OFFLINE is False


def test_a_cached_hub_model_loads_without_the_hub(data, tmp_path, capsys, cache, no_hub, clip_path, monkeypatch):
    import shutil

    hub = tmp_path / "hub"
    commit = "0" * 40
    repo = hub / "models--vlprune-test--tiny-clip"
    shutil.copytree(clip_path, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr(no_hub, "HF_HUB_CACHE", str(hub))
    out = tmp_path / "e.npy"
    code, _, err = cli(capsys, "-q", "embed", "--embedder", "clip", "--model", "vlprune-test/tiny-clip",
                       *sqa(data), "--out", str(out), keep=(data,))
    assert code == 0, err
    assert np.load(out).shape[0] == 24 and "Retrying" not in err
    assert no_hub.HF_HUB_OFFLINE is False  # offline for the load only


def test_a_reachable_hub_is_left_alone(monkeypatch):
    from huggingface_hub import constants

    import vlprune.hub
    from vlprune.hub import hub_models, require_models

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    try:
        monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{server.getsockname()[1]}")
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(vlprune.hub, "_probes", {})
        for var in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.delenv(var, raising=False)
        assert require_models(("vlprune-test/not-cached", "CLIP model", "--model PATH")) == []
        with hub_models(("vlprune-test/not-cached", "CLIP model", "--model PATH")):
            assert constants.HF_HUB_OFFLINE is False  # a user with a network still downloads
    finally:
        server.close()


def test_train_with_an_unreachable_llm_hub_id_fails_at_once(micro, toy_data, capsys, no_hub,  # noqa: F811
                                                            monkeypatch, tmp_path):
    monkeypatch.setattr(no_hub, "HF_HUB_CACHE", str(tmp_path / "hub"))
    run = micro / "run"
    result = cli(capsys, "-q", "train", "--subset", str(toy_data / "subset.json"), "--out", str(run),
                 "--llm", "vlprune-test/no-such-llm", "--vision", "vlprune-test/no-such-clip",
                 keep=(toy_data,))
    line = refused(result, "cannot load LLM 'vlprune-test/no-such-llm': the Hugging Face hub")
    assert "--llm PATH" in line and "Retrying" not in result[2]


def test_a_hub_dataset_fails_at_once_when_the_hub_is_unreachable(tmp_path, capsys, no_hub, cache):
    out = tmp_path / "s.json"
    result = cli(capsys, "-q", "select", "--k", "3", "--selector", "random", "--dataset", "hf",
                 "--data", "vlprune-test/no-such-dataset", "--out", str(out))
    line = refused(result, "the Hugging Face hub (127.0.0.1) cannot be reached and the dataset is not in the "
                           "local cache")
    assert "--data PATH" in line and "Retrying" not in result[2]
    assert not out.exists()


def test_a_missing_model_folder_is_named_without_asking_the_hub(data, tmp_path, capsys, cache, no_hub):
    folder = tmp_path / "models" / "clip"
    result = cli(capsys, "-q", "embed", "--embedder", "clip", "--model", str(folder), *sqa(data),
                 "--out", str(tmp_path / "e.npy"), keep=(data,))
    refused(result, f"cannot load CLIP model '{folder}': there is no such folder (--model PATH takes")
