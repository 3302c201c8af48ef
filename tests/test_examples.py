"""The example scripts users copy must run as written."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import vlprune

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name, *args, cwd):
    src = str(Path(vlprune.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_custom_selector_example(tmp_path):
    out = run_example("custom_selector.py", cwd=tmp_path)
    longest, random = (float(x) for x in out.split("longest-question ")[1].split(", random "))
    assert longest > random


def test_llava_json_example(tmp_path):
    out = run_example("select_llava_json.py", "--demo", "--k", "12", cwd=tmp_path)
    assert "selected per source:" in out
    assert (tmp_path / "subset_llava.json").exists() and (tmp_path / "subset_llava_train.json").exists()


def test_scienceqa_example_on_the_sample(sample_dir, tmp_path):
    out = run_example("select_scienceqa.py", str(sample_dir), "--k", "50", cwd=tmp_path)
    assert "hand-rules: k=50 of 1041 records" in out
    assert (tmp_path / "llava_random.json").exists()


@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_every_example_has_a_docstring_with_usage(script):
    text = (EXAMPLES / script).read_text()
    assert text.startswith('"""') and "python examples/" in text.split('"""')[1]
