"""The scale benchmarks run end to end at toy size (their figures come from full runs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(script: str, *args: str, block: tuple[str, ...] = ()) -> str:
    # The GPU machine has no faiss, datasets or platformdirs: make them unimportable here too.
    prelude = "".join(f"sys.modules[{m!r}] = None; " for m in block)
    code = (f"import sys, runpy; {prelude}sys.argv = [{script!r}, *{list(args)!r}]; "
            f"runpy.run_path({str(ROOT / 'benchmarks' / script)!r}, run_name='__main__')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_gpu_script_cpu_smoke_without_faiss_datasets_platformdirs():
    out = run("gpu_kcenter.py", "--cpu-smoke", block=("faiss", "datasets", "platformdirs"))
    lines = [ln for ln in out.splitlines() if ln.strip().startswith("3000")]
    assert len(lines) >= 4 and all("float" in ln for ln in lines)


def test_grid_benchmark_prints_every_method_and_a_valid_order():
    out = run("bench_kcenter.py", "--n", "4000", "--d", "16", "--k", "60", "--loop-steps", "10",
              "--backends", "bounds", "numpy", "--check-sample", "0")
    rows = [ln.split() for ln in out.splitlines() if ln.strip().startswith("4000")]
    methods = {r[4] for r in rows}
    assert {"bounds", "numpy", "numpy-loop"} <= methods
    for r in rows:
        if r[4] in ("bounds", "numpy"):
            assert float(r[12]) < 1e-5  # the violation column


@pytest.mark.parametrize(("script", "args", "expect"), [
    ("bench_farthest_point.py", ["--n", "3000", "--d", "16", "--k", "40"], "valid farthest-point order"),
    ("bench_kcenter_coreset.py", ["--n", "3000", "--d", "16", "--k", "30", "--partitions", "3"], "certified"),
])
def test_other_benchmarks_run(script, args, expect):
    assert expect in run(script, *args)
