"""What the model-based difficulty scores (el2n / loss / margin, select/proxy.py) cost.

Two measurements:

* ``pool``: a real pool (ScienceQA text's train split when ``--data`` is given, else the
  synthetic default) scored from a cold cache (embedding the contexts and choice texts, then
  ``folds`` probe fits and the scoring pass) and again from the warm cache (reading the
  stored scores back). ``--embedder`` chooses the text embedder (``minilm``, as the probe
  scorer; ``tfidf`` is much cheaper).
* ``scale``: the probe's part at LLaVA-665k size on synthetic vectors (the records' texts
  are not part of the benchmark data): n contexts of d = 384, a vocabulary of choice
  vectors, 2-5 choices per record; the time of :func:`cross_fitted_difficulty` (the folds'
  fits on at most ``train_size`` records each, and scoring all n) and its peak memory. At
  this size embedding the texts dominates (MiniLM on 665k contexts is hours on 2 CPU cores):
  compute scores on a GPU machine once and select with ``score=file:PATH``.

    python benchmarks/bench_proxy_scores.py --data ../shared/data/scienceqa-text --embedder minilm
    python benchmarks/bench_proxy_scores.py --skip-pool --n 665000
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCALE = """
import json, resource, time
import numpy as np
from vlprune.numeric import l2_normalise
from vlprune.select.proxy import cross_fitted_difficulty
rng = np.random.default_rng(0)
n, d, vocab = {n}, 384, {vocab}
choices = l2_normalise(rng.standard_normal((vocab, d), dtype=np.float32))
q = rng.standard_normal((n, d), dtype=np.float32)
l2_normalise(q, out=q)  # in place: no float64 or second copy of the contexts
width = 5
ids = rng.integers(0, vocab, size=(n, width))
mask = np.arange(width)[None, :] < rng.integers(2, width + 1, size=n)[:, None]
answer = (rng.random(n) * mask.sum(1)).astype(np.int64)
t0 = time.perf_counter()
out = cross_fitted_difficulty(q, ids, mask, answer, choices, folds={folds}, train_size={train_size},
                              epochs={epochs})
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({{"seconds": seconds, "peak_bytes": peak, "inputs_bytes": int(q.nbytes + ids.nbytes + mask.nbytes)}}))
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="ScienceQA text folder (default: the synthetic pool)")
    p.add_argument("--embedder", default="minilm")
    p.add_argument("--score", default="el2n", help="el2n, loss or margin (one fit gives all three)")
    p.add_argument("--skip-pool", action="store_true")
    p.add_argument("--skip-scale", action="store_true")
    p.add_argument("--n", type=int, default=665_000)
    p.add_argument("--vocab", type=int, default=50_000)
    p.add_argument("--folds", type=int, default=2)
    p.add_argument("--train-size", type=int, default=20_000)
    p.add_argument("--epochs", type=int, default=100)
    args = p.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}")

    if not args.skip_pool:
        from vlprune import load_pool
        from vlprune.select.scores import compute_scores

        pool = load_pool("scienceqa", args.data, split="train") if args.data else load_pool("synthetic")
        spec = f"{args.score}:embedder={args.embedder},folds={args.folds},epochs={args.epochs}"
        with tempfile.TemporaryDirectory() as cache:
            os.environ["VLPRUNE_CACHE_DIR"] = cache  # a cold cache: embeddings and scores
            t0 = time.perf_counter()
            compute_scores(spec, pool)
            cold = time.perf_counter() - t0
            t0 = time.perf_counter()
            compute_scores(spec, pool)
            warm = time.perf_counter() - t0
        print(f"pool: {len(pool)} records ({pool.reference.loader}), score {spec}: cold cache {cold:.1f} s "
              f"(embedding + {args.folds} fits + scoring), warm cache {warm:.2f} s; "
              f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")

    if not args.skip_scale:
        import json

        code = SCALE.format(n=args.n, vocab=args.vocab, folds=args.folds, train_size=args.train_size,
                            epochs=args.epochs)
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        if proc.returncode:
            raise SystemExit(proc.stderr[-2000:])
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"scale: n={args.n} (synthetic vectors, d=384, vocabulary {args.vocab}), {args.folds} folds x "
              f"{args.epochs} epochs on {args.train_size} records, scoring all: {out['seconds']:.1f} s, "
              f"peak RSS {out['peak_bytes'] / 2**30:.2f} GiB (inputs {out['inputs_bytes'] / 2**30:.2f} GiB)")


if __name__ == "__main__":
    main()
