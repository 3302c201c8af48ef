"""The score and graph selectors' benchmarks run end to end at toy size."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_scale_benchmarks import run

APRICOT = Path("/tmp/apricot-venv/bin/python")


def test_scale_benchmark_gives_score_selectors_a_synthetic_score(tmp_path):
    out = run("bench_selectors_scale.py", "--n", "3000", "--d", "16", "--k", "200",
              "--selectors", "ccs,d2-pruning,facility-location",
              "--matrix", str(tmp_path / "m-{n}x{d}.npy"), "--score-file", str(tmp_path / "s-{n}x{d}.npy"))
    rows = {line.split()[0]: line for line in out.splitlines()[2:]}
    assert set(rows) == {"ccs", "d2-pruning", "facility-location"}
    assert not any("error" in line for line in rows.values())
    assert (tmp_path / "s-3000x16.npy").exists()


def test_proxy_benchmark_scale_part():
    out = run("bench_proxy_scores.py", "--skip-pool", "--n", "3000", "--vocab", "500", "--train-size", "1000",
              "--epochs", "5")
    assert "scale: n=3000" in out


@pytest.mark.slow
@pytest.mark.skipif(not APRICOT.exists(), reason="apricot's venv is not at /tmp/apricot-venv")
def test_facility_location_benchmark_against_apricot():
    out = run("bench_facility_location.py", "--n", "1500", "--d", "32", "--k", "50", "--configs",
              "vlprune (auto),vlprune graph=knn", "--apricot-python", str(APRICOT))
    rows = [line.split() for line in out.splitlines() if line.startswith(("apricot", "vlprune"))]
    assert len(rows) == 3 and all(float(r[-3]) > 0.95 for r in rows)  # objective ratio to apricot's
