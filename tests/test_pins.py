"""Selections pinned on the synthetic default: a refactor must not change what a seed selects.

Each selector picks k = 1,000 of the default synthetic train split (12,726 records) with seed
0; the first five ids and a hash of all 1,000 (in selection order) must stay as recorded. A
change of the synthetic generator (a new version) changes them legitimately: regenerate the
table with ``python tests/test_pins.py`` and say why in the commit.
"""

from __future__ import annotations

import hashlib

import pytest

from vlprune import get_selector, load_pool

K, SEED = 1000, 0

#: (selector, params) -> (first five ids, sha256 of all ids joined by newlines, 16 hex digits).
PINS = {
    ("random", ()): (['syn-train-09886', 'syn-train-02472', 'syn-train-05020', 'syn-train-11795', 'syn-train-11564'], "888e08fc00ebf581"),
    ("stratified", ()): (['syn-train-04333', 'syn-train-04190', 'syn-train-09924', 'syn-train-11695', 'syn-train-10191'], "923bf595c66bcd4c"),
    ("image-first", ()): (['syn-train-06138', 'syn-train-02305', 'syn-train-00530', 'syn-train-11123', 'syn-train-03587'], "ae2d8e3e4b4e04e2"),
    ("topic-coverage", ()): (['syn-train-02305', 'syn-train-03587', 'syn-train-06138', 'syn-train-06756', 'syn-train-11123'], "d65611c1da0b9fbe"),
    ("difficulty", ()): (['syn-train-06413', 'syn-train-07955', 'syn-train-01643', 'syn-train-10105', 'syn-train-01099'], "bcda1485241df1b1"),
    ("hand-rules", ()): (['syn-train-00782', 'syn-train-03862', 'syn-train-03777', 'syn-train-09938', 'syn-train-08246'], "5ee1c6a34bbae4aa"),
    ("farthest-point", (("embedder", "tfidf"),)): (['syn-train-10825', 'syn-train-01961', 'syn-train-06186', 'syn-train-09776', 'syn-train-00276'], "64026bbc32afd97b"),
}
#: The default embedder (MiniLM + pixels) takes minutes to embed the pool the first time.
SLOW_PINS = {
    ("farthest-point", ()): (['syn-train-10825', 'syn-train-07315', 'syn-train-10194', 'syn-train-10358', 'syn-train-11657'], "f3621f12a5a18bd8"),
}


def _selected(name: str, params: tuple) -> tuple[list[str], str]:
    pool = load_pool("synthetic", split="train")
    ids = get_selector(name, **dict(params)).select(pool, K, seed=SEED).ids
    return ids[:5], hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]


@pytest.mark.parametrize(("name", "params"), list(PINS), ids=[n for n, _ in PINS])
def test_selection_is_pinned(name, params):
    assert _selected(name, params) == PINS[(name, params)]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "params"), list(SLOW_PINS), ids=[n for n, _ in SLOW_PINS])
def test_selection_with_the_default_embedder_is_pinned(name, params):
    assert _selected(name, params) == SLOW_PINS[(name, params)]


if __name__ == "__main__":  # print the table anew (after a deliberate change of the data)
    for key in [*PINS, *SLOW_PINS]:
        first, digest = _selected(*key)
        print(f"    {key!r}: ({first!r}, {digest!r}),")
