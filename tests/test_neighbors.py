"""k-means and nearest neighbours (select/neighbors.py) against brute force."""

import numpy as np
import pytest

from vlprune.errors import ConfigError
from vlprune.select.neighbors import kmeans, listwise_neighbors, nearest_neighbors


def _blobs(n_per=60, centres=((0, 0), (10, 0), (0, 10)), seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([np.asarray(c) + rng.normal(size=(n_per, 2)) for c in centres]).astype(np.float32)


def test_kmeans_finds_planted_blobs_and_is_deterministic():
    X = _blobs()
    a, b = kmeans(X, 3, seed=4), kmeans(X, 3, seed=4)
    assert np.array_equal(a.labels, b.labels) and np.array_equal(a.centroids, b.centroids)
    assert sorted(a.sizes.tolist()) == [60, 60, 60]
    # every blob is one cluster
    assert all(len(set(a.labels[i * 60:(i + 1) * 60])) == 1 for i in range(3))
    brute = np.linalg.norm(X - a.centroids[a.labels], axis=1)
    np.testing.assert_allclose(a.distances, brute, rtol=1e-4, atol=1e-4)
    assert sum(len(m) for m in a.members()) == len(X)


@pytest.mark.parametrize("metric", ["l2", "cosine"])
def test_exact_neighbours_match_brute_force(metric):
    X = np.random.default_rng(1).normal(size=(300, 8)).astype(np.float32)
    values, indices = nearest_neighbors(X, 5, metric=metric)
    Y = X / np.linalg.norm(X, axis=1, keepdims=True) if metric == "cosine" else X
    if metric == "cosine":
        S = Y @ Y.T
        np.fill_diagonal(S, -np.inf)
        expected = np.argsort(-S, axis=1, kind="stable")[:, :5]
        np.testing.assert_allclose(values, np.take_along_axis(S, expected, 1), rtol=1e-5, atol=1e-5)
    else:
        D = np.linalg.norm(Y[:, None] - Y[None], axis=2)
        np.fill_diagonal(D, np.inf)
        expected = np.argsort(D, axis=1, kind="stable")[:, :5]
        np.testing.assert_allclose(values, np.take_along_axis(D, expected, 1), rtol=1e-4, atol=1e-4)
    assert (indices != np.arange(300)[:, None]).all()
    assert (indices == expected).mean() > 0.99  # ties aside


def test_approximate_neighbours_find_the_planted_twins():
    X = _blobs(n_per=400)
    twins = X + 1e-3
    _, indices = nearest_neighbors(np.concatenate([X, twins]), 1, metric="l2", exact=False)
    n = len(X)
    assert (indices[:n, 0] == np.arange(n, 2 * n)).mean() > 0.95


def test_bad_arguments():
    with pytest.raises(ConfigError, match="n_neighbors"):
        nearest_neighbors(np.zeros((3, 2)), 3)
    with pytest.raises(ConfigError, match="metric"):
        kmeans(np.zeros((3, 2)), 1, metric="dot")
    with pytest.raises(ConfigError, match="clusters"):
        kmeans(np.zeros((3, 2)), 4)


@pytest.mark.parametrize("metric", ["l2", "cosine"])
def test_listwise_search_recalls_the_exact_neighbours(metric):
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(30, 16))
    X = (centres[rng.integers(0, 30, 3000)] + 0.3 * rng.normal(size=(3000, 16))).astype(np.float32)
    _, exact_i = nearest_neighbors(X, 10, metric=metric, exact=True)
    values, indices = listwise_neighbors(X, 10, metric=metric, nprobe=8, seed=1)
    again = listwise_neighbors(X, 10, metric=metric, nprobe=8, seed=1)
    assert np.array_equal(indices, again[1]) and np.array_equal(values, again[0])
    assert (indices != np.arange(3000)[:, None]).all()
    recall = (indices[:, :, None] == exact_i[:, None, :]).any(axis=2).mean()
    assert recall > 0.95
    # nearest first, and the values are the exact ones for what was found
    assert (np.diff(values, axis=1) >= 0).all() if metric == "l2" else (np.diff(values, axis=1) <= 0).all()
    Y = X / np.linalg.norm(X, axis=1, keepdims=True) if metric == "cosine" else X
    found = Y[indices]
    direct = np.einsum("ijk,ik->ij", found, Y) if metric == "cosine" else np.linalg.norm(found - Y[:, None], axis=2)
    np.testing.assert_allclose(values, direct, rtol=1e-4, atol=1e-4)


def test_listwise_search_probing_every_list_is_exact():
    X = np.random.default_rng(3).normal(size=(400, 6)).astype(np.float32)
    exact_v, exact_i = nearest_neighbors(X, 5, metric="l2", exact=True)
    values, indices = listwise_neighbors(X, 5, metric="l2", nprobe=20, lists=20)
    np.testing.assert_allclose(values, exact_v, rtol=1e-4, atol=1e-4)
    assert (indices == exact_i).mean() > 0.99  # ties aside
