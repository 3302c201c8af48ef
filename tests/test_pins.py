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
    ("stratified", ()): (['syn-train-06249', 'syn-train-00468', 'syn-train-07920', 'syn-train-07238', 'syn-train-07748'], "3a300c08f7f9b61b"),
    ("image-first", ()): (['syn-train-06138', 'syn-train-09960', 'syn-train-09980', 'syn-train-10201', 'syn-train-00530'], "e268b467d8886dcb"),
    ("topic-coverage", ()): (['syn-train-09960', 'syn-train-10201', 'syn-train-07082', 'syn-train-06138', 'syn-train-05448'], "60488f1c8fa06d49"),
    ("difficulty", ()): (['syn-train-06527', 'syn-train-10170', 'syn-train-04979', 'syn-train-00927', 'syn-train-02683'], "d3babcd69812d0fd"),
    ("hand-rules", ()): (['syn-train-01911', 'syn-train-10561', 'syn-train-08121', 'syn-train-06698', 'syn-train-02057'], "e1928b0f4eaa0ba2"),
    ("farthest-point", (("embedder", "tfidf"),)): (['syn-train-10825', 'syn-train-03050', 'syn-train-06055', 'syn-train-09406', 'syn-train-02506'], "8c6b8b25954a3cba"),
}
#: The default embedder (MiniLM + pixels) takes minutes to embed the pool the first time.
SLOW_PINS = {
    ("farthest-point", ()): (['syn-train-10825', 'syn-train-10408', 'syn-train-07643', 'syn-train-03770', 'syn-train-05053'], "41ce5717d2815ee4"),
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
