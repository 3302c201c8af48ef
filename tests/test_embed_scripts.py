"""The embedder benchmark scripts run (slow: real sizes and model loads)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import vlprune

REPO = Path(__file__).resolve().parents[1]
SRC = str(Path(vlprune.__file__).resolve().parents[1])


def run_script(name: str, *args: str, tmp_path: Path) -> str:
    env = {**os.environ, "PYTHONPATH": SRC, "VLPRUNE_CACHE_DIR": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, str(REPO / "benchmarks" / name), *args], capture_output=True,
                         text=True, env=env, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


@pytest.mark.slow
def test_gpu_script_cpu_smoke(tmp_path):
    out = run_script("gpu_embed.py", "--cpu-smoke", "--n", "24", tmp_path=tmp_path)
    assert "| clip (tiny) | bfloat16 | 24 |" in out and "| llava (tiny) | bfloat16 | 24 |" in out
    assert "all checks passed" in out


@pytest.mark.slow
def test_bench_embed_on_the_tiny_synthetic_split(tmp_path):
    out = run_script("bench_embed.py", "--size", "tiny", "--embedders", "tfidf,clip-tiny", tmp_path=tmp_path)
    assert "| tfidf | 200 |" in out and "| clip-tiny | 200 |" in out


@pytest.mark.slow
def test_embed_quality_on_the_small_synthetic_split(tmp_path):
    out = run_script("embed_quality.py", "--size", "small", "--k", "50", "--embedders", "tfidf,tfidf+pixels",
                     tmp_path=tmp_path)
    assert "| `tfidf` |" in out and "| `tfidf+pixels` |" in out
