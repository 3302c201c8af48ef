"""The scale benchmarks run end to end at toy size (their figures come from full runs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(script: str, *args: str, block: tuple[str, ...] = (), status: int = 0) -> str:
    # The GPU machine has no faiss, datasets or platformdirs: make them unimportable here too.
    prelude = "".join(f"sys.modules[{m!r}] = None; " for m in block)
    code = (f"import sys, runpy; {prelude}sys.argv = [{script!r}, *{list(args)!r}]; "
            f"runpy.run_path({str(ROOT / 'benchmarks' / script)!r}, run_name='__main__')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == status, out.stdout[-2000:] + out.stderr[-3000:]
    return out.stdout


def test_gpu_script_cpu_smoke_without_faiss_datasets_platformdirs():
    out = run("gpu_kcenter.py", "--cpu-smoke", block=("faiss", "datasets", "platformdirs"))
    rows = [ln.split() for ln in out.splitlines() if ln.strip().startswith("3000")]
    assert len(rows) >= 4 and {r[4] for r in rows} == {"float32", "float16"}
    assert all(float(r[10]) < 1e-5 for r in rows)  # per-step gap against the rows it stores


def test_grid_benchmark_prints_every_method_and_a_valid_order():
    out = run("bench_kcenter.py", "--n", "4000", "--d", "16", "--k", "60", "--loop-steps", "10",
              "--backends", "bounds", "numpy", "--check-sample", "0")
    rows = [ln.split() for ln in out.splitlines() if ln.strip().startswith("4000")]
    methods = {r[4] for r in rows}
    assert {"bounds", "numpy", "numpy-loop"} <= methods
    for r in rows:
        if r[4] in ("bounds", "numpy"):
            assert float(r[12]) < 1e-5  # the largest per-step gap
    assert out.splitlines()[-1].startswith("per-step check: PASS")


def test_paired_benchmark_times_both_engines_and_checks_their_orders():
    out = run("bench_kcenter_paired.py", "--n", "3000", "--d", "16", "--k", "40", "--check-sample", "0")
    ratios = {ln.split()[0]: float(ln.split()[-1]) for ln in out.splitlines()
              if ln.strip().startswith(("floor ", "auto (", "numpy "))}
    assert set(ratios) == {"floor", "auto", "numpy"} and ratios["floor"] == 1.0
    assert out.splitlines()[-1].startswith("verdict: PASS (orders identical: True")


def test_selector_benchmark_says_valid_and_fails_on_a_wrong_order():
    args = ["--n", "3000", "--d", "16", "--k", "40"]
    assert run("bench_farthest_point.py", *args).splitlines()[-1].startswith("verdict: valid")
    wrong = run("bench_farthest_point.py", *args, "--corrupt", status=1)
    assert wrong.splitlines()[-1].startswith("verdict: INVALID")


def test_coreset_benchmark_checks_its_bounds():
    out = run("bench_kcenter_coreset.py", "--n", "3000", "--d", "16", "--k", "30", "--partitions", "3")
    rows = [ln.split() for ln in out.splitlines() if ln.split()[:1] in (["isotropic"], ["clustered"])]
    assert len(rows) >= 4 and all(1.0 <= float(r[6]) <= 4.0 for r in rows)  # certified factors
    assert out.splitlines()[-1] == "verdict: bounds hold"
