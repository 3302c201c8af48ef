"""Which offline embedder fits the synthetic data best? (the evidence for ``default``)

For each candidate embedder, on the synthetic train split:

- **dup-NN**: of the problems that have a near-duplicate (a variant sharing its content, see
  ``vlprune.data.synthetic.generate``), the share whose nearest neighbour is one of them;
- **skill-NN**: the share of all problems whose nearest neighbour has the same skill;
- **img-NN**: the share whose nearest neighbour agrees on having a picture;
- for a farthest-point selection of ``--k`` problems (seed 0): **skills** covered,
  **redundant** picks (a pick whose near-duplicate cluster was already picked), the most
  picks from one skill, and the share of picks with a picture (the pool's share is printed).

Higher dup-NN / skill-NN means near-duplicates and same-skill problems land close; a
diverse selection then covers more skills with fewer redundant picks.

    PYTHONPATH=src python benchmarks/embed_quality.py                   # full train split
    PYTHONPATH=src python benchmarks/embed_quality.py --size small --k 200
"""

from __future__ import annotations

import argparse
import time

CANDIDATES = "tfidf,tfidf+pixels,pixels,minilm,minilm+pixels*0.5,minilm+pixels,minilm+pixels*2"


def nearest_neighbours(X):
    """Index of each row's nearest other row (L2), exact, in blocks."""
    import numpy as np

    X = np.ascontiguousarray(X, dtype=np.float32)
    sq = (X * X).sum(1)
    out = np.empty(len(X), dtype=np.int64)
    for start in range(0, len(X), 2048):
        block = X[start:start + 2048]
        d = sq[start:start + 2048, None] + sq[None, :] - 2 * block @ X.T
        d[np.arange(len(block)), np.arange(start, start + len(block))] = np.inf
        out[start:start + 2048] = d.argmin(1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="full")
    parser.add_argument("--seed", type=int, default=0, help="synthetic data seed")
    parser.add_argument("--k", type=int, default=1000)
    parser.add_argument("--embedders", default=CANDIDATES)
    args = parser.parse_args()

    import numpy as np

    from vlprune.data.loaders import load_pool
    from vlprune.data.synthetic.generate import make_problem
    from vlprune.embed import cached_embed
    from vlprune.select.farthest_point import FarthestPointSelector

    pool = load_pool("synthetic", split="train", size=args.size, seed=args.seed)
    index = np.array([int(i.rsplit("-", 1)[1]) for i in pool.ids])
    # a problem's near-duplicate cluster: the problem whose content it shares (the generator's
    # MadeProblem.root; remaking the problems is the public way to read it)
    roots = np.array([make_problem(args.seed, "train", int(i)).root for i in index])
    _, cluster, sizes = np.unique(roots, return_inverse=True, return_counts=True)
    in_dup = sizes[cluster] > 1
    skill = pool.table["skill"].to_numpy()
    has_img = pool.has_image
    print(f"pool: {len(pool)} problems, {in_dup.sum()} in near-duplicate clusters, "
          f"{len(set(skill))} skills, {has_img.mean():.0%} with a picture")

    rows = []
    for spec in args.embedders.split(","):
        t = time.perf_counter()
        X = np.asarray(cached_embed(spec, pool))
        nn = nearest_neighbours(X)
        sel = FarthestPointSelector(embedder="unused", start="random").select(X, args.k, seed=0).positions
        redundant = len(sel) - len(set(cluster[sel].tolist()))
        _, per_skill = np.unique(skill[sel], return_counts=True)
        rows.append((spec, (cluster[nn] == cluster)[in_dup].mean(), (skill[nn] == skill).mean(),
                     (has_img[nn] == has_img).mean(), len(per_skill), redundant, per_skill.max(),
                     has_img[sel].mean(), time.perf_counter() - t))
        print(f"  {spec}: done", flush=True)
    print()
    print(f"| embedder | dup-NN | skill-NN | img-NN | skills in k={args.k} | redundant | max per skill "
          f"| with picture | seconds |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for spec, dup, sk, img, covered, redundant, most, pictures, s in rows:
        print(f"| `{spec}` | {dup:.3f} | {sk:.3f} | {img:.3f} | {covered} | {redundant} | {most} "
              f"| {pictures:.0%} | {s:.0f} |")


if __name__ == "__main__":
    main()
