"""Ray, for real, on a local instance with 2 CPUs: batched embedding through Ray Data actors
and farthest-point through composable coresets. Slow (Ray starts worker processes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow

SAMPLE = Path("/work/shared/data/scienceqa-sample")


@pytest.fixture(scope="module")
def local_ray():
    import vlprune

    src = str(Path(vlprune.__file__).parents[1])  # workers import this checkout's vlprune
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": src}})
    yield ray
    ray.shutdown()


def hashing_embedder():
    """A per-record text embedder (each record's vector depends only on its own text), built
    inside a function so that Ray pickles the class by value to its workers."""
    from vlprune.embed.base import Embedder

    class HashingText(Embedder):
        name = "hashing-text"
        per_record = True

        def __init__(self, dim: int = 64) -> None:
            self.dim = dim

        def _embed(self, pool):
            from sklearn.feature_extraction.text import HashingVectorizer

            vec = HashingVectorizer(n_features=self.dim, alternate_sign=False, norm="l2")
            return vec.transform(pool.texts()).toarray().astype(np.float32)

    return HashingText()


def test_embedding_through_ray_data_actors_equals_one_process(local_ray, tmp_path):
    from vlprune import load_pool
    from vlprune.distributed import embed_with_ray

    pool = load_pool("scienceqa", str(SAMPLE)).subset(np.arange(300))
    embedder = hashing_embedder()
    expected = embedder.embed(pool)
    X = embed_with_ray(pool, embedder, batch_size=64, num_actors=2, progress=False)
    np.testing.assert_array_equal(X, expected)
    out = tmp_path / "emb.npy"
    on_disk = embed_with_ray(pool, embedder, batch_size=50, num_actors=2, out=out, progress=False)
    assert isinstance(on_disk, np.memmap)
    np.testing.assert_array_equal(np.load(out), expected)
    assert [p.name for p in tmp_path.iterdir()] == ["emb.npy"]  # no temporary left behind


def test_farthest_point_through_ray_equals_the_local_coreset_and_is_bounded(local_ray, tmp_path):
    from vlprune import FarthestPointSelector
    from vlprune.distributed import farthest_point_with_ray
    from vlprune.select.kcenter import coreset_farthest_point, farthest_point_order

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(60, 24))
    X = (centres[rng.integers(60, size=20_000)] + 0.3 * rng.normal(size=(20_000, 24))).astype(np.float32)
    k = 80
    rng = np.random.default_rng
    with_ray = farthest_point_with_ray(X, k, partitions=4, local_k=2 * k, rng=rng(5), backend="bounds")
    local = coreset_farthest_point(X, k, partitions=4, local_k=2 * k, rng=rng(5), backend="bounds")
    assert with_ray.order.tolist() == local.order.tolist()
    assert with_ray.covering_radius == pytest.approx(local.covering_radius, rel=1e-5)
    exact_run = farthest_point_order(X, k, rng=rng(5))
    exact = exact_run.radii[-1]
    assert with_ray.order[0] == exact_run.order[0]  # same Generator, same first centre
    assert with_ray.covering_radius <= with_ray.certified_factor * exact  # r* <= exact greedy
    assert with_ray.covering_radius <= with_ray.radius_bound * (1 + 1e-5)

    np.save(tmp_path / "x.npy", X)  # workers memory-map the file themselves
    from_file = farthest_point_with_ray(tmp_path / "x.npy", k, partitions=4, local_k=2 * k, rng=rng(5),
                                        backend="bounds")
    assert from_file.order.tolist() == with_ray.order.tolist()
    # The selector's executor option runs the same map.
    selected = FarthestPointSelector(optimizer="coreset", executor="ray", partitions=4, local_k=2 * k,
                                     backend="bounds").select(X, k, seed=5)
    assert selected.positions.tolist() == with_ray.order.tolist()
    assert selected.info["executor"] == "ray" and selected.info["partitions"] == 4
