import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import vlprune
from vlprune.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_select_on_synthetic_writes_manifest_and_summary(tmp_path, capsys):
    out_path = tmp_path / "subset.json"
    code, out, _ = run(capsys, "select", "--k", "30", "--size", "tiny", "--out", str(out_path),
                       "--selector", "hand-rules", "--by", "topic")
    assert code == 0
    assert "k=30 of 200 records" in out and "per subject:" in out
    assert "image share:" in out and "skills covered:" in out
    manifest = json.loads(out_path.read_text())
    assert manifest["k"] == 30 and manifest["dataset"]["loader"] == "synthetic"
    assert manifest["selector"] == {"name": "hand-rules", "params": {
        "rules": ["topic-coverage", "image-first", "difficulty"], "weights": None, "by": "topic",
        "score": "default"}}


def test_select_farthest_point_with_options_and_export(tmp_path, capsys):
    out_path, export = tmp_path / "s.json", tmp_path / "llava.json"
    code, out, _ = run(capsys, "select", "--k", "12", "--size", "tiny", "--out", str(out_path),
                       "--selector", "farthest-point", "--embedder", "tfidf", "--metric", "cosine",
                       "--start", "mean", "--export-llava", str(export))
    assert code == 0, out
    manifest = json.loads(out_path.read_text())
    assert manifest["selector"]["params"]["metric"] == "cosine"
    assert manifest["embedder"]["name"] == "tfidf"
    assert len(manifest["scores"]) == 12
    llava = json.loads(export.read_text())
    assert [r["id"] for r in llava] == manifest["ids"]


def test_select_with_precomputed_embeddings(tmp_path, capsys):
    emb = tmp_path / "emb.npy"
    np.save(emb, np.random.default_rng(0).normal(size=(200, 4)).astype(np.float32))
    code, _, _ = run(capsys, "select", "--k", "5", "--size", "tiny", "--out", str(tmp_path / "s.json"),
                     "--embeddings", str(emb))
    assert code == 0
    assert json.loads((tmp_path / "s.json").read_text())["embedder"]["params"]["label"] == str(emb)


def test_select_on_the_real_sample_and_inspect(sample_dir, tmp_path, capsys):
    out_path = tmp_path / "s.json"
    code, out, _err = run(capsys, "select", "--k", "100", "--dataset", "scienceqa", "--data", str(sample_dir),
                         "--selector", "stratified", "--by", "subject", "--out", str(out_path))
    assert code == 0
    assert "k=100 of 1041 records" in out
    code, out, _ = run(capsys, "inspect", str(out_path))
    assert code == 0
    assert "per subject:" in out and "grade histogram:" in out and "skills covered:" in out
    assert "natural science" in out


@pytest.mark.parametrize(("argv", "message"), [
    (["--k", "0", "--size", "tiny"], "k must be positive"),
    (["--k", "500", "--size", "tiny"], "k=500 is larger than the pool (200 records)"),
    (["--k", "5", "--size", "tiny", "--selector", "nope"], "unknown selector 'nope'"),
    (["--k", "5", "--size", "tiny", "--selector", "stratified", "--by", "colour"], "field 'colour'"),
    (["--k", "5", "--selector", "random", "--metric", "cosine"], "--metric does not apply to selector 'random'"),
    (["--k", "5", "--dataset", "scienceqa", "--data", "/nonexistent/sqa"], "file not found"),
    (["--k", "5", "--dataset", "scienceqa", "--size", "tiny"], "--size applies to --dataset synthetic only"),
    (["--k", "5", "--data", "x"], "drop --data"),
    (["--k", "5", "--size", "tiny", "--selector", "hand-rules", "--weights", "1,2"], "one weight per rule"),
    (["--k", "5", "--size", "tiny", "--embeddings", "/nonexistent.npy"], "file not found"),
    (["--k", "5", "--size", "tiny", "--export-llava", "/proc/forbidden/x.json"], "cannot write /proc/forbidden/x.json"),
])
def test_bad_input_is_one_line_exit_2_and_no_file(tmp_path, capsys, argv, message):
    out_path = tmp_path / "subset.json"
    code, _out, err = run(capsys, "select", "--out", str(out_path), *argv)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out_path.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".subset.json")]


def test_malformed_data_is_one_line(tmp_path, capsys):
    root = tmp_path / "sqa"
    root.mkdir()
    (root / "problems.json").write_text('{"1": {"question": "Q", "choices": ["a"], "answer": 0, "split": "train"}}')
    code, _, err = run(capsys, "select", "--k", "1", "--dataset", "scienceqa", "--data", str(root),
                       "--out", str(tmp_path / "s.json"))
    assert code == 2
    assert "problems.json: record '1', field 'choices': expected at least 2 choices" in err


def test_inspect_refuses_changed_data(tmp_path, capsys, sample_dir):
    import shutil

    data = tmp_path / "sqa"
    shutil.copytree(sample_dir, data)
    out_path = tmp_path / "s.json"
    assert run(capsys, "select", "--k", "10", "--dataset", "scienceqa", "--data", str(data),
               "--selector", "random", "--out", str(out_path))[0] == 0
    problems = json.loads((data / "problems.json").read_text())
    problems["1"]["question"] = "changed"
    (data / "problems.json").write_text(json.dumps(problems))
    code, _, err = run(capsys, "inspect", str(out_path))
    assert code == 2 and "--allow-mismatch" in err
    assert run(capsys, "inspect", str(out_path), "--allow-mismatch")[0] == 0


def test_console_entry_point_runs_as_a_subprocess(tmp_path):
    src = str(Path(vlprune.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-m", "vlprune", "select", "--k", "5", "--size", "tiny",
                           "--selector", "random", "--out", str(tmp_path / "s.json")],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "k=5 of 200 records" in proc.stdout
    help_proc = subprocess.run([sys.executable, "-m", "vlprune", "--help"], capture_output=True, text=True,
                               env=env, timeout=60)
    assert help_proc.returncode == 0 and "select" in help_proc.stdout
